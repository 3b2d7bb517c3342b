"""A state machine's executions, found by ARN and by name without walking all of them.

moto keeps a state machine's executions in a list and walks it whole to find one:
DescribeExecution and GetExecutionHistory compare every execution's ARN (the Aggregate handler
reads its own history for every job), and StartExecution compares every execution's name (its
idempotency check). The cost of a job grows with every job before it: 0.24 ms per
DescribeExecution after 300 jobs, ~8 ms after 10,000 — a runtime left up for a week would slow
down by the day. `ExecutionList` is that list with an index kept by its own mutators (the
list's every way of adding and removing), so both lookups are one dictionary read; an ARN or
name it does not hold falls back to moto's own code, which answers (or refuses) as before.

ListExecutions sorted every execution by start date at every call (and walked the sorted list to
a page token's place): the status page, `mediaflow process` and the AWS CLI list the newest, so a
poll cost O(N log N) in every execution ever run. The list also keeps its executions in start
order, newest last, so a page is read from the newest (or from the token's execution) down:
O(page) without a status filter, O(executions walked past) with one. Pages and tokens are
moto's own (its Paginator over the page's candidates); a token this order cannot place goes to
moto's code, which answers or refuses it as before.

With a state store, finished executions also rest: a state machine keeps its last
`AWAKE_EXECUTIONS` finished ones (and every running one) in memory, the others only as their
row in the store (each one's Execution, indexes and snapshot reference were ~1.5 KB held for as
long as the runtime ran). One is rebuilt from its row when asked for by ARN or by name, and
ListExecutions then reads its page from the store (newest first), so a runtime left up for a
week holds only what is running and recent.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import count
from typing import Any

from moto.core.exceptions import AWSError, InvalidToken
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.utilities.paginator import Paginator
from sortedcontainers import SortedList

from mediaflow.moto_patches.at_rest import AwakeWindow
from mediaflow.state_store import ListedExecution, StateStore, StoredExecution

original_instance_init = sfn_models.StateMachineInstance.__init__
original_describe_execution = sfn_models.StepFunctionBackend.describe_execution
original_handle_name_input_idempotency = sfn_models.StateMachine._handle_name_input_idempotency
original_list_executions = sfn_models.StepFunctionBackend.list_executions
original_stop_execution = sfn_models.StepFunctionBackend.stop_execution
original_describe_state_machine_for_execution = sfn_models.StepFunctionBackend.describe_state_machine_for_execution

AWAKE_EXECUTIONS = 200  # finished executions kept in memory per state machine: the page's and the CLI's recent ones

# A finished execution rebuilt from its row, its input, output and history read from the store
# when asked (set by moto_patches.persist_to: it knows moto's Execution).
rebuild: Callable[[StoredExecution, StateStore], Any] | None = None
current_store: Callable[[], StateStore | None] = lambda: None  # noqa: E731 - the store executions are recorded in

LIST_PAGE_DEFAULT = 100  # moto's (and AWS's) page size when maxResults is 0 or not given
_UNIQUE = ["start_date", "execution_arn"]  # moto's pagination model: what a token names
RUNNING = ExecutionStatus.RUNNING.value


class ExecutionList(list):  # type: ignore[type-arg]
    """A list of executions that knows where each ARN and name is, and their start order."""

    def __init__(self, executions: Iterable[Any] = ()) -> None:
        super().__init__(executions)
        self.lock = threading.RLock()  # ListExecutions reads the order while executions start
        self.resting_in: StateStore | None = None  # set once a finished execution may rest there
        self._awake = AwakeWindow(lambda: AWAKE_EXECUTIONS, self._rest, "execution")
        self._reindex()

    def __deepcopy__(self, memo: dict[int, Any]) -> ExecutionList:
        # A copy of a state machine is a snapshot of its definition (moto copies one for every
        # execution, and a published version's source with it): its executions stay behind, as
        # moto leaves the original's behind. The list's lock cannot be copied anyway.
        return ExecutionList()

    def __reduce__(self) -> tuple[Any, ...]:
        return ExecutionList, (list(self),)  # its indexes and lock are rebuilt, not pickled

    def _reindex(self) -> None:
        with self.lock:
            # The first execution with an ARN or name is the one moto's walks would find.
            self.by_arn: dict[str, Any] = {}
            self.by_name: dict[str, Any] = {}
            # (start date, -place in the list, execution), oldest first: among equal start dates
            # the one placed later sorts first, so reading backwards is moto's stable sort.
            self.by_start: SortedList = SortedList()
            # The same entries for the executions not yet seen finished by a RUNNING listing
            # (one only leaves the list's RUNNING status for good: a redrive puts it back in).
            self.unfinished: SortedList = SortedList()
            self._entry_of: dict[str, tuple[Any, int, Any]] = {}
            self._places = count()
            for execution in self:
                self._index(execution)

    def _index(self, execution: Any) -> None:
        self.by_arn.setdefault(execution.execution_arn, execution)
        self.by_name.setdefault(execution.name, execution)
        entry = (execution.start_date, -next(self._places), execution)
        self.by_start.add(entry)
        self.unfinished.add(entry)
        self._entry_of.setdefault(execution.execution_arn, entry)

    def append(self, execution: Any) -> None:
        with self.lock:
            super().append(execution)
            self._index(execution)

    def set_start_date(self, execution: Any, start_date: Any) -> None:
        """Give `execution` another start date (a redrive keeps the original) and its place by it."""
        with self.lock:
            entry = self._entry_of.get(execution.execution_arn)
            execution.start_date = start_date
            if entry is None or entry[2] is not execution:
                return
            moved = (start_date, entry[1], execution)
            for order in (self.by_start, self.unfinished):
                if entry in order:
                    order.remove(entry)
                    order.add(moved)
            self._entry_of[execution.execution_arn] = moved

    # -- at rest ---------------------------------------------------------------------------

    def offer_to_rest(self, execution: Any, store: StateStore) -> None:
        """A finished execution whose row the store holds: it rests once it is not among the last
        `AWAKE_EXECUTIONS` finished ones touched."""
        with self.lock:
            self.resting_in = store
            self._awake.touch(execution.execution_arn)

    def lay_to_rest(self, store: StateStore) -> None:
        """A finished execution restored after a restart: its row is all there is of it."""
        with self.lock:
            self.resting_in = store

    def _rest(self, arn: str) -> None:
        execution = self.by_arn.get(arn)
        if execution is None or execution.exec_status in (None, ExecutionStatus.RUNNING):
            return  # running again (a redrive): offered again when it ends
        list.remove(self, execution)  # not the index-rebuilding remove
        del self.by_arn[arn]
        if self.by_name.get(execution.name) is execution:
            del self.by_name[execution.name]
        entry = self._entry_of.pop(arn, None)
        if entry is not None:
            self.by_start.discard(entry)
            self.unfinished.discard(entry)

    def wake(self, stored: StoredExecution | None) -> Any:
        """The execution a row holds, back in the list (None: no row, or not one that rests)."""
        store = self.resting_in
        if stored is None or store is None or rebuild is None or stored.status == RUNNING:
            return None
        with self.lock:
            awake = self.by_arn.get(stored.arn)  # woken by another request meanwhile
            if awake is None:
                awake = rebuild(stored, store)
                self.append(awake)
            self._awake.touch(stored.arn)
            return awake

    def readable_store(self) -> StateStore | None:
        store = self.resting_in
        return store if store is not None and not store.closed else None

    def store_to_read(self) -> StateStore | None:
        """The store executions rest in, while it is the one every new execution is recorded in
        (else one started meanwhile has no row: the list answers from memory, as moto does)."""
        store = self.readable_store()
        return store if store is not None and store is current_store() else None

    def page(self, status_filter: str | None, wanted: int, from_arn: str | None = None) -> list[Any] | None:
        """Up to `wanted` executions with the status, newest first, from `from_arn`'s (itself
        included); None if that ARN is not placed here or its start date changed since."""
        running = status_filter == RUNNING
        with self.lock:
            order = self.unfinished if running else self.by_start
            if from_arn is None:
                entries = reversed(order)
            else:
                entry = self._entry_of.get(from_arn)
                if entry is None or entry[2].start_date != entry[0]:
                    return None
                entries = order.irange(maximum=entry, reverse=True)
            found, finished = [], []
            for entry in entries:
                execution = entry[2]
                if execution.exec_status is None:  # appended, not started yet: no status to match
                    continue
                if status_filter and execution.status != status_filter:
                    if running:
                        finished.append(entry)
                    continue
                found.append(execution)
                if len(found) == wanted:
                    break
            for entry in finished:
                self.unfinished.remove(entry)
            return found


def _reindexing(method: Any) -> Any:
    def mutate(self: ExecutionList, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            result = method(self, *args, **kwargs)
            self._reindex()
            return result

    return mutate


# Every other way to change the list is rare (a redrive removes one and appends it again): the
# index is rebuilt.
_REINDEXING = ("remove", "extend", "insert", "pop", "clear", "sort", "reverse")
for _name in (*_REINDEXING, "__setitem__", "__delitem__", "__iadd__", "__imul__"):
    setattr(ExecutionList, _name, _reindexing(getattr(list, _name)))


def _instance_init(self: Any, *args: Any, **kwargs: Any) -> None:
    original_instance_init(self, *args, **kwargs)
    self.executions = ExecutionList(self.executions)


def _describe_execution(self: Any, execution_arn: str) -> Any:
    self._validate_execution_arn(execution_arn)
    executions = self._get_state_machine_for_execution(execution_arn).executions
    found = None
    if isinstance(executions, ExecutionList):
        found = executions.by_arn.get(execution_arn)
        if found is None and (store := executions.readable_store()) is not None:
            found = executions.wake(store.execution(execution_arn))
    return found if found is not None else original_describe_execution(self, execution_arn)


def _handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any:
    executions = self.executions
    if isinstance(executions, ExecutionList) and name not in executions.by_name:
        store = executions.readable_store()
        if store is None or executions.wake(store.execution_named(self.arn, name)) is None:
            return None  # no execution has the name: nothing to compare
    return original_handle_name_input_idempotency(self, name, execution_input)


def _stop_execution(self: Any, execution_arn: str) -> Any:
    _describe_execution(self, execution_arn)  # one at rest is woken first: moto looks in the list
    return original_stop_execution(self, execution_arn)


def _describe_state_machine_for_execution(self: Any, execution_arn: str) -> Any:
    with contextlib.suppress(AWSError):  # no such execution, a bad ARN: moto's own answer below says so
        _describe_execution(self, execution_arn)  # one at rest is woken first, as above
    return original_describe_state_machine_for_execution(self, execution_arn)


def _list_executions(
    self: Any,
    state_machine_arn: str,
    status_filter: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> tuple[list[Any], str | None]:
    executions = self.describe_state_machine(state_machine_arn).executions
    moto = lambda: original_list_executions(  # noqa: E731 - moto's answer, where this one cannot place a token
        self, state_machine_arn, status_filter=status_filter, max_results=max_results, next_token=next_token
    )
    if not isinstance(executions, ExecutionList):
        return moto()
    # The same Paginator moto's @paginate builds for this call, so its pages and tokens are moto's.
    paginator = Paginator(
        max_results=max_results,
        max_results_default=LIST_PAGE_DEFAULT,
        starting_token=next_token,
        unique_attribute=_UNIQUE,
        param_values_to_check={"status_filter": status_filter},
    )
    token = paginator._parsed_token
    wanted = (paginator._max_results or LIST_PAGE_DEFAULT) + 1  # one more tells the paginator a page follows
    from_arn = token["uniqueAttributes"].split("|")[-1] if token else None
    store = executions.store_to_read()
    if store is not None:
        return _stored_page(executions, store, state_machine_arn, status_filter, paginator, from_arn, wanted)
    page = executions.page(status_filter, wanted, from_arn)
    if page is None or (token and (not page or not paginator._check_predicate(page[0]))):
        return moto()  # a token this order cannot place (or whose execution no longer matches)
    return paginator.paginate(page)


class _Listed:
    """An execution at rest as ListExecutions shows it (its row's start date, to the millisecond)."""

    __slots__ = ("execution_arn", "name", "start_date", "status", "stop_date")

    def __init__(self, row: ListedExecution) -> None:
        self.execution_arn, self.name, self.status = row.arn, row.name, row.status
        self.start_date = datetime.fromisoformat(row.start_date)
        self.stop_date = datetime.fromisoformat(row.stop_date) if row.stop_date else None


def _stored_page(
    executions: ExecutionList,
    store: StateStore,
    state_machine_arn: str,
    status_filter: str | None,
    paginator: Paginator,
    from_arn: str | None,
    wanted: int,
) -> tuple[list[Any], str | None]:
    """A page read from the store: every execution of the state machine has its row (recorded
    as it starts, its end before it is visible); the awake ones are shown as they are in memory."""
    rows = store.execution_page(state_machine_arn, status_filter, from_arn, wanted)
    if rows is None:
        raise InvalidToken("Resource not found!")  # moto's answer for a token naming no execution
    page = [executions.by_arn.get(row.arn) or _Listed(row) for row in rows]
    size = wanted - 1
    return page[:size], paginator._build_next_token(page[size]) if len(page) > size else None


def apply() -> None:
    sfn_models.StateMachineInstance.__init__ = _instance_init  # type: ignore[method-assign]
    sfn_models.StepFunctionBackend.describe_execution = _describe_execution  # type: ignore[method-assign]
    sfn_models.StateMachine._handle_name_input_idempotency = _handle_name_input_idempotency  # type: ignore[method-assign]
    sfn_models.StepFunctionBackend.list_executions = _list_executions  # type: ignore[method-assign]
    sfn_models.StepFunctionBackend.stop_execution = _stop_execution  # type: ignore[method-assign]
    sfn_models.StepFunctionBackend.describe_state_machine_for_execution = _describe_state_machine_for_execution  # type: ignore[method-assign]

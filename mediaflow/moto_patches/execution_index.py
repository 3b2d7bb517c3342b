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
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from itertools import count
from typing import Any

from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.utilities.paginator import Paginator
from sortedcontainers import SortedList

original_instance_init = sfn_models.StateMachineInstance.__init__
original_describe_execution = sfn_models.StepFunctionBackend.describe_execution
original_handle_name_input_idempotency = sfn_models.StateMachine._handle_name_input_idempotency
original_list_executions = sfn_models.StepFunctionBackend.list_executions

LIST_PAGE_DEFAULT = 100  # moto's (and AWS's) page size when maxResults is 0 or not given
_UNIQUE = ["start_date", "execution_arn"]  # moto's pagination model: what a token names
RUNNING = ExecutionStatus.RUNNING.value


class ExecutionList(list):  # type: ignore[type-arg]
    """A list of executions that knows where each ARN and name is, and their start order."""

    def __init__(self, executions: Iterable[Any] = ()) -> None:
        super().__init__(executions)
        self.lock = threading.RLock()  # ListExecutions reads the order while executions start
        self._reindex()

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
    found = executions.by_arn.get(execution_arn) if isinstance(executions, ExecutionList) else None
    return found if found is not None else original_describe_execution(self, execution_arn)


def _handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any:
    if isinstance(self.executions, ExecutionList) and name not in self.executions.by_name:
        return None  # no execution has the name: nothing to compare
    return original_handle_name_input_idempotency(self, name, execution_input)


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
    page = executions.page(status_filter, wanted, from_arn)
    if page is None or (token and (not page or not paginator._check_predicate(page[0]))):
        return moto()  # a token this order cannot place (or whose execution no longer matches)
    return paginator.paginate(page)


def apply() -> None:
    sfn_models.StateMachineInstance.__init__ = _instance_init  # type: ignore[method-assign]
    sfn_models.StepFunctionBackend.describe_execution = _describe_execution  # type: ignore[method-assign]
    sfn_models.StateMachine._handle_name_input_idempotency = _handle_name_input_idempotency  # type: ignore[method-assign]
    sfn_models.StepFunctionBackend.list_executions = _list_executions  # type: ignore[method-assign]

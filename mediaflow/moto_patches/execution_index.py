"""A state machine's executions, found by ARN and by name without walking all of them.

moto keeps a state machine's executions in a list and walks it whole to find one:
DescribeExecution and GetExecutionHistory compare every execution's ARN (the Aggregate handler
reads its own history for every job), and StartExecution compares every execution's name (its
idempotency check). The cost of a job grows with every job before it: 0.24 ms per
DescribeExecution after 300 jobs, ~8 ms after 10,000 — a runtime left up for a week would slow
down by the day. `ExecutionList` is that list with an index kept by its own mutators (the
list's every way of adding and removing), so both lookups are one dictionary read; an ARN or
name it does not hold falls back to moto's own code, which answers (or refuses) as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from moto.stepfunctions import models as sfn_models

original_instance_init = sfn_models.StateMachineInstance.__init__
original_describe_execution = sfn_models.StepFunctionBackend.describe_execution
original_handle_name_input_idempotency = sfn_models.StateMachine._handle_name_input_idempotency


class ExecutionList(list):  # type: ignore[type-arg]
    """A list of executions that knows where each ARN and name is."""

    def __init__(self, executions: Iterable[Any] = ()) -> None:
        super().__init__(executions)
        self._reindex()

    def _reindex(self) -> None:
        # The first execution with an ARN or name is the one moto's walks would find.
        self.by_arn: dict[str, Any] = {}
        self.by_name: dict[str, Any] = {}
        for execution in self:
            self.by_arn.setdefault(execution.execution_arn, execution)
            self.by_name.setdefault(execution.name, execution)

    def append(self, execution: Any) -> None:
        super().append(execution)
        self.by_arn.setdefault(execution.execution_arn, execution)
        self.by_name.setdefault(execution.name, execution)


def _reindexing(method: Any) -> Any:
    def mutate(self: ExecutionList, *args: Any, **kwargs: Any) -> Any:
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


def apply() -> None:
    sfn_models.StateMachineInstance.__init__ = _instance_init  # type: ignore[method-assign]
    sfn_models.StepFunctionBackend.describe_execution = _describe_execution  # type: ignore[method-assign]
    sfn_models.StateMachine._handle_name_input_idempotency = _handle_name_input_idempotency  # type: ignore[method-assign]

"""The one way the Step Functions patches fail a state with a States.* error: moto's
FailureEventException, with the event details its history writer expects for that event type."""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails


def state_failure(
    env: Any,
    error: StatesErrorNameType,
    cause: str,
    event_type: HistoryEventType = HistoryEventType.ExecutionFailed,
) -> FailureEventException:
    """`error` with `cause`, raised from the state being evaluated (Retry and Catch see it)."""
    name = error.to_name()
    if event_type == HistoryEventType.TaskFailed:
        details = EventDetails(taskFailedEventDetails=TaskFailedEventDetails(error=name, cause=cause))
    else:
        details = EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(error=name, cause=cause))
    return FailureEventException(
        failure_event=FailureEvent(
            env=env, error_name=StatesErrorName(typ=error), event_type=event_type, event_details=details
        )
    )

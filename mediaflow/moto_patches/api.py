"""The Step Functions API as AWS answers it: DescribeExecution, StartExecution, SendTaskFailure,
GetExecutionHistory.

moto 5.2.5 builds the answer from its older mock model: a string output goes out unencoded (the
JSON text `"done"` comes back as `done`), `inputDetails` and the redrive fields are missing, and
the stop date of a running execution is dropped only by accident. The engine's own execution
object already knows how to describe itself; this adds what RedriveExecution needs.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.exceptions import (
    InvalidExecutionInput,
    InvalidName,
    InvalidToken,
    NameTooLongException,
    ValidationException,
)
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType

original_describe_execution = sfn_responses.StepFunctionResponse.describe_execution
original_start_execution = sfn_responses.StepFunctionResponse.start_execution
original_get_execution_history = sfn_responses.StepFunctionResponse.get_execution_history
REDRIVABLE = {ExecutionStatus.FAILED, ExecutionStatus.ABORTED, ExecutionStatus.TIMED_OUT}


def redrive_fields(execution: Any) -> dict[str, Any]:
    """redriveCount/redriveDate (set by a redrive: run_again), and whether it can be redriven."""
    if getattr(execution, "redrive_count", 0) is None:  # restored after a restart: counted once, from its history
        redriven = [
            e for e in execution.to_history_output()["events"] if e["type"] == HistoryEventType.ExecutionRedriven
        ]
        execution.redrive_count = len(redriven)
        execution.redrive_date = redriven[-1]["timestamp"] if redriven else None
    fields: dict[str, Any] = {"redriveCount": getattr(execution, "redrive_count", 0)}
    if getattr(execution, "redrive_date", None) is not None:
        fields["redriveDate"] = execution.redrive_date
    status = execution.exec_status
    if status in REDRIVABLE:
        fields["redriveStatus"] = "REDRIVABLE"
    else:
        fields["redriveStatus"] = "NOT_REDRIVABLE"
        fields["redriveStatusReason"] = f"Execution is {status.value} and cannot be redriven"
    return fields


def _describe_execution(self: Any) -> ActionResult:
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    described = dict(execution.to_describe_output())
    for optional in ("stopDate", "traceHeader"):
        if described.get(optional) is None:
            described.pop(optional, None)
    described["status"] = execution.exec_status.value
    described.update(redrive_fields(execution))
    return ActionResult(described)


# -- StartExecution's checks ------------------------------------------------------------------
#
# moto names an execution started without a name "None" (so the second such start is
# ExecutionAlreadyExists), takes any name, and any input size. AWS generates a UUID, refuses
# names with whitespace, wildcards, brackets or the special characters, and inputs over 256 KiB.

EXECUTION_INPUT_LIMIT = 262_144
_INVALID_NAME = re.compile(r"[\s?*<>{}\[\]\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def check_execution_name(name: str) -> None:
    if len(name) > 80:
        raise NameTooLongException(name)
    if not name or _INVALID_NAME.search(name):
        raise InvalidName(f"Invalid Name: '{name}'")


def check_execution_input(text: str) -> None:
    if len(text.encode()) > EXECUTION_INPUT_LIMIT:
        raise ValidationException(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {EXECUTION_INPUT_LIMIT}"
        )
    try:
        json.loads(text)
    except ValueError as error:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{error}'") from error


def _start_execution(self: Any) -> ActionResult:
    name = self._get_param("name") or str(uuid.uuid4())
    execution_input = self._get_param("input", if_none="{}")
    check_execution_name(name)
    check_execution_input(execution_input)
    execution = self.stepfunction_backend.start_execution(self._get_param("stateMachineArn"), name, execution_input)
    return ActionResult({"executionArn": execution.execution_arn, "startDate": execution.start_date})


def _send_task_failure(self: Any) -> ActionResult:
    """moto dropped `cause`: the failed Task's Catch saw `"Cause": null`."""
    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return ActionResult({})


# -- GetExecutionHistory ------------------------------------------------------------------------
#
# moto answers with every event at once (no maxResults, no nextToken), ignores reverseOrder and
# includeExecutionData, and runs each event through its generic shape serialiser: ~20 ms for an
# image job's 45 events, the engine's largest cost per job once Aggregate reads the history for
# the job's cost (bench/bench_runtime.py). The events already are the API's shapes, so they are
# written out as JSON directly, a page at a time, as AWS pages them.

HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX = 100, 1000
_EXECUTION_DATA = ("input", "output")


def _epoch(value: Any) -> float:
    """A history timestamp (a datetime, or the ISO text the engine records) as the JSON protocol
    sends it: seconds since the epoch, to the millisecond."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return round(moment.timestamp(), 3)


def _wire(value: Any, keep_data: bool) -> Any:
    """An event as the wire has it: no null members; execution data only when asked for."""
    if isinstance(value, dict):
        return {
            key: _wire(item, keep_data)
            for key, item in value.items()
            if item is not None and (keep_data or key not in _EXECUTION_DATA)
        }
    if isinstance(value, list):
        return [_wire(item, keep_data) for item in value]
    return value


def _history_token(arn: str, offset: int, reverse: bool) -> str:
    return base64.urlsafe_b64encode(json.dumps([arn, offset, reverse]).encode()).decode()


def _history_offset(token: str | None, arn: str, reverse: bool) -> int:
    if not token:
        return 0
    try:
        token_arn, offset, token_reverse = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as error:
        raise InvalidToken(f"Invalid token: {token}") from error
    if token_arn != arn or token_reverse != reverse or not isinstance(offset, int) or offset < 0:
        raise InvalidToken(f"Invalid token: {token}")
    return offset


@dataclass(frozen=True)
class StoredEventPages:
    """A finished execution's history as the store pages it: how many events, and a window of
    them, so a page decodes its own events only (a 25,000-event history read a page at a time
    decoded every event at every page)."""

    count: Callable[[], int]
    window: Callable[[int, int, bool], list[dict[str, Any]]]  # (offset, size, newest_first)


def _page_size(max_results: int) -> int:
    if not 0 <= max_results <= HISTORY_PAGE_MAX:
        raise ValidationException(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {HISTORY_PAGE_MAX}"
        )
    return max_results or HISTORY_PAGE_DEFAULT


def history_page(
    events: list[dict[str, Any]] | StoredEventPages,
    arn: str,
    max_results: int,
    token: str | None,
    reverse: bool,
    keep_data: bool,
) -> dict[str, Any]:
    """One page of GetExecutionHistory's answer, in the wire's shapes: from the events in memory
    (a running execution) or from the store (a finished one)."""
    size = _page_size(max_results)
    offset = _history_offset(token, arn, reverse)
    if isinstance(events, StoredEventPages):
        total, window = events.count(), events.window(offset, size, reverse)
    else:
        ordered = events[::-1] if reverse else events
        total, window = len(ordered), ordered[offset : offset + size]
    page: dict[str, Any] = {
        "events": [{**_wire(event, keep_data), "timestamp": _epoch(event["timestamp"])} for event in window]
    }
    if offset + size < total:
        page["nextToken"] = _history_token(arn, offset + size, reverse)
    return page


def _get_execution_history(self: Any) -> str:
    arn = self._get_param("executionArn")
    execution = self.stepfunction_backend.describe_execution(arn)
    stored = getattr(execution.exec_worker, "page_of_events", None)  # a finished execution's
    page = history_page(
        stored if stored is not None else list(execution.to_history_output()["events"]),
        arn,
        int(self._get_param("maxResults") or 0),
        self._get_param("nextToken"),
        bool(self._get_param("reverseOrder")),
        self._get_param("includeExecutionData") is not False,
    )
    self.response_headers["Content-Type"] = "application/x-amz-json-1.0"
    return json.dumps(page)


def apply() -> None:
    sfn_responses.StepFunctionResponse.get_execution_history = _get_execution_history
    sfn_responses.StepFunctionResponse.describe_execution = _describe_execution
    sfn_responses.StepFunctionResponse.start_execution = _start_execution
    sfn_responses.StepFunctionResponse.send_task_failure = _send_task_failure

"""DescribeExecution as AWS answers it.

moto 5.2.5 builds the answer from its older mock model: a string output goes out unencoded (the
JSON text `"done"` comes back as `done`), `inputDetails` and the redrive fields are missing, and
the stop date of a running execution is dropped only by accident. The engine's own execution
object already knows how to describe itself; this adds what RedriveExecution needs.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType

original_describe_execution = sfn_responses.StepFunctionResponse.describe_execution
REDRIVABLE = {ExecutionStatus.FAILED, ExecutionStatus.ABORTED, ExecutionStatus.TIMED_OUT}


def redrive_fields(execution: Any) -> dict[str, Any]:
    """redriveCount/redriveDate from the history's ExecutionRedriven events, and whether it can be."""
    events = execution.to_history_output()["events"] if execution.exec_worker or execution.stop_date else []
    redriven = [event for event in events if event["type"] == HistoryEventType.ExecutionRedriven]
    fields: dict[str, Any] = {"redriveCount": len(redriven)}
    if redriven:
        fields["redriveDate"] = redriven[-1]["timestamp"]
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


def apply() -> None:
    sfn_responses.StepFunctionResponse.describe_execution = _describe_execution

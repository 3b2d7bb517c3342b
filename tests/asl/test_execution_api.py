"""StartExecution, DescribeExecution and RedriveExecution as the Step Functions API reference
defines them (names, input limits, output encoding, redrive fields)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.asl.harness import ROLE, machine, pass_state, wait_finished


@pytest.fixture(scope="module")
def arn(sfn: Any) -> str:
    definition = machine({"P": pass_state(Result="done")})
    return sfn.create_state_machine(
        name=f"api-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_executions_started_without_a_name_get_their_own(sfn: Any, arn: str) -> None:
    first = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    second = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert first != second
    assert uuid.UUID(first.rsplit(":", 1)[1]).version == 4


@pytest.mark.parametrize("name", ["has space", "semi;colon", "slash/name", "star*", "brace{"])
def test_invalid_execution_names_are_refused(sfn: Any, arn: str, name: str) -> None:
    assert _error(lambda: sfn.start_execution(stateMachineArn=arn, name=name)) == (
        "InvalidName",
        f"Invalid Name: '{name}'",
    )


def test_an_execution_name_over_80_characters_is_refused(sfn: Any, arn: str) -> None:
    code, message = _error(lambda: sfn.start_execution(stateMachineArn=arn, name="x" * 81))
    assert code == "ValidationException" and "less than or equal to 80" in message


def test_input_over_256_kib_is_refused(sfn: Any, arn: str) -> None:
    code, message = _error(lambda: sfn.start_execution(stateMachineArn=arn, input=json.dumps({"a": "x" * 262_144})))
    assert code == "ValidationException" and "262144" in message


def test_input_that_is_not_json_is_refused(sfn: Any, arn: str) -> None:
    code, message = _error(lambda: sfn.start_execution(stateMachineArn=arn, input="{not json"))
    assert code == "InvalidExecutionInput" and message.startswith("Invalid State Machine Execution Input")


def test_describe_execution_answers_as_aws(sfn: Any, arn: str) -> None:
    execution = sfn.start_execution(stateMachineArn=arn, input='{"k": 1}')["executionArn"]
    described = wait_finished(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert described["output"] == '"done"'  # JSON text, as AWS writes a string output
    assert described["input"] == '{"k":1}'
    assert described["inputDetails"] == {"included": True} and described["outputDetails"] == {"included": True}
    assert described["redriveCount"] == 0
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    assert described["stopDate"] >= described["startDate"]


def test_a_failed_execution_is_redrivable_and_redriven(sfn: Any) -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "F"}, "F": {"Type": "Fail", "Error": "E", "Cause": "c"}})
    arn = sfn.create_state_machine(
        name=f"redrive-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    described = wait_finished(sfn, execution)
    assert described["status"] == "FAILED" and described["redriveStatus"] == "REDRIVABLE"
    sfn.redrive_execution(executionArn=execution)
    described = wait_finished(sfn, execution)
    assert described["status"] == "FAILED"  # it fails again at F: the redrive ran from the failed state
    assert described["redriveCount"] == 1 and "redriveDate" in described
    types = [event["type"] for event in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types.count("ExecutionRedriven") == 1
    assert types.count("PassStateEntered") == 1  # A was not run again


def test_a_restored_execution_reports_its_redrives_from_its_stored_history(sfn: Any, tmp_path: Path) -> None:
    """After a restart an execution comes back from the state store; its redrive count is read
    from its history once, when DescribeExecution first asks (live ones carry it from the redrive)."""
    from moto.stepfunctions.parser import models as parser_models

    from mediaflow import moto_patches
    from mediaflow.state_store import StateStore

    definition = machine({"A": {"Type": "Pass", "Next": "F"}, "F": {"Type": "Fail", "Error": "E", "Cause": "c"}})
    arn = sfn.create_state_machine(
        name=f"restored-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution_arn = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_finished(sfn, execution_arn)["status"] == "FAILED"
    sfn.redrive_execution(executionArn=execution_arn)
    before = wait_finished(sfn, execution_arn)
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]

    backend = parser_models.stepfunctions_parser_backends[arn.split(":")[4]][arn.split(":")[3]]
    machine_record = backend.describe_state_machine(arn)
    machine_record.executions[:] = [e for e in machine_record.executions if e.exec_arn != execution_arn]
    store = StateStore(tmp_path)  # what the restart reads it from
    store.start_execution(
        execution_arn, arn, execution_arn.rsplit(":", 1)[1], before["input"], before["startDate"].isoformat()
    )
    store.finish_execution(
        execution_arn, before["status"], before["stopDate"].isoformat(), None, before["error"], before["cause"]
    )
    for event in events:
        store.add_event(execution_arn, event)
    (stored,) = store.executions()
    reads = []
    read_events = store.events
    store.events = lambda arn: reads.append(1) or read_events(arn)  # type: ignore[method-assign]
    moto_patches.restore_execution(stored, store)

    after = sfn.describe_execution(executionArn=execution_arn)
    assert (after["redriveCount"], after["redriveDate"]) == (
        1,
        next(e["timestamp"] for e in events if e["type"] == "ExecutionRedriven"),
    )
    again = sfn.describe_execution(executionArn=execution_arn)
    assert len(reads) == 1  # read once, not at every describe
    assert (again["input"], again["status"], again["cause"]) == (before["input"], "FAILED", "c")

    # Its history, a page at a time from the store (each page decodes its own events only).
    def paged(**kwargs: Any) -> list[tuple[int, str]]:
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn, **kwargs)
        return [(e["id"], e["type"]) for page in pages for e in page["events"]]

    live = [(e["id"], e["type"]) for e in events]
    assert paged(PaginationConfig={"PageSize": 2}) == live
    assert paged(reverseOrder=True, PaginationConfig={"PageSize": 3}) == live[::-1]
    first = sfn.get_execution_history(executionArn=execution_arn, maxResults=1, includeExecutionData=False)
    assert first["events"][0]["type"] == "ExecutionStarted" and "nextToken" in first
    assert "input" not in first["events"][0]["executionStartedEventDetails"]
    assert len(reads) == 1, "pages are read by window, not by reading the whole history again"

"""What the AWS CLI sees of the local stack: functions, state machine settings, history order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mediaflow.stack import LocalStack
from mediaflow.web import http_api_event
from tests.integration.jobs import run_upload
from tests.integration.test_retry_and_cli import _aws, _aws_json

pytestmark = pytest.mark.integration


def test_lambda_functions_are_listed_described_and_invocable(stack: LocalStack, tmp_path: Path) -> None:
    listed = {f["FunctionName"]: f for f in _aws_json(stack, "lambda", "list-functions")["Functions"]}
    names = {stack.template.physical_ids[logical] for logical in ("ValidateFunction", "StatusApiFunction")}
    assert names <= set(listed), sorted(listed)
    validate = listed[stack.template.physical_ids["ValidateFunction"]]
    assert (validate["Runtime"], validate["Handler"], validate["Architectures"]) == (
        "python3.12",
        "app.handler",
        ["arm64"],
    )
    assert validate["Environment"]["Variables"]["MAX_UPLOAD_BYTES"] == stack.template.parameters["MaxUploadBytes"]

    api = stack.template.physical_ids["StatusApiFunction"]
    assert _aws_json(stack, "lambda", "get-function", "--function-name", api)["Configuration"]["FunctionName"] == api
    event = http_api_event("GET", "/health", "", {"Host": "127.0.0.1"}, b"")
    out = tmp_path / "out.json"
    reply = _aws_json(
        stack,
        "lambda",
        "invoke",
        "--function-name",
        api,
        "--payload",
        json.dumps(event),
        str(out),
    )
    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    assert json.loads(json.loads(out.read_text())["body"]) == {"status": "ok"}

    describe = stack.template.physical_ids["DescribeUploadFunction"]
    failed = _aws_json(
        stack,
        "lambda",
        "invoke",
        "--function-name",
        describe,
        "--payload",
        "{}",
        str(out),
    )
    assert failed["FunctionError"] == "Unhandled" and json.loads(out.read_text())["errorType"] == "KeyError"


def test_the_state_machine_reports_logging_and_tracing_as_deployed(stack: LocalStack) -> None:
    described = _aws_json(
        stack, "stepfunctions", "describe-state-machine", "--state-machine-arn", stack.state_machine_arn
    )
    assert described["loggingConfiguration"]["level"] == "ALL"
    assert described["loggingConfiguration"]["includeExecutionData"] is True
    assert described["tracingConfiguration"] == {"enabled": True}


def test_history_in_reverse_order(stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["coffee.jpg"].read_bytes() + b"rev", "uploads/reverse.jpg")
    arn = run.execution["executionArn"]
    reverse = _aws_json(stack, "stepfunctions", "get-execution-history", "--execution-arn", arn, "--reverse-order")
    types = [event["type"] for event in reverse["events"]]
    assert types[0] == "ExecutionSucceeded" and types[-1] == "ExecutionStarted"
    assert "ExecutionSucceeded" in _aws(stack, "stepfunctions", "get-execution-history", "--execution-arn", arn)

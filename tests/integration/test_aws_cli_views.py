"""What the AWS CLI sees of the local stack: functions, state machine settings, history order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    assert validate["Environment"]["Variables"]["MAX_VIDEO_BYTES"] == stack.template.parameters["MaxVideoBytes"]

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

    # What `process` polls: only the events after the last one seen, read newest first a page at a time.
    history = stack.execution_history(arn)
    assert stack.events_after(arn, 0, page_size=7) == history
    for seen in (1, 6, 7, 8, len(history) - 1, len(history)):
        assert stack.events_after(arn, seen, page_size=7) == history[seen:]


def test_function_logs_reach_cloudwatch_logs_with_start_end_and_report(
    stack: LocalStack, samples: dict[str, Path]
) -> None:
    run = run_upload(stack, samples["rocket.jpg"].read_bytes() + b"logs", "uploads/logged.jpg")
    assert stack.log_shipper is not None
    stack.log_shipper.ship()
    group = f"/aws/lambda/{stack.template.physical_ids['ValidateFunction']}"
    messages = [
        event["message"] for event in _aws_json(stack, "logs", "filter-log-events", "--log-group-name", group)["events"]
    ]
    assert any(m.startswith("START RequestId: ") for m in messages)
    assert any(m.startswith("END RequestId: ") for m in messages)
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert reports and all("Billed Duration: " in m and "Memory Size: 1024 MB" in m for m in reports)
    powertools = [json.loads(m) for m in messages if m.startswith("{")]
    validated = [line for line in powertools if line.get("message") == "upload validated"]
    assert any(line.get("correlation_id") == run.execution["executionArn"] for line in validated)


def test_mediaflow_logs_prints_a_functions_lines(stack: LocalStack, samples: dict[str, Path]) -> None:
    run_upload(stack, samples["coffee.jpg"].read_bytes() + b"logs2", "uploads/logged-2.jpg")
    assert stack.log_shipper is not None
    stack.log_shipper.ship()
    command = [sys.executable, "-m", "mediaflow.cli", "logs", "DescribeUpload", "--endpoint", stack.endpoint]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "300"}
    )
    assert completed.returncode == 0, completed.stderr
    assert "upload described" in completed.stdout and "REPORT RequestId:" in completed.stdout
    unknown = subprocess.run([*command[:-3], "Nope", *command[-2:]], capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "no function 'Nope'" in unknown.stdout

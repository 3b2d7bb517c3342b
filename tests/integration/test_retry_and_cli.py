"""Retry/Catch as the ASL says, and the real AWS CLI against the local endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediaflow.lambda_workers import InvocationResult
from mediaflow.stack import LocalStack
from tests.integration.jobs import fail_first_invoke, function_error, function_pool, run_upload

pytestmark = pytest.mark.integration

AWS_CLI = Path(sys.executable).with_name("aws")


def test_lambda_service_error_is_retried_then_succeeds(
    stack: LocalStack, samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail_first_invoke(function_pool(stack, "TransformImageFunction"), monkeypatch)
    run = run_upload(stack, samples["coffee.jpg"].read_bytes() + b"retry", "uploads/retry.jpg")

    assert run.status == "SUCCEEDED", run.execution
    assert len(calls) == 2, "Lambda.ServiceException is retried once, then the second attempt succeeds"
    failures = [e for e in run.history if e["type"] == "TaskFailed"]
    assert [f["taskFailedEventDetails"]["error"] for f in failures] == ["Lambda.ServiceException"]


def test_function_error_is_caught_not_retried(
    stack: LocalStack, samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = function_pool(stack, "TransformImageFunction")
    calls: list[int] = []

    def failing_invoke(payload: bytes) -> InvocationResult:
        calls.append(1)
        return function_error("KeyError", "'renditions'")

    monkeypatch.setattr(pool, "invoke", failing_invoke)
    run = run_upload(stack, samples["coffee.jpg"].read_bytes() + b"catch", "uploads/catch.jpg")

    assert run.status == "FAILED"
    assert run.execution["error"] == "KeyError"
    assert len(calls) == 1, "a handler's own error is not in the Retry list"
    assert run.job["status"] == "FAILED" and run.job["error"] == "KeyError"


def _aws(stack: LocalStack, *args: str) -> str:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "mediaflow",
        "AWS_SECRET_ACCESS_KEY": "mediaflow",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [str(AWS_CLI), "--endpoint-url", stack.endpoint, *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return result.stdout


def _aws_json(stack: LocalStack, *args: str) -> dict:
    return json.loads(_aws(stack, *args))


def test_aws_cli_upload_starts_an_execution_with_full_history(
    stack: LocalStack, samples: dict[str, Path], tmp_path: Path
) -> None:
    photo = tmp_path / "from cli.jpg"
    photo.write_bytes(samples["rocket.jpg"].read_bytes() + b"cli")
    copied = _aws(stack, "s3", "cp", str(photo), f"s3://{stack.bucket}/uploads/from cli.jpg")
    assert "upload:" in copied

    deadline = time.monotonic() + 60
    execution = None
    others: set[str] = set()  # executions of other uploads: described once (each call is an `aws` process)
    while time.monotonic() < deadline:
        listed = _aws_json(stack, "stepfunctions", "list-executions", "--state-machine-arn", stack.state_machine_arn)
        for candidate in listed["executions"]:
            if candidate["executionArn"] in others:
                continue
            described = _aws_json(
                stack, "stepfunctions", "describe-execution", "--execution-arn", candidate["executionArn"]
            )
            if "from+cli.jpg" not in described["input"]:
                others.add(candidate["executionArn"])
            elif described["status"] != "RUNNING":
                execution = described
        if execution:
            break
        time.sleep(0.2)

    assert execution is not None and execution["status"] == "SUCCEEDED"
    history = _aws_json(stack, "stepfunctions", "get-execution-history", "--execution-arn", execution["executionArn"])
    types = [event["type"] for event in history["events"]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    # DescribeUpload, RecordJob, Validate, TransformImage, DetectImageObjects, Aggregate, RecordSuccess, NotifySuccess
    assert types.count("TaskSucceeded") == 8
    event = json.loads(execution["input"])
    assert event["detail-type"] == "Object Created" and event["source"] == "aws.s3"
    assert event["detail"]["object"]["key"] == "uploads/from+cli.jpg"

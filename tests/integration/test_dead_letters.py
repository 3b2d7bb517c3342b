"""The intake never loses an event: a StartExecution that keeps failing leaves the upload's
event in the dead-letter queue, and `mediaflow replay` turns it into exactly one job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from mediaflow.stack import LocalStack
from tests.integration.jobs import emails_about

pytestmark = pytest.mark.integration


class ThrottlingException(Exception):
    code = "ThrottlingException"


def _waiting(stack: LocalStack) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.dead_letter_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _replay(stack: LocalStack) -> str:
    command = [sys.executable, "-m", "mediaflow.cli", "replay", "--endpoint", stack.endpoint]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "300"}
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def _finished(stack: LocalStack, key: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        executions = stack.executions_for(key)
        if len(executions) == count and all(e["status"] != "RUNNING" for e in executions):
            return executions
        time.sleep(0.2)
    raise TimeoutError(key)


def test_a_throttled_start_lands_in_the_dead_letter_queue_and_replays_to_one_job(
    stack: LocalStack, samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "uploads/dead letter.jpg"

    def throttled(*_: Any, **__: Any) -> Any:
        raise ThrottlingException("Rate exceeded")

    monkeypatch.setattr(StepFunctionsParserBackend, "start_execution", throttled)
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=samples["coffee.jpg"].read_bytes() + b"dlq")
    deadline = time.monotonic() + 30
    while _waiting(stack) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    monkeypatch.undo()
    assert _waiting(stack) == 1 and stack.executions_for(key) == [], "kept, not started, not lost"
    (message,) = stack.client("sqs").receive_message(
        QueueUrl=stack.dead_letter_queue_url, MessageAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "ThrottlingException"
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "uploads/dead+letter.jpg"

    replayed = _replay(stack)
    assert "uploads/dead+letter.jpg → arn:aws:states:" in replayed and "Replayed 1 event(s)" in replayed
    (execution,) = _finished(stack, key, 1)
    assert execution["status"] == "SUCCEEDED"
    job = stack.job_for_execution(execution["executionArn"])
    assert job is not None and job["status"] == "SUCCEEDED"
    assert "Replayed 0 event(s)" in _replay(stack), "nothing is replayed twice"

    # A second copy of the same event (EventBridge delivers at least once) replays harmlessly.
    stack.client("sqs").send_message(QueueUrl=stack.dead_letter_queue_url, MessageBody=message["Body"])
    assert "Replayed 1 event(s)" in _replay(stack)
    executions = _finished(stack, key, 2)
    history = stack.execution_history(executions[-1]["executionArn"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered == ["DescribeUpload", "RecordJob", "DuplicateEvent"]
    assert len(emails_about(stack, job["jobId"])) == 1

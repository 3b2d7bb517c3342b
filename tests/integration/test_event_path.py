"""The event path: keys encoded once as S3 encodes them, every replay of an upload's event a
harmless duplicate, folder markers ignored rather than failed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from mediaflow.stack import LocalStack
from tests.integration.jobs import emails_about, finished, run_upload

pytestmark = pytest.mark.integration


def _entered(stack: LocalStack, execution_arn: str) -> list[str]:
    history = stack.execution_history(execution_arn)
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


def _replay(stack: LocalStack, event: dict[str, Any], key: str, name: str) -> list[str]:
    event = json.loads(json.dumps(event))
    event["detail"]["object"]["key"] = key
    started = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn, name=name, input=json.dumps(event)
    )
    ended = finished(stack, started["executionArn"])
    assert ended["status"] == "SUCCEEDED", ended
    return _entered(stack, started["executionArn"])


def test_every_replay_of_an_odd_key_is_a_duplicate(stack: LocalStack, samples: dict[str, Path]) -> None:
    key = "uploads/dup space+plus.jpg"
    first = run_upload(stack, samples["coffee.jpg"].read_bytes() + b"dup", key)
    assert first.status == "SUCCEEDED", first.execution
    event = json.loads(first.execution["input"])
    encoded = event["detail"]["object"]["key"]
    assert encoded == "uploads/dup+space%2Bplus.jpg"

    for number, replayed_key in enumerate([encoded, key, encoded, key]):
        entered = _replay(stack, event, replayed_key, f"dup-replay-{number}")
        assert entered == ["DescribeUpload", "RecordJob", "DuplicateEvent"], (replayed_key, entered)

    # A replay through EventBridge itself (PutEvents) is not encoded a second time either.
    stack.client("events").put_events(
        Entries=[{"Source": "aws.s3", "DetailType": "Object Created", "Detail": json.dumps(event["detail"])}]
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(stack.executions_for(key)) < 6:
        time.sleep(0.2)
    executions = stack.executions_for(key)
    assert len(executions) == 6
    newest = finished(stack, executions[-1]["executionArn"])
    assert newest["status"] == "SUCCEEDED"
    assert _entered(stack, newest["executionArn"]) == ["DescribeUpload", "RecordJob", "DuplicateEvent"]
    assert len(emails_about(stack, first.job["jobId"])) == 1


def test_a_folder_marker_is_ignored_without_a_job_or_an_email(stack: LocalStack) -> None:
    emails_before = len(stack.outbox.read())
    run = run_upload(stack, b"", "uploads/holiday album/")
    assert run.status == "SUCCEEDED", run.execution
    assert run.states_entered() == ["DescribeUpload", "IgnoreFolderObject"]
    assert run.job == {} and run.outputs == []
    assert len(stack.outbox.read()) == emails_before


def test_an_empty_file_is_still_a_failed_job_not_a_folder(stack: LocalStack) -> None:
    run = run_upload(stack, b"", "uploads/empty.jpg")
    assert run.status == "FAILED" and run.job["error"] == "EmptyMedia"


def test_following_an_upload_reads_the_executions_since_it_not_every_one(
    stack: LocalStack, samples: dict[str, Path]
) -> None:
    """The bug: finding an upload's execution (`mediaflow process`, every poll until it starts)
    described every execution the state dir held once, and listed them all at every poll, so a
    runtime left up for a week made each new job slower to follow. With the upload's ETag the
    client reads ListExecutions newest first down to the upload only."""
    from mediaflow.stack_client import StackClient

    photo = samples["coffee.jpg"].read_bytes()
    for number in range(3):  # executions before the one followed
        older = run_upload(stack, photo + f"older {number}".encode(), f"uploads/older-{number}.jpg")
        assert older.status == "SUCCEEDED"
    time.sleep(1.1)  # the upload's Last-Modified (whole seconds) after the older ones' starts
    key = "uploads/followed.jpg"
    followed = run_upload(stack, photo + b"followed", key)
    etag = json.loads(followed.execution["input"])["detail"]["object"]["etag"]

    def described_by_a_new_client(*args: str | None) -> tuple[list[str], int]:
        client = StackClient(stack.template, stack.endpoint)
        calls: list[str] = []
        client.client("stepfunctions").meta.events.register(
            "before-call.sfn.DescribeExecution", lambda **_: calls.append("describe")
        )
        found = client.executions_for(*args)  # type: ignore[arg-type]
        return [execution["executionArn"] for execution in found], len(calls)

    everything = stack.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)
    assert len(everything["executions"]) >= 4
    found, described = described_by_a_new_client(key, etag)
    assert found == [followed.execution["executionArn"]]
    assert described == 2, "its own execution: once to learn its object, once for the answer"
    found_by_key, described_by_key = described_by_a_new_client(key, None)  # no ETag: every execution
    assert found_by_key == found and described_by_key >= len(everything["executions"]) + 1

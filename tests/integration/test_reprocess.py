"""Reprocess: a finished job runs again as a new attempt, with other settings if asked, while
duplicates of the upload's original event stay harmless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mediaflow.stack import LocalStack
from tests.integration.jobs import emails_about, finished, run_upload

pytestmark = pytest.mark.integration


def _mediaflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediaflow.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )


def _rendition_keys(stack: LocalStack, job_id: str) -> list[str]:
    return sorted(key.rsplit("/", 1)[-1] for key in stack.list_outputs(job_id) if "/renditions/" in key)


def test_reprocess_with_other_widths_is_a_new_attempt_of_the_same_job(
    stack: LocalStack, samples: dict[str, Path]
) -> None:
    first = run_upload(stack, samples["hubble_deep_field.jpg"].read_bytes() + b"again", "uploads/again.jpg")
    job_id = first.job["jobId"]
    assert first.job["attempt"] == "1" and _rendition_keys(stack, job_id) == [
        "w320.jpg",
        "w320.webp",
        "w640.jpg",
        "w640.webp",
    ]

    completed = _mediaflow("reprocess", job_id, "--parameter", "RenditionWidths=200", "--endpoint", stack.endpoint)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("uploads/again.jpg: attempt 2 → arn:aws:states:")
    second = finished(stack, completed.stdout.rsplit(" ", 1)[-1].strip())
    assert second["status"] == "SUCCEEDED"
    record = stack.job(job_id)
    assert record is not None and record["attempt"] == "2" and record["executionArn"] == second["executionArn"]
    assert _rendition_keys(stack, job_id) == ["w200.jpg", "w200.webp"], "this attempt's outputs, none before"
    assert len(emails_about(stack, job_id)) == 2

    # EventBridge delivers at least once: the upload's original event stays a duplicate.
    replay = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn, name="again-original", input=first.execution["input"]
    )
    finished(stack, replay["executionArn"])
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in stack.execution_history(replay["executionArn"])
        if "stateEnteredEventDetails" in e
    ]
    assert entered == ["DescribeUpload", "RecordJob", "DuplicateEvent"]
    assert stack.job(job_id)["attempt"] == "2"


def test_reprocess_refuses_what_the_template_refuses_and_unknown_jobs(stack: LocalStack) -> None:
    refused = _mediaflow("reprocess", "nope", "--parameter", "RenditionWidths=abc", "--endpoint", stack.endpoint)
    assert refused.returncode == 2 and "RenditionWidths='abc' must match" in refused.stdout
    fixed = _mediaflow("reprocess", "nope", "--parameter", "UploadPrefix=x/", "--endpoint", stack.endpoint)
    assert fixed.returncode == 2 and "UploadPrefix cannot change per run" in fixed.stdout
    unknown = _mediaflow("reprocess", "uploads/never.jpg", "--endpoint", stack.endpoint)
    assert unknown.returncode == 2 and "no job with the id or upload key 'uploads/never.jpg'" in unknown.stdout


def test_the_api_reprocesses_a_failed_job_by_id(api: str, stack: LocalStack, samples: dict[str, Path]) -> None:
    key = "uploads/fixed later.jpg"
    failed = run_upload(stack, b"", key)
    assert failed.status == "FAILED"
    for body, message in [
        ({"overrides": {"RenditionWidths": "abc"}}, "overrides may set"),
        ({"overrides": {"UploadPrefix": "x/"}}, "overrides may set"),
        ({"overrides": {"JpegQuality": "99"}}, "JpegQuality must be between 1 and 95"),
    ]:
        response = requests.post(f"{api}/jobs/{failed.job['jobId']}/reprocess", json=body, timeout=30)
        assert response.status_code == 400 and message in response.json()["message"], response.text
    assert requests.post(f"{api}/jobs/no-such-job/reprocess", json={}, timeout=30).status_code == 404

    # Reprocessing an empty upload fails again, for the same reason, as its next attempt.
    response = requests.post(f"{api}/jobs/{failed.job['jobId']}/reprocess", json={}, timeout=30)
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["attempt"] == 2
    again = finished(stack, started["executionArn"])
    assert again["status"] == "FAILED" and again["error"] == "EmptyMedia"
    assert json.loads(again["input"])["mediaflowReprocess"]["attempt"] == 2
    assert stack.job(failed.job["jobId"])["attempt"] == "2"

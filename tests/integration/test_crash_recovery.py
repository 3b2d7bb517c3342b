"""`mediaflow up` killed with SIGKILL, then started again on the same state dir: nothing is lost.

Each test runs the real command in its own process group, uploads through the AWS wire
protocol (boto3), kills the whole group with SIGKILL at a chosen point of the workflow, starts
it again and checks that every upload's job ends exactly once: one job record in a final
status, one email, one set of outputs. Also: moving a state dir, refusing one from another
format version, an idle restart, and --fresh.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import boto3
import pytest

from mediaflow.emulator import free_port
from mediaflow.template import bind_template
from mediaflow_shared.contract.record import FINISHED_EXECUTION_STATUSES, FINISHED_JOB_STATUSES
from tests.integration.test_cli import MEDIAFLOW

pytestmark = pytest.mark.integration

TEMPLATE = bind_template(Path(__file__).resolve().parents[2] / "template.yaml")
BUCKET = TEMPLATE.physical_ids["MediaBucket"]
TABLE = TEMPLATE.physical_ids["JobsTable"]


class Up:
    """`mediaflow up` on fixed ports (links in emails stay the same across restarts)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port, self.web_port = free_port(), free_port()
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []

    def start(self, *extra: str) -> Up:
        command = [*MEDIAFLOW, "up", "--port", str(self.port), "--web-port", str(self.web_port)]
        self.process = subprocess.Popen(
            [*command, "--state-dir", str(self.state_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: the kill takes the Lambda workers too
            env={**os.environ, "COLUMNS": "300"},
        )
        assert self.process.stdout is not None
        self.lines = []
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if "MediaFlow is up" in line:
                return self
        raise AssertionError("\n".join(self.lines))

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    @property
    def state_machine_arn(self) -> str:
        return self.client("stepfunctions").list_state_machines()["stateMachines"][0]["stateMachineArn"]

    def executions(self) -> list[dict[str, Any]]:
        return self.client("stepfunctions").list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def entered(self, execution_arn: str) -> list[str]:
        history = self.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)
        return [e["stateEnteredEventDetails"]["name"] for e in history["events"] if "stateEnteredEventDetails" in e]

    def wait_until_entered(self, state: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(state in self.entered(e["executionArn"]) for e in self.executions()):
                return
            time.sleep(0.1)
        raise TimeoutError(f"no execution entered {state}")

    def jobs_when_done(self, count: int, timeout: float = 240) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = self.client("dynamodb").scan(TableName=TABLE)["Items"]
            executions = self.executions()
            done = all(e["status"] in FINISHED_EXECUTION_STATUSES for e in executions)
            if len(items) == count and done and all(i["status"]["S"] in FINISHED_JOB_STATUSES for i in items):
                return items
            time.sleep(0.3)
        raise TimeoutError(f"jobs not finished: {items}")

    def emails(self) -> list[Any]:
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted((self.state_dir / "outbox").glob("*.eml"))
        ]

    def outputs(self, job_id: str) -> list[str]:
        listing = self.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"outputs/{job_id}/")
        return [obj["Key"] for obj in listing.get("Contents", [])]


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path / "state")
    yield running
    running.stop()


def _upload(up: Up, path: Path, key: str) -> None:
    up.client("s3").upload_file(str(path), BUCKET, key)


def _assert_each_job_ended_once(up: Up, jobs: list[dict[str, Any]], uploads: set[str]) -> None:
    assert {job["key"]["S"] for job in jobs} == uploads, "one record per upload"
    assert all(job["status"]["S"] == "SUCCEEDED" and job["attempt"]["N"] == "1" for job in jobs), jobs
    emails = up.emails()
    for job in jobs:
        about = [m for m in emails if job["jobId"]["S"] in m.get_content()]
        assert len(about) == 1, f"{job['key']['S']}: {len(about)} emails"
        results = [key for key in up.outputs(job["jobId"]["S"]) if key.endswith("results.json")]
        assert len(results) == 1
    assert len(emails) == len(jobs)


def test_killed_before_validate_every_upload_ends_once(up: Up, samples: dict[str, Path]) -> None:
    up.start()
    names = ["coffee.jpg", "rocket.jpg", "astronaut-portrait-exif6.jpg"]
    for name in names:
        _upload(up, samples[name], f"uploads/{name}")
    up.kill()  # at once: the executions have begun, the Lambda workers are still starting cold

    up.start()
    assert f"recovered {len(names)} job(s) interrupted by a crash" in up.lines, up.lines
    redriven = [line for line in up.lines if "recovered job for s3://" in line]
    assert len(redriven) == len(names)
    assert all(line.endswith(("from DescribeUpload", "from RecordJob", "from Validate")) for line in redriven), redriven
    jobs = up.jobs_when_done(len(names))
    _assert_each_job_ended_once(up, jobs, {f"uploads/{name}" for name in names})
    for execution in up.executions():  # the same executions, redriven: not new ones
        history = up.client("stepfunctions").get_execution_history(executionArn=execution["executionArn"])
        types = [event["type"] for event in history["events"]]
        assert types.count("ExecutionRedriven") <= 1 and types[-1] == "ExecutionSucceeded"
    assert len(up.executions()) == len(names)


def test_killed_mid_map_the_video_ends_once(up: Up, samples: dict[str, Path]) -> None:
    up.start()
    _upload(up, samples["astronaut-pan.mp4"], "uploads/walk.mp4")
    up.wait_until_entered("DetectBatch")
    up.kill()

    up.start()
    (line,) = [line for line in up.lines if "recovered job for" in line]
    assert "uploads/walk.mp4" in line and "redriven from SampleSegments" in line
    jobs = up.jobs_when_done(1)
    _assert_each_job_ended_once(up, jobs, {"uploads/walk.mp4"})


def test_killed_between_record_success_and_notify_success_one_email(
    up: Up, samples: dict[str, Path], tmp_path: Path
) -> None:
    """An SMTP relay that accepts and never answers holds NotifySuccess open (the .eml is written first)."""
    with socket.socket() as silent_smtp:
        silent_smtp.bind(("127.0.0.1", 0))
        silent_smtp.listen()
        up.start("--smtp", f"127.0.0.1:{silent_smtp.getsockname()[1]}")
        _upload(up, samples["rocket.jpg"], "uploads/rocket.jpg")
        up.wait_until_entered("NotifySuccess")
        time.sleep(0.5)
        up.kill()
    assert len(up.emails()) == 1, "the message was in the outbox before the relay hung"

    up.start()
    assert any("redriven from NotifySuccess" in line for line in up.lines), up.lines
    jobs = up.jobs_when_done(1)
    _assert_each_job_ended_once(up, jobs, {"uploads/rocket.jpg"})


def test_a_moved_state_dir_reopens_with_everything(up: Up, samples: dict[str, Path], tmp_path: Path) -> None:
    up.start()
    _upload(up, samples["coffee.jpg"], "uploads/coffee.jpg")
    (job,) = up.jobs_when_done(1)
    executions, outputs = up.executions(), up.outputs(job["jobId"]["S"])
    up.stop()

    moved = Up(tmp_path / "elsewhere" / "state")
    (tmp_path / "elsewhere").mkdir()
    up.state_dir.rename(moved.state_dir)
    try:
        moved.start()
        assert not any("recovered" in line for line in moved.lines), "a clean stop leaves nothing to recover"
        assert any(line.startswith("restored ") and "nothing was interrupted" in line for line in moved.lines)
        assert [e["executionArn"] for e in moved.executions()] == [e["executionArn"] for e in executions]
        (again,) = moved.jobs_when_done(1)
        assert again == job
        assert moved.outputs(job["jobId"]["S"]) == outputs and len(outputs) >= 2
        head = moved.client("s3").head_object(Bucket=BUCKET, Key="uploads/coffee.jpg")
        assert head["ETag"].strip('"') == job["etag"]["S"], "the same object, the same ETag"
        history = moved.client("stepfunctions").get_execution_history(executionArn=executions[0]["executionArn"])
        assert history["events"][-1]["type"] == "ExecutionSucceeded"
    finally:
        moved.stop()


def test_an_idle_restart_recovers_nothing(up: Up) -> None:
    up.start()
    up.stop()
    up.start()
    assert not any("recovered" in line or "restored" in line for line in up.lines), up.lines
    assert up.executions() == []


def test_fresh_starts_empty(up: Up, samples: dict[str, Path]) -> None:
    up.start()
    _upload(up, samples["rocket.jpg"], "uploads/rocket.jpg")
    up.jobs_when_done(1)
    up.stop()
    up.start("--fresh")
    assert up.executions() == [] and up.client("dynamodb").scan(TableName=TABLE)["Items"] == []
    assert "Contents" not in up.client("s3").list_objects_v2(Bucket=BUCKET)


def test_a_state_dir_from_another_format_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "old"
    state.mkdir()
    with sqlite3.connect(state / "state.sqlite3") as database:
        database.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        database.execute("INSERT INTO meta VALUES ('format', '99')")
    completed = subprocess.run(
        [*MEDIAFLOW, "up", "--port", "0", "--state-dir", str(state)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2, completed
    assert "holds MediaFlow local state in format 99" in completed.stdout and "--fresh" in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr

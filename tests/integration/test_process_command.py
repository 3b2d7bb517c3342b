"""`mediaflow process`, the command `make run` uses: its own stack, a summary, the outputs copied out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_process_reports_each_file_copies_outputs_and_fails_on_a_bad_file(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken photo.jpg"
    broken.write_bytes(samples["rocket.jpg"].read_bytes()[:5000])
    video = samples["astronaut-pan.mp4"]
    output = tmp_path / "out"

    command = [sys.executable, "-m", "mediaflow.cli", "process", "--state-dir", str(tmp_path / "state")]
    completed = subprocess.run(
        [*command, "--output", str(output), str(video), str(broken)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )

    assert completed.returncode == 1, "one file failed: the command says so in its exit status"
    summary = completed.stdout
    assert "CorruptMedia: uploads/broken photo.jpg cannot be decoded" in summary, summary
    assert "Traceback" not in summary, "the reason in words, not the Lambda error document"
    assert "Traceback" not in completed.stderr, completed.stderr
    assert "astronaut-pan.mp4: person from 0 s to 12 s" in summary, summary  # the video's timeline
    assert "astronaut-pan.mp4: scene 1 from 0 s to 12 s (person)" in summary, summary  # one continuous shot
    results = json.loads((output / "astronaut-pan.mp4" / "results.json").read_text())
    assert results["timeline"][0]["label"] == "person"
    assert (output / "astronaut-pan.mp4" / "contact-sheet.jpg").stat().st_size > 0
    job = json.loads((output / "astronaut-pan.mp4" / "job.json").read_text())
    assert job["status"] == "SUCCEEDED" and job["kind"] == "video"
    failed = output / "broken photo.jpg"
    assert [path.name for path in failed.iterdir()] == ["job.json"], "a failed job has no outputs, only its record"
    assert json.loads((failed / "job.json").read_text())["key"] == "uploads/broken photo.jpg"
    emails = list((tmp_path / "state" / "outbox").glob("*.eml"))
    assert len(emails) == 2, "a success and a failure email"


def test_a_timeout_is_one_line_and_the_other_files_still_run(samples: dict[str, Path], tmp_path: Path) -> None:
    """The bug: --timeout expiry printed a TimeoutError traceback and skipped the remaining files."""
    command = [sys.executable, "-m", "mediaflow.cli", "process", "--state-dir", str(tmp_path / "state")]
    files = [str(samples["rocket.jpg"]), str(samples["coffee.jpg"])]
    completed = subprocess.run(
        [*command, "--output", str(tmp_path / "out"), "--timeout", "0", *files],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert output.count("not finished after 0 s") == 2, output
    assert "Traceback" not in output, output


def test_a_duplicate_event_is_reported_as_a_duplicate(capsys: pytest.CaptureFixture[str]) -> None:
    """The bug: a duplicate showed as a red ✗ DynamoDB.ConditionalCheckFailedException."""
    from rich.console import Console

    from mediaflow.progress import FileJob, ProgressView, _apply

    view = ProgressView(Console(force_terminal=False, width=200))
    failed = {"type": "TaskFailed", "taskFailedEventDetails": {"error": "DynamoDB.ConditionalCheckFailedException"}}
    _apply(FileJob("x.jpg", "uploads/x.jpg", "e", 1, 0), failed, view)
    printed = capsys.readouterr().out
    assert "already processed" in printed and "✗" not in printed

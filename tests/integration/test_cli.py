"""The `mediaflow` command fails fast and clearly, and `process` shows what happens, file by file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from tests.integration.test_up_console import _start

pytestmark = pytest.mark.integration

MEDIAFLOW = [sys.executable, "-m", "mediaflow.cli"]


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEDIAFLOW, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"}
    )


def test_help_and_version() -> None:
    assert "Usage: python -m mediaflow.cli process" in _run("process", "-h").stdout
    version = _run("--version")
    assert version.returncode == 0 and version.stdout.startswith("mediaflow, version ")


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("RenditionWidths=abc", "error: --parameter RenditionWidths='abc' must match"),
        ("NoSuchThing=1", "error: --parameter unknown parameter NoSuchThing"),
        ("JpegQuality", "error: --parameter 'JpegQuality': expected Name=Value"),
    ],
)
def test_a_bad_parameter_is_one_line_before_anything_starts(parameter: str, message: str, tmp_path: Path) -> None:
    photo = tmp_path / "x.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    completed = _run("process", "--state-dir", str(tmp_path / "s"), "--parameter", parameter, str(photo), timeout=60)
    assert completed.returncode == 2
    assert completed.stdout.strip() == message or completed.stdout.startswith(message), completed.stdout
    assert len(completed.stdout.strip().splitlines()) == 1 and "Traceback" not in completed.stderr
    assert not (tmp_path / "s").exists(), "nothing started"


def test_a_busy_port_is_one_line_and_a_quick_exit(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        for option in ("--port", "--web-port"):
            other = "--web-port" if option == "--port" else "--port"
            completed = _run("up", "--state-dir", str(tmp_path), option, port, other, "0", timeout=60)
            assert completed.returncode == 2, completed
            assert f"127.0.0.1:{port} is in use" in completed.stdout and option in completed.stdout
            assert "Traceback" not in completed.stdout + completed.stderr


def test_process_keeps_equal_names_apart_and_shows_each_states_duration(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    first, second = tmp_path / "d1" / "x.jpg", tmp_path / "d2" / "x.jpg"
    first.write_bytes(samples["rocket.jpg"].read_bytes())
    second.write_bytes(samples["coffee.jpg"].read_bytes())
    output = tmp_path / "out"
    completed = _run("process", "--state-dir", str(tmp_path / "s"), "--output", str(output), str(first), str(second))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "Starting the local stack…"
    assert any(line.strip().startswith("x.jpg ✓ Validate") and line.endswith(" ms") for line in lines), lines
    assert any(line.strip().startswith("x (2).jpg ✓ Validate") for line in lines), lines
    assert {p.name for p in output.iterdir()} == {"x.jpg", "x (2).jpg"}
    sources = {
        json.loads((output / name / "results.json").read_text())["source"]["key"] for name in ("x.jpg", "x (2).jpg")
    }
    assert sources == {"uploads/x.jpg", "uploads/x (2).jpg"}, "two uploads, neither overwriting the other"


def test_process_can_use_a_running_up(samples: dict[str, Path], tmp_path: Path) -> None:
    process, page, endpoint, _lines = _start(tmp_path / "up")
    try:
        completed = _run(
            "process", "--endpoint", endpoint, "--output", str(tmp_path / "out"), str(samples["rocket.jpg"])
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Starting the local stack" not in completed.stdout
    assert (tmp_path / "out" / "rocket.jpg" / "results.json").exists()
    (email,) = (tmp_path / "up" / "outbox").glob("*.eml")  # the running stack sent it
    body = message_from_bytes(email.read_bytes(), policy=default).get_content()
    assert f"Execution: {page}#execution=arn:aws:states:" in body, "the link opens the job on the local page"


def test_ctrl_c_stops_process_cleanly(samples: dict[str, Path], tmp_path: Path) -> None:
    """The bug: Ctrl-C left a KeyboardInterrupt traceback in a function's log."""
    state = tmp_path / "state"
    command = [*MEDIAFLOW, "process", "--state-dir", str(state), "--output", str(tmp_path / "out")]
    running = subprocess.Popen(
        [*command, str(samples["astronaut-pan.mp4"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        # As a terminal's foreground command: a test run started in the background (a CI job, `cmd &`)
        # hands its children SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert running.stdout is not None
    seen = []
    for line in running.stdout:
        seen.append(line)
        if "✓ Validate" in line:  # mid-job: functions are running
            running.send_signal(signal.SIGINT)
            break
    rest, _ = running.communicate(timeout=120)
    output = "".join(seen) + rest
    assert running.returncode == 130, output
    assert "Interrupted" in output and "Traceback" not in output, output
    for log in (state / "logs").glob("*.log"):
        assert "KeyboardInterrupt" not in log.read_text(), log.name

"""`mediaflow up` keeps its console for the user: what goes wrong inside the runtime goes to
<state dir>/logs/runtime.log, never as a traceback on the console."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration


def _start(state_dir: Path) -> tuple[subprocess.Popen[str], str, str, list[str]]:
    command = [sys.executable, "-m", "mediaflow.cli", "up", "--state-dir", str(state_dir), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--web-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    text = "".join(lines)
    page = re.search(r"Status page: (http://\S+)", text)
    endpoint = re.search(r"AWS endpoint\s+(http://\S+)", text)
    assert page and endpoint, text
    return process, page.group(1), endpoint.group(1), lines


def _send(url: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_bad_requests_leave_no_traceback_on_the_console(tmp_path: Path) -> None:
    process, page, endpoint, lines = _start(tmp_path / "state")
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}),
        )
        bucket = s3.list_buckets()["Buckets"][0]["Name"]
        for call in (
            lambda: s3.put_object(Bucket=bucket, Key="uploads/" + "x" * 1100, Body=b"1"),
            lambda: s3.get_object(Bucket=bucket, Key="uploads/missing.jpg"),
            lambda: s3.get_object(Bucket="no-such-bucket", Key="x"),
        ):
            with pytest.raises(ClientError):
                call()
        assert _send(endpoint, "POST", "/moto-api/reset", {"Origin": "http://evil.example"}) == 403
        assert _send(endpoint, "PUT", f"/{bucket}?lifecycle", {"Content-Length": "9"}, b"<garbage>") >= 400
        assert _send(page, "POST", "/api/uploads", {"Content-Length": "5"}, b"\xff\xfe{}{") == 400
        assert _send(page, "DELETE", "/api/jobs", {}) == 405
        assert requests.post(f"{page}api/uploads", data=b"[" * 30000, timeout=30).status_code in (400, 413)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    console = "".join(lines) + rest
    assert process.returncode == 0, console
    assert "Traceback" not in console, console
    assert (tmp_path / "state" / "logs" / "runtime.log").exists()

"""The local endpoints refuse what a hostile web page could send them, and answer bad input
with JSON errors instead of hanging (mediaflow/request_guard.py, mediaflow/web.py)."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from mediaflow.stack import LocalStack
from mediaflow.web import StatusPageServer

pytestmark = pytest.mark.integration

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def page(stack: LocalStack) -> Iterator[StatusPageServer]:
    server = StatusPageServer(stack, port=0).start()
    yield server
    server.stop()


def _raw(url: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """One request with exactly these headers (requests would fix Host and Content-Length)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in {"Host": parts.netloc, **headers}.items():
        connection.putheader(name, value)
    connection.endheaders(body or None)
    response = connection.getresponse()
    status, data = response.status, response.read()
    connection.close()
    return status, data


def test_a_cross_site_post_cannot_reset_the_emulator(stack: LocalStack) -> None:
    headers = {"Origin": EVIL, "Content-Type": "text/plain", "Content-Length": "0"}
    status, body = _raw(stack.endpoint, "POST", "/moto-api/reset", headers)
    assert status == 403 and b"evil.example" in body
    assert stack.client("s3").head_bucket(Bucket=stack.bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_moto_api_is_off_even_without_an_origin(stack: LocalStack) -> None:
    status, body = _raw(stack.endpoint, "POST", "/moto-api/reset", {"Content-Length": "0"})
    assert status == 403 and b"--dev-api" in body
    assert stack.client("dynamodb").describe_table(TableName=stack.table)["Table"]["TableName"] == stack.table


def test_a_foreign_host_header_is_refused_on_both_servers(stack: LocalStack, page: StatusPageServer) -> None:
    port = urlsplit(stack.endpoint).port
    status, _ = _raw(stack.endpoint, "GET", f"/{stack.bucket}", {"Host": f"rebound.evil.example:{port}"})
    assert status == 403
    page_port = urlsplit(page.url).port
    status, _ = _raw(page.url, "GET", "/api/jobs", {"Host": f"rebound.evil.example:{page_port}"})
    assert status == 403


def test_the_api_answers_its_own_origin_only_and_invites_no_other(page: StatusPageServer) -> None:
    own = page.url.rstrip("/")
    allowed = requests.get(f"{page.url}api/jobs", headers={"Origin": own}, timeout=30)
    assert allowed.status_code == 200
    assert "access-control-allow-origin" not in {name.lower() for name in allowed.headers}
    refused = requests.get(f"{page.url}api/jobs", headers={"Origin": EVIL}, timeout=30)
    assert refused.status_code == 403 and refused.json()["message"].startswith("Forbidden")
    preflight = requests.options(
        f"{page.url}api/uploads", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}, timeout=30
    )
    assert preflight.status_code == 403


def test_the_page_origin_may_post_uploads_to_the_aws_endpoint(stack: LocalStack, page: StatusPageServer) -> None:
    """The browser's presigned POST goes to the AWS endpoint from the page's origin."""
    response = requests.options(
        f"{stack.endpoint}/{stack.bucket}",
        headers={"Origin": page.url.rstrip("/"), "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert response.status_code != 403


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE"])
def test_other_methods_get_a_json_405(page: StatusPageServer, method: str) -> None:
    status, body = _raw(page.url, method, "/api/jobs", {"Content-Length": "0"})
    assert status == 405 and "not allowed" in json.loads(body)["message"]


@pytest.mark.parametrize(
    ("length", "body", "status", "message"),
    [
        ("-1", b"{}", 400, "Content-Length"),
        ("abc", b"{}", 400, "Content-Length"),
        (str(10 * 1024**3), b"", 413, "at most"),
        ("4", b"\xff\xfe\x00{", 400, "UTF-8"),
    ],
)
def test_a_broken_body_gets_a_json_error_at_once(
    page: StatusPageServer, length: str, body: bytes, status: int, message: str
) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": length}
    got, data = _raw(page.url, "POST", "/api/uploads", headers, body)
    assert got == status and message in json.loads(data)["message"]


def test_a_100_mb_body_is_refused_before_it_is_read(page: StatusPageServer) -> None:
    parts = urlsplit(page.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = f"POST /api/uploads HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {100 * 1024**2}\r\n\r\n"
        sock.sendall(head.encode() + b"{" * 65536)  # a first slice; the server answers without the rest
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.0 413") or reply.startswith("HTTP/1.1 413"), reply

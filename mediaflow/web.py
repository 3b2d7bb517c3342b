"""The status page locally: frontend/ as static files, /api/* through the status Lambda.

/api/* requests become API Gateway HTTP API (payload format 2.0) events and are answered by
the very StatusApiFunction handler from template.yaml, run by the local Lambda runtime, so
there is no second implementation of the API. One route is local-only, /api/local/emails,
because only the local runtime has an email outbox (on AWS the emails go to inboxes).

Like API Gateway, this front door answers what never reaches the function: a foreign Host or
Origin (mediaflow/request_guard.py), an unsupported method (405), a body that is too large
(413, API Gateway's payload quota is 10 MB; the status API needs a few hundred bytes) or not
UTF-8 or with a broken Content-Length (400), always as JSON, never by hanging.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from mediaflow.request_guard import LOOPBACK_NAMES, RequestGuard, forbidden_body

if TYPE_CHECKING:
    from mediaflow.stack import LocalStack

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
API_PREFIX = "/api"
MAX_API_BODY_BYTES = 64 * 1024
READ_TIMEOUT_SECONDS = 10  # a client that promises a body and never sends it is dropped, not waited for
ALLOWED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
REFUSED_METHODS = ("PUT", "DELETE", "PATCH", "TRACE", "CONNECT")
# Same-origin page: the browser needs no CORS headers, and none may invite other origins in.
_CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-expose-headers",
    "access-control-max-age",
)


class _QuietThreadingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that broke the handler is logged to runtime.log (socketserver prints to stderr)."""
        logging.getLogger("mediaflow.web").exception("request from %s failed", client_address)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def http_api_event(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """An API Gateway HTTP API v2 event, as the $default stage delivers it to Lambda."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    text_body = body.decode("utf-8") if body else None
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "queryStringParameters": params or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("Host", "127.0.0.1"),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": text_body,
        "isBase64Encoded": False,
    }


def outbox_messages(stack: LocalStack, job_id: str | None) -> list[dict[str, Any]]:
    messages = []
    for path, message in stack.outbox.read(about=job_id or None):
        attributes = {
            k.removeprefix("X-MediaFlow-Attribute-"): v
            for k, v in message.items()
            if k.startswith("X-MediaFlow-Attribute-")
        }
        messages.append(
            {
                "file": path.name,
                "subject": message["Subject"],
                "to": message["To"],
                "date": message["Date"],
                "attributes": attributes,
                "body": message.get_content(),
            }
        )
    return messages


class StatusPageServer:
    def __init__(self, stack: LocalStack, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.stack = stack
        self.function_name = stack.template.physical_ids["StatusApiFunction"]
        handler = self._handler_class()
        self.httpd = _QuietThreadingHTTPServer((host, port), handler)
        bound_port = self.httpd.server_address[1]
        names = LOOPBACK_NAMES if host in LOOPBACK_NAMES else (host,)
        self.origins = {f"http://{name}:{bound_port}" for name in names}
        self.guard = RequestGuard(host, int(bound_port), allowed_origins=set(self.origins))
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="status-page", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> StatusPageServer:
        # The page posts uploads straight to the AWS endpoint (presigned POST): let its origin in there.
        self.stack.emulator.guard.allowed_origins |= self.origins
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def invoke_api(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        assert self.stack.runtime is not None
        event = http_api_event(method, path, query, headers, body)
        # The page's API has its own concurrency on AWS: it does not wait for the pipeline's slots.
        result = self.stack.runtime.invoke(self.function_name, json.dumps(event).encode(), wait_for_slot=False)
        if result.function_error:
            # API Gateway answers a failed integration with 500 and a fixed body.
            return {
                "statusCode": 500,
                "headers": {"content-type": "application/json"},
                "body": json.dumps({"message": "Internal Server Error"}),
            }
        return json.loads(result.payload)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "MediaFlowLocal/1"
            timeout = READ_TIMEOUT_SECONDS

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: `mediaflow up` prints its own summary

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in (headers or {}).items():
                    if name.lower() not in {"content-length", "content-type"}:
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json_error(self, status: int, message: str) -> None:
                self._send(status, json.dumps({"message": message}).encode(), "application/json")

            def _refused(self) -> bool:
                """Answer a request the guard refuses (403) or whose method is never served (405)."""
                reason = server.guard.refusal(self.command, self.path, dict(self.headers.items()))
                if reason is not None:
                    self._send(HTTPStatus.FORBIDDEN, forbidden_body(reason), "application/json")
                    return True
                if self.command not in ALLOWED_METHODS:
                    self._json_error(HTTPStatus.METHOD_NOT_ALLOWED, f"method {self.command} is not allowed")
                    return True
                return False

            def _body(self) -> bytes:
                raw = self.headers.get("Content-Length")
                if raw is None:
                    return b""
                if not raw.strip().isdigit():
                    raise BadRequest(HTTPStatus.BAD_REQUEST, "Content-Length must be a non-negative integer")
                length = int(raw)
                if length > MAX_API_BODY_BYTES:
                    raise BadRequest(
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body may be at most {MAX_API_BODY_BYTES} bytes"
                    )
                body = self.rfile.read(length)
                if len(body) < length:
                    raise BadRequest(HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length")
                try:
                    body.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise BadRequest(HTTPStatus.BAD_REQUEST, "the body is not UTF-8") from err
                return body

            def _api(self) -> None:
                url = urlsplit(self.path)
                try:
                    body = self._body()
                except BadRequest as err:
                    self.close_connection = True  # what is left of the body must not be read as a request
                    self._json_error(err.status, str(err))
                    return
                path = url.path[len(API_PREFIX) :] or "/"
                if path == "/local/emails":
                    job_id = dict(parse_qsl(url.query)).get("jobId")
                    payload = json.dumps({"emails": outbox_messages(server.stack, job_id)}).encode()
                    self._send(200, payload, "application/json")
                    return
                response = server.invoke_api(self.command, path, url.query, dict(self.headers.items()), body)
                raw = response.get("body") or ""
                data = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
                headers = {
                    k: str(v) for k, v in (response.get("headers") or {}).items() if k.lower() not in _CORS_HEADERS
                }
                self._send(
                    int(response.get("statusCode", 200)),
                    data,
                    headers.pop("Content-Type", headers.pop("content-type", "application/json")),
                    headers,
                )

            def _static(self) -> None:
                path = urlsplit(self.path).path
                if path == "/config.js":
                    config = {"apiUrl": API_PREFIX, "local": True, "auth": None}
                    self._send(200, f"window.MEDIAFLOW_CONFIG = {json.dumps(config)};\n".encode(), "text/javascript")
                    return
                relative = "index.html" if path in ("", "/") else path.lstrip("/")
                file = (FRONTEND / relative).resolve()
                if not file.is_file() or FRONTEND.resolve() not in file.parents:
                    self._send(404, b"not found", "text/plain")
                    return
                content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                self._send(200, file.read_bytes(), content_type)

            def do_GET(self) -> None:
                if not self._refused():
                    self._api() if self.path.startswith(API_PREFIX + "/") else self._static()

            def do_POST(self) -> None:
                if self._refused():
                    return
                if self.path.startswith(API_PREFIX + "/"):
                    self._api()
                else:
                    self._json_error(HTTPStatus.METHOD_NOT_ALLOWED, "the page's files are read-only")

            def do_OPTIONS(self) -> None:
                if not self._refused():
                    self._send(HTTPStatus.NO_CONTENT, b"", "text/plain", {"Allow": ", ".join(ALLOWED_METHODS)})

            def refuse_method(self) -> None:
                if not self._refused():  # always refused: a foreign origin gets 403, anyone else 405
                    self._json_error(HTTPStatus.METHOD_NOT_ALLOWED, f"method {self.command} is not allowed")

        for method in REFUSED_METHODS:
            setattr(Handler, f"do_{method}", Handler.refuse_method)
        return Handler

"""The AWS emulator: moto's WSGI app served on 127.0.0.1 by waitress, Step Functions execution
switched on, behind the request guard (mediaflow/request_guard.py)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from moto.moto_api._internal.models import moto_api_backend
from moto.server import DomainDispatcherApplication, create_backend_app
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser

from mediaflow.direct_dispatch import DirectDispatch
from mediaflow.request_guard import GuardedWsgiApp, RequestGuard


class PortInUse(OSError):
    """A port the user asked for is taken: said in one line, before anything starts."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ensure_port_free(host: str, port: int, option: str) -> int:
    """`port` if it can be bound on `host` (a free one for 0), else PortInUse naming the option."""
    if port == 0:
        return free_port(host)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers themselves bind
        try:
            sock.bind((host, port))
        except OSError as err:
            raise PortInUse(
                f"{host}:{port} is in use (another `mediaflow up`?): choose another {option}, or 0 for a free one"
            ) from err
    return port


# Requests in flight at once. Waitress queues the rest (back-pressure) instead of starting a
# thread per connection. Generous, because a synchronous `aws lambda invoke` holds its thread
# while the handler's own S3 calls need others.
SERVER_THREADS = 32
S3_PUT_LIMIT_BYTES = 5 * 1024**3  # S3's largest single PUT; bigger uploads go in multipart parts


class _EmptyBodyParser(HTTPRequestParser):
    """waitress 3.0.2 answers `Expect: 100-continue` on a request with `Content-Length: 0` and
    then waits for a body that will never come: boto3 sends that header on every S3 PUT, so a
    zero-byte upload hung. A request whose body is complete needs no 100 Continue."""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if not self.chunked and self.content_length == 0:
            self.expect_continue = False


class _Channel(HTTPChannel):
    """waitress 3.0.2's loop asks for POLLOUT on a connection whenever it has output pending,
    even while a request's task thread is writing that output: the task holds the output lock,
    `handle_write` cannot take it and sends nothing, and poll answers "writable" again at once.
    Under load the loop spun like that ~120 times per image job (the engine's busiest single
    thread after the request threads). A task thread flushes what it writes itself and pulls the
    loop's trigger when any is left, and again when its request is done (`write_soon`,
    `service`), so while a request runs the loop need not watch for output, unless the task
    waits for it to drain a buffer past the high-water mark."""

    parser_class = _EmptyBodyParser

    def writable(self) -> bool:
        if not super().writable():
            return False
        task_writes_it = self.requests and not (self.will_close or self.close_when_flushed)
        return not task_writes_it or self.total_outbufs_len > self.adj.outbuf_high_watermark


def _raw_uri_for_moto(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """moto reads the undecoded request path from RAW_URI (werkzeug's name; waitress calls it
    REQUEST_URI): without it a key such as `a b+c%20d.jpg` is decoded once too often."""

    def with_raw_uri(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
        return app(environ, start_response)

    return with_raw_uri


class _WaitressServer:
    """moto's WSGI app (behind a RequestGuard) served by waitress on a thread of its own.

    moto's own ThreadedMotoServer is werkzeug's development server: a new thread per connection
    and headers parsed through the email package. Measured from another process, 300 requests
    each, the engine's CPU per S3 request: PUT 3.6 ms there, 2.0 ms here; GET 2.0 / 1.1 ms; HEAD
    2.4 / 1.0 ms. Waitress is a production WSGI server (Pylons project, ZPL 2.1): HTTP/1.1
    keep-alive, a fixed pool of worker threads, request bodies past 512 KB spooled to disk."""

    def __init__(self, guard: RequestGuard) -> None:
        self.guard = guard
        self._map: dict[int, Any] = {}  # the sockets this server's loop watches
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: Any = None

    def start(self) -> None:
        app = GuardedWsgiApp(DirectDispatch(DomainDispatcherApplication(create_backend_app)), self.guard)
        self._server = waitress.create_server(
            _raw_uri_for_moto(app),
            map=self._map,
            host=self.guard.host,
            port=self.guard.port,
            threads=SERVER_THREADS,
            max_request_body_size=S3_PUT_LIMIT_BYTES,
            ident="MediaFlow local runtime",
        )
        self._server.channel_class = _Channel
        self._thread = threading.Thread(target=self._serve, name="emulator-http", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            wasyncore.loop(timeout=1.0, map=self._map, count=1)
        # Closed on this thread, the only one that touches the loop's sockets.
        wasyncore.close_all(self._map)
        self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        # Wakes the loop at once; an OSError means it woke by itself, saw the flag and has closed
        # the trigger already.
        with contextlib.suppress(OSError):
            self._server.pull_trigger()
        self._thread.join()


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, dev_api: bool = False) -> None:
        self.host = host
        self.port = ensure_port_free(host, port, "--port")
        self.guard = RequestGuard(host, self.port, dev_api=dev_api)
        self._server = _WaitressServer(self.guard)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        # The engine sends its service calls to localhost:MOTO_PORT, so it must be this port.
        os.environ["MOTO_PORT"] = str(self.port)
        # "Task queue depth is N": requests waiting for a thread, which is the point of a pool.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        # What POST /moto-api/config does, in process: /moto-api/ itself is closed by default.
        moto_api_backend.set_config({"stepfunctions": {"execute_state_machine": True}})
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

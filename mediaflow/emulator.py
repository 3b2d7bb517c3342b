"""The AWS emulator: moto's server on 127.0.0.1, Step Functions execution switched on,
behind the request guard (mediaflow/request_guard.py)."""

from __future__ import annotations

import logging
import os
import socket

from moto.moto_api._internal.models import moto_api_backend
from moto.server import DomainDispatcherApplication, MotoRequestHandler, ThreadedMotoServer, create_backend_app
from werkzeug.serving import make_server

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


class _KeepAliveRequestHandler(MotoRequestHandler):
    """HTTP/1.1: a client's connection serves many requests. moto's server speaks HTTP/1.0 and
    closes each one, so every AWS call (the engine's own Task calls included) paid a new TCP
    connection (bench/bench_runtime.py)."""

    protocol_version = "HTTP/1.1"


class _GuardedMotoServer(ThreadedMotoServer):
    """moto's threaded server with its WSGI app behind a RequestGuard."""

    def __init__(self, guard: RequestGuard) -> None:
        super().__init__(ip_address=guard.host, port=guard.port, verbose=False)
        self.guard = guard

    def _server_entry(self) -> None:
        app = GuardedWsgiApp(DomainDispatcherApplication(create_backend_app), self.guard)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=_KeepAliveRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, dev_api: bool = False) -> None:
        self.host = host
        self.port = ensure_port_free(host, port, "--port")
        self.guard = RequestGuard(host, self.port, dev_api=dev_api)
        self._server = _GuardedMotoServer(self.guard)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        # The engine sends its service calls to localhost:MOTO_PORT, so it must be this port.
        os.environ["MOTO_PORT"] = str(self.port)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        # What POST /moto-api/config does, in process: /moto-api/ itself is closed by default.
        moto_api_backend.set_config({"stepfunctions": {"execute_state_machine": True}})
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

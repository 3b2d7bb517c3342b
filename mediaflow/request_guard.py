"""Which requests the local endpoints answer: the threat model of a server on 127.0.0.1.

Any web page the user visits can make the browser send requests to 127.0.0.1 (a "simple"
cross-site POST needs no CORS preflight), and a DNS-rebinding page can even reach it under its
own host name. So both local servers (the AWS endpoint and the status page) refuse:

- a Host header other than the address they are bound to (defeats DNS rebinding);
- a browser Origin other than the status page's own (the AWS CLI and SDKs send no Origin);
- on the AWS endpoint, moto's own /moto-api/ (reset, config, ...) unless `--dev-api`.

docs/local-runtime.md#threat-model says the same for users.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
MOTO_API_PREFIX = "/moto-api"


@dataclass
class RequestGuard:
    """The rule both servers apply; `allowed_origins` grows when the status page starts."""

    host: str
    port: int
    allowed_origins: set[str] = field(default_factory=set)
    dev_api: bool = False

    def allowed_hosts(self) -> set[str] | None:
        """The Host headers this server answers; None (any) when bound to every interface on purpose."""
        if self.host in WILDCARD_ADDRESSES:
            return None
        names = {self.host, *LOOPBACK_NAMES} if self.host in LOOPBACK_NAMES else {self.host}
        return {f"{name}:{self.port}" for name in names}

    def refusal(self, method: str, path: str, headers: dict[str, str]) -> str | None:
        """Why this request is refused, or None when it may pass."""
        lowered = {name.lower(): value for name, value in headers.items()}
        host, allowed = lowered.get("host", ""), self.allowed_hosts()
        if allowed is not None and host.lower() not in allowed:
            return f"Host {host!r} is not this server's address (DNS rebinding?)"
        origin = lowered.get("origin")
        if origin is not None and origin not in self.allowed_origins:
            return f"requests from the web origin {origin!r} are not allowed"
        if path.startswith(MOTO_API_PREFIX) and not self.dev_api:
            return "moto's /moto-api/ is off; start the stack with --dev-api to use it"
        return None


def forbidden_body(reason: str) -> bytes:
    return json.dumps({"message": f"Forbidden: {reason}"}).encode()


class GuardedWsgiApp:
    """WSGI middleware: answer 403 (JSON, no CORS headers) before the app sees a refused request."""

    def __init__(self, app: Callable[..., Iterable[bytes]], guard: RequestGuard) -> None:
        self.app = app
        self.guard = guard

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
        reason = self.guard.refusal(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""), headers)
        if reason is None:
            return self.app(environ, start_response)
        body = forbidden_body(reason)
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

"""SDK requests go straight to moto's service handlers, not through its Flask stack.

The handlers' S3 calls are most of what the engine serves (about 14 per image job), and moto's
server spent half the CPU of each one on the way to its S3 code: the dispatcher trying every
service's URL patterns under one lock, a Flask request context, Flask's URL map, the CORS
extension. For a SigV4-signed request from an SDK (not a browser: no `Origin`) the signature's
credential scope names the service, and for S3 in path style (`/bucket`, `/bucket/key`: what
boto3 sends to a custom endpoint) or a JSON-protocol service (`POST /`) the view is known
without routing. This calls that view as moto's Flask app would — same request class, same
arguments, same response class — and adds the one header moto's CORS extension adds to such a
response. Everything else (browsers, presigned URLs, other services and shapes) takes moto's own
path. tests/unit/test_emulator.py holds every answer to both paths side by side. Not fed on the
direct path: moto's request recorder, which only /moto-api/ switches on (closed by default).

The request's headers are read from the WSGI environ once: moto's `EnvironHeaders` is a view
that walks the whole environ (~30 entries) and renames each header at every iteration, and a PUT
iterates them five times on its way (this middleware, moto's request set-up, the object's
metadata, its ACL, Flask's).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError
from flask import Response
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import BackendRequest
from moto.s3.responses import S3Response
from moto.stepfunctions.responses import StepFunctionResponse
from werkzeug.datastructures import Headers, ImmutableHeadersMixin

_SIGNED_FOR = re.compile(r"Credential=[^/,]+/\d{8}/[^/,]+/([a-z0-9-]+)/aws4_request")

# The JSON-protocol services MediaFlow's handlers and clients call: their one view, on "/".
_JSON_VIEWS: dict[str, Callable[..., Any]] = {
    "dynamodb": DynamoHandler.dispatch,
    "states": StepFunctionResponse.dispatch,
}

# What moto's Flask app adds to every answer (flask-cors: always_send, origins "*").
_CORS_WITHOUT_ORIGIN = ("Access-Control-Allow-Origin", "*")


class HeadersReadOnce(ImmutableHeadersMixin, Headers):  # type: ignore[misc]
    """A request's headers as moto's `EnvironHeaders` gives them (same names, same order, same
    case-insensitive lookups, read-only), copied out of the environ once."""

    def __init__(self, headers: Iterable[tuple[str, str]]) -> None:
        Headers.__init__(self)
        for name, value in headers:
            Headers.add(self, name, value)  # past the read-only mixin, once


def _view_for(environ: dict[str, Any]) -> Callable[..., Any] | None:
    """moto's view for this request, or None where moto's own routing must decide."""
    if "HTTP_ORIGIN" in environ:
        return None
    signed = _SIGNED_FOR.search(environ.get("HTTP_AUTHORIZATION", ""))
    if signed is None:
        return None
    service, path = signed.group(1), environ.get("PATH_INFO", "")
    if service == "s3":
        bucket, slash, key = path[1:].partition("/")
        if not path.startswith("/") or not bucket:
            return None
        # "/bucket" or "/bucket/": a bucket request in path style
        return S3Response.key_dispatch if slash and key else S3Response.ambiguous_dispatch
    if path == "/" and environ.get("REQUEST_METHOD") == "POST" and "HTTP_X_AMZ_TARGET" in environ:
        return _JSON_VIEWS.get(service)
    return None


class DirectDispatch:
    """WSGI middleware in front of moto's dispatcher (mediaflow/emulator.py)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        view = _view_for(environ)
        if view is None:
            return self.app(environ, start_response)
        request = BackendRequest(environ)
        request.headers = HeadersReadOnce(request.headers)
        try:
            result = view(request, request.raw_url, dict(request.headers))
        except ClientError as error:  # as moto's Flask view answers it
            result = 400, {}, error.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        response.headers.setdefault(*_CORS_WITHOUT_ORIGIN)
        return response(environ, start_response)

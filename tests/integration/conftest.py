"""The `stack` fixture lives in tests/conftest.py, shared with the browser tests; `api` is the
status API served by the local page server, as the page reaches it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mediaflow.stack import LocalStack
from mediaflow.web import StatusPageServer


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Iterator[str]:
    server = StatusPageServer(stack, port=0).start()
    yield f"{server.url}api"
    server.stop()

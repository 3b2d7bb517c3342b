from __future__ import annotations

from collections.abc import Iterator

import pytest

from mediaflow.stack import LocalStack, StackSettings


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(StackSettings(state_dir=tmp_path_factory.mktemp("mediaflow-state"))) as running:
        yield running

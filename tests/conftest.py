"""Shared fixtures: sample media and one local stack for the integration tests."""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from mediaflow.samples import write_samples
from mediaflow.stack import LocalStack, StackSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = REPO_ROOT / "lambdas"
ARTIFACTS = REPO_ROOT / "test-artifacts"

# Handler modules import as they do on Lambda: function code and the shared layer on the path.
for path in (
    LAMBDAS / "shared",
    LAMBDAS / "transform_image",
    LAMBDAS / "validate",
    LAMBDAS / "extract_frames",
    LAMBDAS / "detect_objects",
    LAMBDAS / "aggregate",
):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    paths = write_samples(tmp_path_factory.mktemp("samples"))
    return {path.name: path for path in paths}


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG whose header claims width x height pixels but whose data is tiny.

    Decoding it would allocate width*height bytes; the limits must reject it from the header.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    rows = zlib.compress(b"\x00" * (width + 1) * 4)  # only four rows of data: truncated on purpose
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def jpeg_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the integration tests last: unit tests use moto's in-process mock, whose start and
    stop reset moto's backends, which the session-wide local stack also lives in."""
    items.sort(key=lambda item: item.nodeid.startswith(("tests/integration", "tests/e2e")))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One local stack for the integration and browser tests."""
    with LocalStack(StackSettings(state_dir=tmp_path_factory.mktemp("mediaflow-state"))) as running:
        yield running

"""The S3 range reader: a seekable file over ranged GETs, bounded memory, what PyAV needs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from mediaflow.samples import pan_zoom_video
from mediaflow_shared.errors import UploadChanged
from mediaflow_shared.s3_reader import S3RangeReader
from mediaflow_shared.storage import s3_client
from mediaflow_shared.video import probe_video

BUCKET = "videos-bucket"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3_client.cache_clear()
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client
    s3_client.cache_clear()


def _job(s3: Any, key: str, data: bytes) -> dict[str, Any]:
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"].strip('"')
    return {"jobId": "j", "bucket": BUCKET, "key": key, "etag": etag, "size": len(data)}


def test_random_reads_and_seeks_return_the_objects_bytes_with_bounded_memory(s3: Any) -> None:
    data = np.random.default_rng(5).integers(0, 256, 3_000_000, dtype=np.uint8).tobytes()
    reader = S3RangeReader(_job(s3, "uploads/blob.bin", data), block_size=64 * 1024, max_blocks=4)
    rng = np.random.default_rng(9)
    for _ in range(200):
        start = int(rng.integers(0, len(data)))
        length = int(rng.integers(1, 300_000))
        reader.seek(start)
        assert reader.read(length) == data[start : start + length]
        assert reader.cached_bytes <= 4 * 64 * 1024, "memory stays bounded by the block cache"
    reader.seek(-10, io.SEEK_END)
    assert reader.read() == data[-10:] and reader.read(5) == b""


def test_a_moov_at_end_mp4_is_probed_without_reading_it_whole(s3: Any, tmp_path: Path) -> None:
    """PyAV writes the moov index at the end: the reader seeks there instead of downloading."""
    clip = pan_zoom_video(tmp_path / "walk.mp4", seconds=30, size=(320, 180), audio=False, gop=250)
    data = clip.read_bytes()
    assert data.rfind(b"moov") > data.find(b"mdat"), "the index is after the media data"
    reader = S3RangeReader(_job(s3, "uploads/walk.mp4", data), block_size=32 * 1024, max_blocks=8)
    info = probe_video(reader, "walk.mp4")
    assert info.duration == pytest.approx(30, abs=0.1) and (info.width, info.height) == (320, 180)
    assert reader.bytes_fetched < 0.6 * len(data), f"fetched {reader.bytes_fetched} of {len(data)} bytes"


def test_an_object_overwritten_mid_read_fails_as_upload_changed(s3: Any) -> None:
    job = _job(s3, "uploads/x.bin", b"a" * 100_000)
    reader = S3RangeReader(job, block_size=10_000)
    assert reader.read(10) == b"a" * 10
    s3.put_object(Bucket=BUCKET, Key="uploads/x.bin", Body=b"b" * 100_000)
    reader.seek(50_000)
    with pytest.raises(UploadChanged):
        reader.read(10)

"""The Lambda handlers against moto's S3 (AWS mocked at the boundary), each given the job
document the state machine passes (mediaflow_shared.contract.job)."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws
from PIL import Image
from sampler import sample_frames

from mediaflow.samples import pan_zoom_video
from mediaflow_shared.contract.job import job_id_for
from mediaflow_shared.contract.settings import settings
from mediaflow_shared.cost import JobCost
from mediaflow_shared.errors import (
    CorruptMedia,
    DetectionFailed,
    DetectionIncomplete,
    MediaTooLarge,
    UnsupportedMediaType,
    UploadChanged,
)
from mediaflow_shared.storage import s3_client
from tests.conftest import LAMBDAS, jpeg_bytes

BUCKET = "media"


def _load(function: str) -> ModuleType:
    """Import a function's app.py under a unique name (every function's module is `app`)."""
    spec = importlib.util.spec_from_file_location(f"{function}_app", LAMBDAS / function / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
        "MAX_IMAGE_BYTES": "5000000",
        "MAX_VIDEO_BYTES": "21474836480",
        "MAX_IMAGE_PIXELS": "50000000",
        "INCLUDE_GPS": "false",
        "MAX_VIDEO_SECONDS": "60",
        "WORK_PREFIX": "work/",
        "OUTPUT_PREFIX": "outputs/",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "T",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3_client.cache_clear()
        settings.cache_clear()
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client
    s3_client.cache_clear()
    settings.cache_clear()


def _upload(s3: Any, key: str, data: bytes) -> dict[str, Any]:
    """Upload `data` as `key` and return the job document DescribeUpload makes of its event."""
    return _load("describe_upload").handler(_s3_event(s3, key, data), Context())


def _s3_event(s3: Any, key: str, data: bytes) -> dict[str, Any]:
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"].strip('"')
    detail = {
        "bucket": {"name": BUCKET},
        "object": {"key": quote_plus(key, safe="/"), "etag": etag, "size": len(data), "sequencer": "1"},
    }
    event = {
        "version": "0",
        "id": "1",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "1",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }
    return {"event": event, "executionArn": "arn:exec", "startedAt": "2026-01-01T00:00:00.000Z"}


def test_describe_upload_decodes_the_key_once_and_names_the_job_by_upload(s3: Any, samples: dict[str, Path]) -> None:
    data = samples["rocket.jpg"].read_bytes()
    document = _upload(s3, "uploads/my photo+1.jpg", data)
    job = document["job"]
    assert (job["bucket"], job["key"], job["size"]) == (BUCKET, "uploads/my photo+1.jpg", len(data))
    assert (job["executionArn"], job["startedAt"]) == ("arn:exec", "2026-01-01T00:00:00.000Z")
    assert job["jobId"] == job_id_for(BUCKET, "uploads/my photo+1.jpg", job["etag"])
    assert document["failure"]["kind"] == "unknown", "the failure path has its defaults before Validate runs"


def test_validate_adds_the_media_and_keeps_the_job(s3: Any, samples: dict[str, Path]) -> None:
    document = _upload(s3, "uploads/my photo+1.jpg", samples["rocket.jpg"].read_bytes())
    validated = _load("validate").handler(document, Context())
    assert validated["job"] == document["job"]
    media = validated["media"]
    assert (media["kind"], media["format"], media["width"], media["height"]) == ("image", "jpeg", 640, 427)


def test_validate_enforces_the_byte_limit(s3: Any, monkeypatch: pytest.MonkeyPatch, samples: dict[str, Path]) -> None:
    monkeypatch.setenv("MAX_IMAGE_BYTES", "1000")
    with pytest.raises(MediaTooLarge, match="the image limit is 1000 bytes"):
        _load("validate").handler(_upload(s3, "uploads/big.jpg", samples["rocket.jpg"].read_bytes()), Context())


def test_byte_limits_are_per_kind_and_a_video_over_its_limit_is_not_read(
    s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The bug: one 50 MB limit for every kind turned a 5-minute phone video away."""
    clip = pan_zoom_video(tmp_path / "walk.mp4", seconds=2, size=(320, 180), audio=False).read_bytes()
    photo = jpeg_bytes()  # a small photograph: well under both limits
    assert len(photo) < 2000 < len(clip)
    monkeypatch.setenv("MAX_IMAGE_BYTES", "2000")  # the video is over the image limit: that is fine
    monkeypatch.setenv("MAX_VIDEO_BYTES", str(len(clip)))
    assert _validated(s3, "uploads/walk.mp4", clip)["media"]["kind"] == "video"
    assert _validated(s3, "uploads/photo.jpg", photo)["media"]["kind"] == "image"

    monkeypatch.setenv("MAX_VIDEO_BYTES", str(len(clip) - 1))
    settings.cache_clear()
    document = _upload(s3, "uploads/walk over.mp4", clip)
    reads: list[str] = []
    real_get = s3_client().get_object
    monkeypatch.setattr(
        s3_client(), "get_object", lambda **kwargs: reads.append(kwargs.get("Range", "all")) or real_get(**kwargs)
    )
    with pytest.raises(MediaTooLarge, match=rf"is {len(clip)} bytes; the video limit is {len(clip) - 1} bytes"):
        _load("validate").handler(document, Context())
    assert reads == ["bytes=0-63"], "only the magic number was read, never the video"


def test_validate_enforces_the_video_duration_and_frame_size_limits(
    s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clip = pan_zoom_video(tmp_path / "walk.mp4", seconds=3, size=(320, 180), audio=False).read_bytes()
    monkeypatch.setenv("MAX_VIDEO_SECONDS", "2")
    with pytest.raises(MediaTooLarge, match=r"lasts 3\.0 s; the limit is 2 s"):
        _load("validate").handler(_upload(s3, "uploads/long walk.mp4", clip), Context())
    monkeypatch.setenv("MAX_VIDEO_SECONDS", "60")
    monkeypatch.setenv("MAX_IMAGE_PIXELS", str(320 * 180 - 1))
    settings.cache_clear()
    with pytest.raises(MediaTooLarge, match="320x180 = 57600 pixels per frame; the limit is 57599 pixels"):
        _load("validate").handler(_upload(s3, "uploads/walk.mp4", clip), Context())


def test_validate_names_unsupported_formats(s3: Any) -> None:
    heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100
    with pytest.raises(UnsupportedMediaType, match="HEIC"):
        _load("validate").handler(_upload(s3, "uploads/phone.heic", heic), Context())


def _validated(s3: Any, key: str, data: bytes) -> dict[str, Any]:
    return _load("validate").handler(_upload(s3, key, data), Context())


def test_transform_writes_renditions_and_returns_keys_only(s3: Any, samples: dict[str, Path]) -> None:
    document = _validated(s3, "uploads/hubble.jpg", samples["hubble_deep_field.jpg"].read_bytes())
    renditions = _load("transform_image").handler(document, Context())["renditions"]
    assert len(json.dumps(renditions)) < 2000
    job_id = document["job"]["jobId"]
    keys = sorted(r["key"] for r in renditions)
    assert keys == [f"outputs/{job_id}/renditions/w{w}.{e}" for w in (320, 640) for e in ("jpg", "webp")]
    obj = s3.get_object(Bucket=BUCKET, Key=f"outputs/{job_id}/renditions/w640.webp")
    assert obj["ContentType"] == "image/webp"
    assert Image.open(io.BytesIO(obj["Body"].read())).size == (640, 558)


def test_transform_refuses_an_object_overwritten_after_the_event(s3: Any, samples: dict[str, Path]) -> None:
    document = _validated(s3, "uploads/x.jpg", samples["coffee.jpg"].read_bytes())
    s3.put_object(Bucket=BUCKET, Key="uploads/x.jpg", Body=samples["rocket.jpg"].read_bytes())
    with pytest.raises(UploadChanged):
        _load("transform_image").handler(document, Context())


def test_transform_leaves_no_partial_outputs_when_an_upload_fails(
    s3: Any, samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _validated(s3, "uploads/hubble.jpg", samples["hubble_deep_field.jpg"].read_bytes())
    transform = _load("transform_image")
    real_put = s3_client().put_object
    calls: list[str] = []

    def failing_put(**kwargs: Any) -> Any:
        calls.append(kwargs["Key"])
        if len(calls) == 3:
            raise ConnectionError("network down")
        return real_put(**kwargs)

    monkeypatch.setattr(s3_client(), "put_object", failing_put)
    with pytest.raises(ConnectionError):
        transform.handler(document, Context())
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="outputs/").get("KeyCount") == 0


def test_extract_frames_plans_segments_then_samples_each_to_the_frames_of_one_pass(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRAMES_PER_BATCH", "2")
    monkeypatch.setenv("SEGMENT_SECONDS", "4")
    monkeypatch.setenv("INLINE_MAP_MAX_SEGMENTS", "2")
    clip = pan_zoom_video(tmp_path / "v.mp4", seconds=10, size=(160, 90), audio=False)
    document = _validated(s3, "uploads/v.mp4", clip.read_bytes())
    extract = _load("extract_frames")
    plan = extract.handler(document, Context())["frames"]

    assert (plan["segmentCount"], plan["frameCount"], plan["batchCount"], plan["mode"]) == (3, 10, 5, "distributed")
    assert plan["segments"] == [], "too many segments for the state: the Distributed Map reads them from S3"
    segments = json.loads(s3.get_object(Bucket=BUCKET, Key=plan["segmentsKey"])["Body"].read())
    assert [(s["firstFrame"], s["frameCount"], s["firstBatch"]) for s in segments] == [(0, 4, 0), (4, 4, 2), (8, 2, 4)]
    assert [(s["start"], s["end"]) for s in segments] == [(0, 4), (4, 8), (8, 10)]

    sampled = [
        extract.handler({"job": document["job"], "media": document["media"], "segment": s}, Context())["sampled"]
        for s in segments
    ]
    batches = [(b["batch"], b["first"], b["count"]) for item in sampled for b in item["batches"]]
    assert batches == [(0, 0, 2), (1, 2, 2), (2, 4, 2), (3, 6, 2), (4, 8, 2)]
    manifests = [json.loads(s3.get_object(Bucket=BUCKET, Key=i["manifestKey"])["Body"].read()) for i in sampled]
    frames = [f for manifest in manifests for f in manifest["frames"]]
    assert [f["time"] for f in frames] == [float(t) for t in range(10)]
    assert [f["index"] for f in frames] == list(range(10))
    assert all(len(f["signature"]) == 128 and abs(sum(f["signature"]) - 1000) < 70 for f in frames)
    one_pass = [f.time for f in sample_frames(str(clip), 1.0, 10.0)]
    assert [f["time"] for f in frames] == pytest.approx(one_pass, abs=1e-3)
    frame = s3.get_object(Bucket=BUCKET, Key=frames[3]["key"])["Body"].read()
    assert Image.open(io.BytesIO(frame)).size == (160, 90)
    assert all(0 < i["bytesRead"] <= len(clip.read_bytes()) for i in sampled)


JOB = {"jobId": "job1", "bucket": BUCKET, "key": "uploads/v.mp4", "etag": "e", "size": 1, "executionArn": "x"}


def test_detect_batch_names_the_batch_when_a_frame_is_unreadable(s3: Any) -> None:
    manifest = {
        "firstFrame": 0,
        "frames": [
            {"index": i, "time": float(i), "key": f"work/job1/frames/f{i:06d}.jpg", "width": 8, "height": 8}
            for i in range(3)
        ],
    }
    s3.put_object(Bucket=BUCKET, Key="work/job1/frames/manifest.json", Body=json.dumps(manifest).encode())
    s3.put_object(Bucket=BUCKET, Key="work/job1/frames/f000000.jpg", Body=b"not a jpeg")
    batch = {"batch": 0, "first": 0, "count": 3, "manifestKey": "work/job1/frames/manifest.json"}
    with pytest.raises(DetectionFailed, match=r"batch 0 \(frames 0-2\) failed"):
        _load("detect_objects").handler({"job": JOB, "batch": batch}, Context())


def test_aggregate_refuses_to_succeed_with_missing_batches(s3: Any) -> None:
    batches = [
        {"batch": n, "first": 2 * n, "count": 2, "manifestKey": "work/job1/frames/segment-00000.json"} for n in range(3)
    ]
    manifest = {"firstFrame": 0, "bytesRead": 1, "requests": 1, "frames": [], "batches": batches}
    s3.put_object(Bucket=BUCKET, Key="work/job1/frames/segment-00000.json", Body=json.dumps(manifest).encode())
    s3.put_object(Bucket=BUCKET, Key="work/job1/detections/batch-00000.json", Body=b'{"frames": []}')
    segments = [
        {"segment": n, "start": 0, "end": 6, "firstFrame": 6 * n, "frameCount": 6, "firstBatch": 3 * n}
        for n in range(2)
    ]
    document = {
        "job": JOB,
        "media": {"kind": "video", "duration": 12},
        "frames": {"segments": segments, "segmentsKey": "", "segmentSeconds": 6, "rate": 1},
    }
    aggregate = _load("aggregate")
    with pytest.raises(DetectionIncomplete, match="segment\\(s\\) 1 of 2 were not sampled"):
        aggregate.handler(document, Context())
    s3.put_object(
        Bucket=BUCKET, Key="work/job1/frames/segment-00001.json", Body=json.dumps({**manifest, "batches": []}).encode()
    )
    with pytest.raises(DetectionIncomplete, match="batch\\(es\\) 00001, 00002 of 3"):
        aggregate.handler(document, Context())


def test_discard_partial_outputs_removes_the_jobs_outputs_and_work_files_only(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (
        "outputs/job1/results.json",
        "work/job1/frames/f000000.jpg",
        "outputs/job2/results.json",
        "uploads/keep.jpg",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    cause = json.dumps({"errorType": "CorruptMedia", "errorMessage": "x.jpg cannot be decoded", "stackTrace": ["..."]})
    document = {"job": JOB, "error": {"Error": "CorruptMedia", "Cause": cause}, "media": {"kind": "image"}}
    discard = _load("discard_partial_outputs")
    cost = JobCost(7, 3, 0.5, 2, 2, 3, 1)  # the job's own history is not in this test's moto
    monkeypatch.setattr(discard, "cost_at_failure", lambda document: cost)
    result = discard.handler(document, Context())
    assert {k: result["failure"][k] for k in ("message", "kind", "discarded")} == {
        "message": "x.jpg cannot be decoded",
        "kind": "image",
        "discarded": 2,
    }
    assert result["failure"]["cost"]["usd"] == round(cost.usd, 8)
    assert result["failure"]["costSummary"].startswith(f"${cost.usd:.6f}")
    assert result["job"] == JOB and result["error"] == document["error"], "the job passes through whole"
    remaining = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert remaining == ["outputs/job2/results.json", "uploads/keep.jpg"]


def test_extract_frames_names_damage_found_part_way_through(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug: FFmpeg's InvalidDataError escaped ExtractFrames unnamed, with the temp file's path."""
    import av

    clip = pan_zoom_video(tmp_path / "v.mp4", seconds=3, size=(160, 90), audio=False)
    document = _validated(s3, "uploads/v.mp4", clip.read_bytes())
    extract = _load("extract_frames")

    def damaged(path: str, *_: Any, **__: Any) -> Any:
        yield from ()
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input", path)

    monkeypatch.setattr(extract, "sample_frames", damaged)
    (segment,) = extract.handler(document, Context())["frames"]["segments"]
    with pytest.raises(CorruptMedia, match=r"uploads/v\.mp4 is damaged part-way through") as raised:
        extract.handler({**document, "segment": segment}, Context())
    assert "/tmp" not in str(raised.value)


def test_the_cost_summary_is_written_from_the_figure_the_record_keeps() -> None:
    """The bug: the job record kept the cost rounded to 8 digits and the email's summary was
    written from the unrounded figure, so a cost like 0.000310495003 showed as $0.000310 in the
    email and 0.0003105 (read as $0.000311) in the record: rounding twice. Both come from one
    figure now (the integration cost test failed on it now and then)."""
    from mediaflow_shared.cost import describe_usd

    cost = JobCost(11, 5, 0.039, 6, 4, 3, 1)
    recorded = cost.as_dict()["usd"]
    assert describe_usd(cost.usd).startswith("$0.000310"), "the unrounded figure"
    assert f"{recorded:.6f}" == "0.000311"
    assert cost.summary.startswith(f"${recorded:.6f}")

"""Videos through the whole workflow: sampling, Map fan-out, detection, aggregation, failures."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from mediaflow.lambda_workers import InvocationResult
from mediaflow.samples import pan_zoom_video
from mediaflow.stack import LocalStack, StackSettings
from mediaflow_shared.s3_reader import BLOCK_SIZE
from tests.integration.jobs import JobRun, emails_about, function_error, function_pool, run_upload
from tests.videos import (
    SHOTS,
    audio_only_mp4,
    corrupt,
    labelled_scene_clip,
    long_low_res_clip,
    padded_to,
    scene_boundaries,
    truncated,
    unknown_codec_mkv,
    zero_duration_mp4,
)

pytestmark = pytest.mark.integration

STATE_LIMIT = 256 * 1024
SMALL_VIDEO_LIMIT = 1_000_000  # the distributed stack's MaxVideoBytes
HISTORY_LIMIT = 25_000


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    pan = pan_zoom_video(folder / "pan.mp4", seconds=12)
    return {
        "pan": pan,
        "rotated": pan_zoom_video(folder / "rotated.mp4", seconds=3, size=(320, 180), rotation=90, audio=False),
        "audio_only": audio_only_mp4(folder / "audio-only.mp4"),
        "truncated": truncated(pan, folder / "truncated.mp4"),
        "corrupt": corrupt(pan, folder / "corrupt.mp4"),
        "zero_duration": zero_duration_mp4(folder / "zero-duration.mp4"),
        "unknown_codec": unknown_codec_mkv(folder / "unknown-codec.mkv"),
    }


def _results(stack: LocalStack, run: JobRun) -> dict:
    body = stack.client("s3").get_object(Bucket=stack.bucket, Key=run.job["results"]["resultsKey"])["Body"].read()
    return json.loads(body)


def test_video_with_a_person_gets_person_detections_and_a_timeline(stack: LocalStack, videos: dict[str, Path]) -> None:
    data = videos["pan"].read_bytes()
    assert data.find(b"moov") > data.find(b"mdat"), "the index is at the end, as cameras write it"
    run = run_upload(stack, data, "uploads/street walk.mp4")

    assert run.status == "SUCCEEDED", run.execution
    media = run.job["media"]
    assert (media["kind"], media["codec"], media["width"], media["height"]) == ("video", "h264", 640, 360)
    assert media["hasAudio"] is True and media["duration"] == pytest.approx(12, abs=0.1)
    results = _results(stack, run)
    assert abs(len(results["frames"]) - math.ceil(media["duration"] * 1)) <= 1  # duration x rate, +-1
    assert [f["time"] for f in results["frames"]][:3] == pytest.approx([0.0, 1.0, 2.0], abs=0.05)
    (person,) = [label for label in results["labels"] if label["label"] == "person"]
    assert person["frames"] >= 10 and person["bestConfidence"] > 0.7
    (segment,) = [s for s in results["timeline"] if s["label"] == "person"]
    assert segment["start"] == 0.0 and segment["end"] >= 11.0
    assert run.job["topLabels"].startswith("person (")
    sheet = stack.client("s3").get_object(Bucket=stack.bucket, Key=results["contactSheet"])["Body"].read()
    assert Image.open(io.BytesIO(sheet)).width == 6 * 240
    assert any(key.endswith(".jpg") and "/annotated/person-" in key for key in run.outputs)
    (email,) = emails_about(stack, run.job["jobId"])
    body = email.get_content()
    assert email["X-MediaFlow-Attribute-kind"] == "video" and "Top labels: person (" in body
    assert (
        f"Outputs: 1 scene; timeline: person 0 s – {segment['end']:g} s; a contact sheet of 12 frames; 1 annotated"
        in body
    )


def test_rotation_is_applied_to_sampled_frames(stack: LocalStack, videos: dict[str, Path]) -> None:
    run = run_upload(stack, videos["rotated"].read_bytes(), "uploads/phone-portrait.mp4")

    assert run.status == "SUCCEEDED", run.execution
    media = run.job["media"]
    assert (media["rotation"], media["width"], media["height"]) == (90, 180, 320)
    results = _results(stack, run)
    assert len(results["frames"]) == 3
    assert all((f["width"], f["height"]) == (180, 320) for f in results["frames"])


def test_work_files_are_removed_when_the_job_ends(stack: LocalStack, videos: dict[str, Path]) -> None:
    run = run_upload(stack, videos["rotated"].read_bytes() + b"\0", "uploads/cleanup.mp4")
    assert run.status == "SUCCEEDED", (run.job.get("error"), run.job.get("failureMessage"))
    assert stack.janitor is not None
    stack.janitor.sweep()
    assert stack.list_work_files(run.job["jobId"]) == []
    # Every version goes, as the lifecycle rule expires them on AWS: none left in the engine's memory.
    left = stack.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=stack.layout.work(run.job["jobId"]))
    assert left.get("Versions", []) == [] and left.get("DeleteMarkers", []) == []


@pytest.mark.parametrize(
    ("name", "key", "error", "fragment"),
    [
        ("audio_only", "uploads/podcast.mp4", "UnsupportedMediaType", "has no video stream (only audio)"),
        ("truncated", "uploads/cut.mp4", "CorruptMedia", "cannot be opened as video"),
        ("corrupt", "uploads/garbage.mp4", "CorruptMedia", "uploads/garbage.mp4"),
        ("zero_duration", "uploads/stopped at once.mp4", "EmptyMedia", "no audio or video streams (zero duration)"),
        ("unknown_codec", "uploads/camera.mkv", "UnsupportedMediaType", "a video codec MediaFlow has no decoder for"),
    ],
)
def test_bad_videos_fail_with_named_errors(
    stack: LocalStack, videos: dict[str, Path], name: str, key: str, error: str, fragment: str
) -> None:
    run = run_upload(stack, videos[name].read_bytes(), key)

    assert run.status == "FAILED"
    assert run.job["status"] == "FAILED" and run.job["error"] == error
    assert fragment in json.loads(run.job["errorCause"])["errorMessage"]
    assert run.outputs == [] and stack.list_work_files(run.job["jobId"]) == []
    (email,) = emails_about(stack, run.job["jobId"])
    assert email["Subject"] == f"MediaFlow job FAILED: {error}"


def test_zero_byte_mp4(stack: LocalStack) -> None:
    run = run_upload(stack, b"", "uploads/empty.mp4")
    assert run.status == "FAILED" and run.job["error"] == "EmptyMedia"


def test_a_failing_batch_is_retried_then_fails_the_job_naming_it(
    stack: LocalStack, videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = function_pool(stack, "DetectObjectsFunction")
    real_invoke = pool.invoke
    attempts: list[int] = []

    def batch_one_fails(payload: bytes) -> InvocationResult:
        event = json.loads(payload)
        if event.get("batch", {}).get("batch") == 1:
            attempts.append(1)
            return function_error("DetectionFailed", "batch 1 (frames 10-11) failed: OSError: frame decode error")
        return real_invoke(payload)

    monkeypatch.setattr(pool, "invoke", batch_one_fails)
    run = run_upload(stack, videos["pan"].read_bytes() + b"fail", "uploads/flaky.mp4")

    assert run.status == "FAILED"
    assert len(attempts) == 2, "DetectionFailed is retried once (MaxAttempts 1)"
    assert run.job["error"] == "DetectionFailed"
    assert "batch 1 (frames 10-11)" in run.job["errorCause"]
    assert run.outputs == []


def test_scenes_of_the_labelled_clip_are_found_kept_and_counted(stack: LocalStack, tmp_path: Path) -> None:
    clip = labelled_scene_clip(tmp_path / "shots.mp4")
    run = run_upload(stack, clip.read_bytes(), "uploads/five shots.mp4")

    assert run.status == "SUCCEEDED", run.execution
    scenes = _results(stack, run)["scenes"]
    assert len(scenes) == len(SHOTS)
    for scene, boundary in zip(scenes[1:], scene_boundaries(), strict=True):
        assert abs(scene["start"] - boundary) <= 1.0, (scene["start"], boundary)
    for scene in scenes:  # the representative frame is kept with the outputs, not the work files
        assert scene["key"] in run.outputs
        body = stack.client("s3").get_object(Bucket=stack.bucket, Key=scene["key"])["Body"].read()
        assert Image.open(io.BytesIO(body)).size == (320, 180)
    assert run.job["results"]["scenes"] == len(SHOTS)
    (email,) = emails_about(stack, run.job["jobId"])
    assert f"Outputs: {len(SHOTS)} scenes;" in email.get_content()


@pytest.fixture(scope="module")
def distributed_stack(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A second stack whose threshold sends even short videos to the Distributed Map."""
    settings = StackSettings(
        state_dir=tmp_path_factory.mktemp("distributed"),
        stack_name="mfdist",
        parameter_overrides={
            "InlineMapMaxSegments": "1",
            "SegmentSeconds": "10",
            "FramesPerBatch": "3",
            "MaxVideoBytes": str(SMALL_VIDEO_LIMIT),
        },
    )
    with LocalStack(settings) as running:
        yield running


def test_many_batches_stay_within_step_functions_quotas(stack: LocalStack, tmp_path: Path) -> None:
    clip = long_low_res_clip(tmp_path / "twenty-minutes.mp4", minutes=20)
    run = run_upload(stack, clip.read_bytes(), "uploads/twenty-minutes.mp4")

    assert run.status == "SUCCEEDED", run.execution
    results = _results(stack, run)
    assert abs(len(results["frames"]) - 1200) <= 1
    assert [f["index"] for f in results["frames"]] == list(range(len(results["frames"])))
    assert [f["time"] for f in results["frames"]] == pytest.approx(
        [float(i) for i in range(len(results["frames"]))], abs=0.3
    )
    # Eight segments of 150 s, each sampled by its own invocation, reading the video about once
    # (each segment reads whole 1 MiB blocks: this clip is smaller than one).
    sampling, size = results["sampling"], clip.stat().st_size
    assert sampling["segments"] == 8 and run.states_entered().count("SampleSegment") == 8
    assert size <= sampling["bytesRead"] <= 1.2 * size + sampling["segments"] * BLOCK_SIZE
    assert 120 * 5 < len(run.history) < HISTORY_LIMIT  # every page of the history is counted
    payloads = [
        details.get(field, "")
        for event in run.history
        for name, details in event.items()
        if name.endswith("EventDetails") and isinstance(details, dict)
        for field in ("input", "output")
    ]
    assert max(len(p.encode()) for p in payloads) < STATE_LIMIT


def test_distributed_map_path_gives_the_same_results(distributed_stack: LocalStack, videos: dict[str, Path]) -> None:
    run = run_upload(distributed_stack, videos["pan"].read_bytes(), "uploads/long.mp4")

    assert run.status == "SUCCEEDED", run.execution
    assert "SampleSegmentsDistributed" in run.states_entered()
    assert any(e["type"] == "MapRunSucceeded" for e in run.history)
    results = _results(distributed_stack, run)
    assert len(results["frames"]) == 12
    assert results["labels"][0]["label"] == "person"


def test_a_video_just_over_the_byte_limit_fails_without_being_read(
    distributed_stack: LocalStack, videos: dict[str, Path]
) -> None:
    """Padded with an MP4 'free' box (players skip it) to one byte over the limit."""
    over = padded_to(videos["pan"].read_bytes(), SMALL_VIDEO_LIMIT + 1)
    assert len(over) == SMALL_VIDEO_LIMIT + 1
    run = run_upload(distributed_stack, over, "uploads/one byte too many.mp4")

    assert run.status == "FAILED" and run.job["error"] == "MediaTooLarge"
    assert f"is {SMALL_VIDEO_LIMIT + 1} bytes; the video limit is {SMALL_VIDEO_LIMIT} bytes" in run.job["errorCause"]
    assert "ExtractFrames" not in run.states_entered()
    assert run.outputs == [] and distributed_stack.list_work_files(run.job["jobId"]) == []
    validate_log = (distributed_stack.log_dir / "ValidateFunction.log").read_text().splitlines()
    messages = [line for line in validate_log if run.execution["executionArn"] in line]
    assert any('"upload rejected"' in line for line in messages)
    assert not any('"video probed"' in line for line in messages), "only the first bytes were sniffed"

"""ExtractFrames: plan a video's sampling in segments, then sample one segment per invocation.

Invoked with the job document, it plans (`$.frames`): the segments, each a bounded span of
video, so any video within the limits finishes inside Lambda's 15-minute ceiling. Invoked
with one Map item (a job and a segment), it samples that segment's frames to JPEGs under the
job's work prefix and writes the segment manifest (each frame's index, time, key, size and
colour signature) with its detection batches, returning only descriptors (`$.sampled`).
Frame data never travels through the state (Step Functions caps a state at 256 KB); many
segments fan out through a Distributed Map that reads the plan from S3 (docs/architecture.md).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

import av
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from PIL import Image
from plan import plan_batches, plan_segments, planned_batch_count
from sampler import SampledFrame, sample_frames
from signature import colour_signature

from mediaflow_shared.contract.job import (
    CORRELATION_ID_PATH,
    Frames,
    Job,
    Media,
    SampledSegment,
    Segment,
    job_step,
)
from mediaflow_shared.contract.layout import layout
from mediaflow_shared.contract.settings import settings
from mediaflow_shared.errors import CorruptMedia
from mediaflow_shared.s3_reader import S3RangeReader
from mediaflow_shared.storage import s3_client, write_json
from mediaflow_shared.video import ffmpeg_reason

logger = Logger()
tracer = Tracer()
metrics = Metrics()

FRAME_JPEG_QUALITY = 85


def _frame_jpeg(frame: SampledFrame, max_width: int) -> tuple[bytes, int, int]:
    image = Image.fromarray(frame.image)
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.Resampling.BOX)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=FRAME_JPEG_QUALITY)
    return out.getvalue(), image.width, image.height


def _sampled(source: BinaryIO, rate: float, media: Media, name: str, segment: Segment) -> Iterator[SampledFrame]:
    """The segment's frames, or CorruptMedia when the data is damaged past what Validate could see."""
    try:
        yield from sample_frames(
            source, rate, float(media["duration"]), name, segment["firstFrame"], segment["frameCount"]
        )
    except av.error.FFmpegError as err:
        raise CorruptMedia(f"{name} is damaged part-way through: {ffmpeg_reason(err)}") from err


@tracer.capture_method
def plan(job: Job, media: Media) -> Frames:
    config = settings()
    rate = config.frame_sample_rate
    segments = plan_segments(
        float(media["duration"]), rate, config.segment_seconds, config.min_segment_seconds, config.frames_per_batch
    )
    segments_key = write_json(job["bucket"], layout().segment_plan(job["jobId"]), segments)
    inline = len(segments) <= config.inline_map_max_segments
    last = segments[-1]
    return {
        "segmentsKey": segments_key,
        "segmentCount": len(segments),
        "segmentSeconds": config.segment_seconds,
        "rate": rate,
        "frameCount": last["firstFrame"] + last["frameCount"],
        "batchCount": planned_batch_count(segments, config.frames_per_batch),
        "segmentConcurrency": config.segment_max_concurrency,
        "mode": "inline" if inline else "distributed",
        "segments": segments if inline else [],
    }


@tracer.capture_method
def sample_segment(job: Job, media: Media, segment: Segment) -> SampledSegment:
    config, keys, job_id, bucket = settings(), layout(), job["jobId"], job["bucket"]
    s3 = s3_client()
    frames: list[dict[str, Any]] = []
    with S3RangeReader(job) as reader, ThreadPoolExecutor(max_workers=8) as uploads:
        pending = []
        for frame in _sampled(reader, config.frame_sample_rate, media, job["key"], segment):
            data, width, height = _frame_jpeg(frame, config.frame_max_width)
            key = keys.frame(job_id, frame.index)
            pending.append(uploads.submit(s3.put_object, Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg"))
            frames.append(
                {
                    "index": frame.index,
                    "time": round(frame.time, 3),
                    "key": key,
                    "width": width,
                    "height": height,
                    "signature": colour_signature(frame.image),
                }
            )
        for future in pending:
            future.result()

    manifest_key = keys.segment_manifest(job_id, segment["segment"])
    batches = plan_batches(segment, len(frames), config.frames_per_batch, manifest_key)
    read = {"bytesRead": reader.bytes_fetched, "requests": reader.requests}
    write_json(
        bucket,
        manifest_key,
        {
            **segment,
            "source": job["key"],
            "rate": config.frame_sample_rate,
            **read,
            "frames": frames,
            "batches": batches,
        },
    )
    metrics.add_metric(name="FramesExtracted", unit=MetricUnit.Count, value=len(frames))
    logger.info("video read", extra={**read, "segment": segment["segment"], "size": job["size"]})
    return {
        "segment": segment["segment"],
        "manifestKey": manifest_key,
        "frameCount": len(frames),
        "batches": batches,
        "maxConcurrency": config.detect_max_concurrency,
        "bytesRead": reader.bytes_fetched,
    }


@job_step("frames")
def _plan_step(document: dict[str, Any], context: LambdaContext) -> Frames:
    frames = plan(document["job"], document["media"])
    logger.info("sampling planned", extra={k: v for k, v in frames.items() if k != "segments"})
    return frames


@job_step("sampled")
def _segment_step(document: dict[str, Any], context: LambdaContext) -> SampledSegment:
    sampled = sample_segment(document["job"], document["media"], document["segment"])
    logger.info("segment sampled", extra={k: v for k, v in sampled.items() if k != "batches"})
    return sampled


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(document: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """`document` is a job with its media (plan the segments) or one Map item: a job, its
    media and a segment (sample it)."""
    if "segment" in document:
        return _segment_step(document, context)
    return _plan_step(document, context)

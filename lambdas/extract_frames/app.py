"""ExtractFrames: sample a validated video into JPEG frames under the job's work prefix.

Writes the frames, a manifest (every frame's index, time, key and size) and the batch list,
and returns only descriptors: the manifest key and, for videos with few enough batches, the
batches themselves. The frame data and the per-frame list never travel through the state
(Step Functions caps a state's payload at 256 KB); long videos are fanned out by a
Distributed Map that reads the batch list from S3 (docs/architecture.md).
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
from sampler import SampledFrame, sample_frames

from mediaflow_shared.contract.job import CORRELATION_ID_PATH, Batch, Frames, Job, Media, job_step
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


def plan_batches(frame_count: int, per_batch: int, manifest_key: str) -> list[Batch]:
    return [
        {"batch": number, "first": first, "count": min(per_batch, frame_count - first), "manifestKey": manifest_key}
        for number, first in enumerate(range(0, frame_count, per_batch))
    ]


def _sampled(source: BinaryIO, rate: float, duration: float, name: str) -> Iterator[SampledFrame]:
    """The frames, or CorruptMedia when the data is damaged past what Validate could see."""
    try:
        yield from sample_frames(source, rate, duration, name)
    except av.error.FFmpegError as err:
        raise CorruptMedia(f"{name} is damaged part-way through: {ffmpeg_reason(err)}") from err


@tracer.capture_method
def extract(job: Job, media: Media) -> Frames:
    config, keys, job_id, bucket = settings(), layout(), job["jobId"], job["bucket"]
    rate = config.frame_sample_rate
    s3 = s3_client()
    frames: list[dict[str, Any]] = []
    with S3RangeReader(job) as reader, ThreadPoolExecutor(max_workers=8) as uploads:
        pending = []
        for frame in _sampled(reader, rate, float(media["duration"]), job["key"]):
            data, width, height = _frame_jpeg(frame, config.frame_max_width)
            key = keys.frame(job_id, frame.index)
            pending.append(uploads.submit(s3.put_object, Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg"))
            frames.append(
                {"index": frame.index, "time": round(frame.time, 3), "key": key, "width": width, "height": height}
            )
        for future in pending:
            future.result()

    manifest_key = write_json(
        bucket,
        keys.frame_manifest(job_id),
        {"jobId": job_id, "source": job["key"], "rate": rate, "duration": media["duration"], "frames": frames},
    )
    batches = plan_batches(len(frames), config.frames_per_batch, manifest_key)
    batches_key = write_json(bucket, keys.frame_batches(job_id), batches)
    inline = len(batches) <= config.inline_map_max_batches
    metrics.add_metric(name="FramesExtracted", unit=MetricUnit.Count, value=len(frames))
    logger.info(
        "video read", extra={"bytesFetched": reader.bytes_fetched, "requests": reader.requests, "size": job["size"]}
    )
    return {
        "manifestKey": manifest_key,
        "batchesKey": batches_key,
        "frameCount": len(frames),
        "batchCount": len(batches),
        "maxConcurrency": config.detect_max_concurrency,
        "mode": "inline" if inline else "distributed",
        "batches": batches if inline else [],
    }


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
@job_step("frames")
def handler(document: dict[str, Any], context: LambdaContext) -> Frames:
    frames = extract(document["job"], document["media"])
    logger.info("frames extracted", extra={k: v for k, v in frames.items() if k != "batches"})
    return frames

"""ExtractFrames: sample a validated video into JPEG frames under the job's work prefix.

Writes the frames, a manifest (every frame's index, time, key and size) and the batch list,
and returns only descriptors: the manifest key and, for videos with few enough batches, the
batches themselves. The frame data and the per-frame list never travel through the state
(Step Functions caps a state's payload at 256 KB); long videos are fanned out by a
Distributed Map that reads the batch list from S3 (docs/architecture.md).
"""

from __future__ import annotations

import io
import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from PIL import Image
from sampler import SampledFrame, sample_frames

from mediaflow_shared.config import env_int, env_str
from mediaflow_shared.storage import download_to_temp, s3_client
from mediaflow_shared.upload import Upload

logger = Logger()
tracer = Tracer()
metrics = Metrics()

FRAME_JPEG_QUALITY = 85


def work_prefix(job_id: str) -> str:
    return f"{env_str('WORK_PREFIX', 'work/')}{job_id}/"


def _frame_jpeg(frame: SampledFrame, max_width: int) -> tuple[bytes, int, int]:
    image = Image.fromarray(frame.image)
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.Resampling.BOX)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=FRAME_JPEG_QUALITY)
    return out.getvalue(), image.width, image.height


def plan_batches(frame_count: int, per_batch: int) -> list[dict[str, int]]:
    return [
        {"batch": number, "first": first, "count": min(per_batch, frame_count - first)}
        for number, first in enumerate(range(0, frame_count, per_batch))
    ]


@tracer.capture_method
def extract(job_id: str, media: dict[str, Any]) -> dict[str, Any]:
    upload = Upload(media["bucket"], media["key"], media["etag"], media["size"])
    rate = float(env_str("FRAME_SAMPLE_RATE", "1"))
    max_width = env_int("FRAME_MAX_WIDTH", 1280)
    prefix = work_prefix(job_id)
    s3 = s3_client()
    frames: list[dict[str, Any]] = []
    with download_to_temp(upload) as path, ThreadPoolExecutor(max_workers=8) as uploads:
        pending = []
        for frame in sample_frames(path, rate, float(media["duration"]), upload.key):
            data, width, height = _frame_jpeg(frame, max_width)
            key = f"{prefix}frames/f{frame.index:06d}.jpg"
            pending.append(
                uploads.submit(s3.put_object, Bucket=upload.bucket, Key=key, Body=data, ContentType="image/jpeg")
            )
            frames.append(
                {"index": frame.index, "time": round(frame.time, 3), "key": key, "width": width, "height": height}
            )
        for future in pending:
            future.result()

    batches = plan_batches(len(frames), env_int("FRAMES_PER_BATCH", 10))
    manifest_key, batches_key = f"{prefix}frames/manifest.json", f"{prefix}frames/batches.json"
    manifest = {"jobId": job_id, "source": upload.key, "rate": rate, "duration": media["duration"], "frames": frames}
    s3.put_object(Bucket=upload.bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    items = [{**batch, "manifestKey": manifest_key} for batch in batches]
    s3.put_object(Bucket=upload.bucket, Key=batches_key, Body=json.dumps(items).encode())
    inline = len(batches) <= env_int("INLINE_MAP_MAX_BATCHES", 200)
    metrics.add_metric(name="FramesExtracted", unit=MetricUnit.Count, value=len(frames))
    return {
        "manifestKey": manifest_key,
        "batchesKey": batches_key,
        "frameCount": len(frames),
        "batchCount": len(batches),
        "expectedFrames": math.ceil(float(media["duration"]) * rate - 1e-9),
        "maxConcurrency": env_int("DETECT_MAX_CONCURRENCY", 10),
        "mode": "inline" if inline else "distributed",
        "batches": items if inline else [],
    }


@logger.inject_lambda_context(correlation_id_path="executionArn")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = extract(event["jobId"], event["media"])
    logger.info("frames extracted", extra={k: v for k, v in result.items() if k != "batches"})
    return result

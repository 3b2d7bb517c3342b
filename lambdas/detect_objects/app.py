"""DetectObjects: run the configured detector on one image, or on one batch of video frames.

Detections go to S3 (work/<jobId>/detections/...); the state gets a compact summary only.
A batch that cannot be processed raises DetectionFailed naming the batch and its frames.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from detectors import detector_from_environment

from mediaflow_shared.config import env_str
from mediaflow_shared.errors import CorruptMedia, DetectionFailed
from mediaflow_shared.images import open_upright
from mediaflow_shared.storage import read_upload, s3_client

logger = Logger()
tracer = Tracer()
metrics = Metrics()

IMAGE_DETECTION_MAX_SIDE = 1280


def detections_key(job_id: str, name: str) -> str:
    return f"{env_str('WORK_PREFIX', 'work/')}{job_id}/detections/{name}.json"


def _upright_rgb(data: bytes, max_side: int | None = None) -> np.ndarray:
    return np.asarray(open_upright(data, max_side))


def _summary(frames: list[dict[str, Any]]) -> dict[str, Any]:
    labels = Counter(d["label"] for frame in frames for d in frame["detections"])
    return {"frames": len(frames), "detections": sum(labels.values()), "labels": dict(labels)}


def detect_image(job_id: str, media: dict[str, Any]) -> dict[str, Any]:
    data = read_upload(media["bucket"], media["key"], media["etag"])
    try:
        image = _upright_rgb(data, IMAGE_DETECTION_MAX_SIDE)
    except (OSError, SyntaxError, ValueError) as err:
        raise CorruptMedia(f"{media['key']} cannot be decoded: {err}") from err
    detector = detector_from_environment()
    frames = [
        {
            "index": 0,
            "time": 0,
            "key": media["key"],
            "width": int(media["width"]),
            "height": int(media["height"]),
            "detections": [d.as_dict() for d in detector.detect(image)],
        }
    ]
    key = detections_key(job_id, "image")
    s3_client().put_object(
        Bucket=media["bucket"], Key=key, Body=json.dumps({"backend": detector.name, "frames": frames}).encode()
    )
    return {"key": key, "backend": detector.name, **_summary(frames)}


def detect_batch(job_id: str, bucket: str, batch: dict[str, Any]) -> dict[str, Any]:
    s3 = s3_client()
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=batch["manifestKey"])["Body"].read())
    members = manifest["frames"][batch["first"] : batch["first"] + batch["count"]]
    last = batch["first"] + batch["count"] - 1
    detector = detector_from_environment()
    frames = []
    try:
        for frame in members:
            image = _upright_rgb(s3.get_object(Bucket=bucket, Key=frame["key"])["Body"].read())
            frames.append({**frame, "detections": [d.as_dict() for d in detector.detect(image)]})
    except Exception as err:
        raise DetectionFailed(
            f"batch {batch['batch']} (frames {batch['first']}-{last}) failed: {type(err).__name__}: {err}"
        ) from err
    key = detections_key(job_id, f"batch-{batch['batch']:05d}")
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"backend": detector.name, "frames": frames}).encode())
    return {"batch": batch["batch"], "key": key, **_summary(frames)}


@logger.inject_lambda_context(correlation_id_path="executionArn")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "batch" in event:
        result = detect_batch(event["jobId"], event["bucket"], event["batch"])
    else:
        result = detect_image(event["jobId"], event["media"])
    metrics.add_metric(name="FramesAnalysed", unit=MetricUnit.Count, value=result["frames"])
    logger.info("detections written", extra=result)
    return result

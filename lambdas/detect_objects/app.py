"""DetectObjects: run the configured detector on one image, or on one batch of video frames.

Detections go to S3 (the job's work files); the state gets a compact summary only.
A batch that cannot be processed raises DetectionFailed naming the batch and its frames.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from detectors import detector_from_environment, text_reader_from_environment
from inference import Detector, detect_all

from mediaflow_shared.contract.job import CORRELATION_ID_PATH, Batch, Detection, Job, Media, job_step
from mediaflow_shared.contract.layout import layout
from mediaflow_shared.errors import CorruptMedia, DetectionFailed
from mediaflow_shared.images import open_upright
from mediaflow_shared.storage import read_json, read_upload, s3_client, write_json

logger = Logger()
tracer = Tracer()
metrics = Metrics()

IMAGE_DETECTION_MAX_SIDE = 1280
FRAMES_PER_RUN = 8  # decoded and detected together: a batch through the network, 8 x 2.8 MB of pixels


def _upright_rgb(data: bytes, max_side: int | None = None) -> np.ndarray:
    return np.asarray(open_upright(data, max_side))


def _analysed(frames: list[dict[str, Any]], images: list[np.ndarray], detector: Detector) -> list[dict[str, Any]]:
    """The frames with their detections and, if TextDetection is on, their text (Rekognition's DetectText shape)."""
    reader = text_reader_from_environment()
    analysed = []
    for frame, image, found in zip(frames, images, detect_all(detector, images), strict=True):
        text = {"text": reader.read(image)} if reader else {}
        analysed.append({**frame, "detections": [d.as_dict() for d in found], **text})
    return analysed


def _write(job: Job, key: str, backend: str, frames: list[dict[str, Any]]) -> Detection:
    write_json(job["bucket"], key, {"backend": backend, "frames": frames})
    labels = Counter(d["label"] for frame in frames for d in frame["detections"])
    lines = sum(1 for frame in frames for t in frame.get("text", []) if t["Type"] == "LINE")
    return {
        "key": key,
        "backend": backend,
        "frames": len(frames),
        "detections": labels.total(),
        "labels": dict(labels),
        "textLines": lines,
    }


def detect_image(job: Job, media: Media) -> Detection:
    try:
        image = _upright_rgb(read_upload(job), IMAGE_DETECTION_MAX_SIDE)
    except (OSError, SyntaxError, ValueError) as err:
        raise CorruptMedia(f"{job['key']} cannot be decoded: {err}") from err
    detector = detector_from_environment()
    frame = {"index": 0, "time": 0, "key": job["key"], "width": int(media["width"]), "height": int(media["height"])}
    (frame,) = _analysed([frame], [image], detector)
    return _write(job, layout().image_detections(job["jobId"]), detector.name, [frame])


def detect_batch(job: Job, batch: Batch) -> Detection:
    bucket = job["bucket"]
    manifest = read_json(bucket, batch["manifestKey"])  # the segment's: its frames start at firstFrame
    offset = batch["first"] - int(manifest["firstFrame"])
    members = manifest["frames"][offset : offset + batch["count"]]
    last = batch["first"] + batch["count"] - 1
    detector = detector_from_environment()
    frames: list[dict[str, Any]] = []
    try:
        for first in range(0, len(members), FRAMES_PER_RUN):
            chunk = members[first : first + FRAMES_PER_RUN]
            images = [_upright_rgb(s3_client().get_object(Bucket=bucket, Key=f["key"])["Body"].read()) for f in chunk]
            frames += _analysed(chunk, images, detector)
    except Exception as err:
        raise DetectionFailed(
            f"batch {batch['batch']} (frames {batch['first']}-{last}) failed: {type(err).__name__}: {err}"
        ) from err
    return _write(job, layout().batch_detections(job["jobId"], batch["batch"]), detector.name, frames)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
@job_step("detection")
def handler(document: dict[str, Any], context: LambdaContext) -> Detection:
    """`document` is a job with its media (an image) or one Map item: a job and a batch of frames."""
    if "batch" in document:
        result = detect_batch(document["job"], document["batch"])
    else:
        result = detect_image(document["job"], document["media"])
    metrics.add_metric(name="FramesAnalysed", unit=MetricUnit.Count, value=result["frames"])
    logger.info("detections written", extra=dict(result))
    return result

"""Validate: prove what an upload really is before any work is spent on it.

Sniffs the type from magic numbers, enforces the byte, pixel and duration limits, decodes
(a reduced copy of) the content to catch truncated or damaged files, and probes the
metadata the rest of the workflow and the job record need: image size, orientation and
camera; video duration, rate, frame count, resolution, rotation, codec and audio. Every
rejection is a named error (mediaflow_shared.errors).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from image_probe import probe_image

from mediaflow_shared.contract.job import CORRELATION_ID_PATH, Job, Media, job_step
from mediaflow_shared.contract.record import record_kind
from mediaflow_shared.contract.settings import settings
from mediaflow_shared.errors import (
    EmptyMedia,
    MediaFlowError,
    MediaTooLarge,
    UnsupportedMediaType,
)
from mediaflow_shared.s3_reader import S3RangeReader
from mediaflow_shared.sniff import (
    SNIFF_BYTES,
    SUPPORTED_IMAGE_FORMATS,
    SUPPORTED_VIDEO_FORMATS,
    describe_unknown,
    extension_matches,
    extension_of,
    sniff,
)
from mediaflow_shared.storage import read_upload
from mediaflow_shared.video import probe_video

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def validate(job: Job) -> Media:
    key, size, limits = job["key"], job["size"], settings()
    if size == 0:
        raise EmptyMedia(f"{key} is empty (0 bytes)")

    head = read_upload(job, byte_range=f"bytes=0-{SNIFF_BYTES - 1}")
    sniffed = sniff(head)
    ext = extension_of(key) or "(none)"
    if sniffed is None:
        raise UnsupportedMediaType(f"{key} (extension .{ext}) is {describe_unknown(head)}, not a supported image")
    if sniffed.format not in SUPPORTED_IMAGE_FORMATS | SUPPORTED_VIDEO_FORMATS:
        raise UnsupportedMediaType(f"{key} is {sniffed.format.upper()}, which MediaFlow cannot decode yet")
    if size > limits.max_bytes(sniffed.kind):  # from the event's size: nothing more is read
        raise MediaTooLarge(
            f"{key} is {size} bytes; the {sniffed.kind} limit is {limits.max_bytes(sniffed.kind)} bytes"
        )

    if sniffed.kind == "video":
        probe = _probe_video(job)
    else:
        probe = probe_image(
            read_upload(job),
            expected_format=sniffed.format,
            max_pixels=limits.max_image_pixels,
            include_gps=limits.include_gps,
            name=key,
        )
    return {
        "kind": sniffed.kind,
        "format": sniffed.format,
        "mimeType": sniffed.mime_type,
        "size": size,
        "extension": ext,
        "extensionMatchesContent": extension_matches(key, sniffed.format),
        **probe,
    }


def _probe_video(job: Job) -> dict[str, Any]:
    limits = settings()
    with S3RangeReader(job) as reader:  # ranged reads: the header, the index (wherever it is) and the end
        info = probe_video(reader, job["key"])
    logger.info("video probed", extra={"bytesFetched": reader.bytes_fetched, "size": job["size"]})
    if info.duration > limits.max_video_seconds:
        raise MediaTooLarge(f"{job['key']} lasts {info.duration:.1f} s; the limit is {limits.max_video_seconds} s")
    if info.width * info.height > limits.max_image_pixels:
        raise MediaTooLarge(
            f"{job['key']} is {info.width}x{info.height} = {info.width * info.height} pixels per frame; "
            f"the limit is {limits.max_image_pixels} pixels"
        )
    return info.as_dict()


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
@job_step("media")
def handler(document: dict[str, Any], context: LambdaContext) -> Media:
    try:
        media = validate(document["job"])
    except MediaFlowError as err:
        metrics.add_metric(name="UploadsRejected", unit=MetricUnit.Count, value=1)
        logger.warning("upload rejected", extra={"error": type(err).__name__, "reason": str(err)})
        raise
    metrics.add_metric(name="UploadsValidated", unit=MetricUnit.Count, value=1)
    logger.info("upload validated", extra={"media": media})
    _show_kind(document["job"]["jobId"], media["kind"])
    return media


@cache
def _jobs_table() -> Any:
    return boto3.resource("dynamodb").Table(settings().jobs_table)


def _show_kind(job_id: str, kind: str) -> None:
    """Best effort: the kind on the record while the job runs; the job does not depend on it."""
    if not settings().jobs_table:
        return
    try:
        record_kind(_jobs_table(), job_id, kind)
    except ClientError as err:
        logger.warning("kind not recorded early", extra={"error": err.response.get("Error", {}).get("Code")})

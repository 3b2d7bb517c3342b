"""Validate: prove what an upload really is before any work is spent on it.

Sniffs the type from magic numbers, enforces the byte, pixel and duration limits, decodes
(a reduced copy of) the content to catch truncated or damaged files, and probes the
metadata the rest of the workflow and the job record need: image size, orientation and
camera; video duration, rate, frame count, resolution, rotation, codec and audio. Every
rejection is a named error (mediaflow_shared.errors).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from image_probe import probe_image

from mediaflow_shared.config import env_bool, env_int
from mediaflow_shared.errors import (
    EmptyMedia,
    MediaFlowError,
    MediaTooLarge,
    UnsupportedMediaType,
)
from mediaflow_shared.sniff import (
    SNIFF_BYTES,
    SUPPORTED_IMAGE_FORMATS,
    SUPPORTED_VIDEO_FORMATS,
    describe_unknown,
    extension_matches,
    extension_of,
    sniff,
)
from mediaflow_shared.storage import download_to_temp, read_upload
from mediaflow_shared.upload import Upload, upload_from_event
from mediaflow_shared.video import probe_video

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def validate(event: dict[str, Any]) -> dict[str, Any]:
    upload = upload_from_event(event["event"])
    max_bytes = env_int("MAX_UPLOAD_BYTES")
    if upload.size == 0:
        raise EmptyMedia(f"{upload.key} is empty (0 bytes)")
    if upload.size > max_bytes:
        raise MediaTooLarge(f"{upload.key} is {upload.size} bytes; the limit is {max_bytes} bytes")

    head = read_upload(upload.bucket, upload.key, upload.etag, byte_range=f"bytes=0-{SNIFF_BYTES - 1}")
    sniffed = sniff(head)
    ext = extension_of(upload.key) or "(none)"
    if sniffed is None:
        raise UnsupportedMediaType(
            f"{upload.key} (extension .{ext}) is {describe_unknown(head)}, not a supported image"
        )
    if sniffed.format not in SUPPORTED_IMAGE_FORMATS | SUPPORTED_VIDEO_FORMATS:
        raise UnsupportedMediaType(f"{upload.key} is {sniffed.format.upper()}, which MediaFlow cannot decode yet")

    if sniffed.kind == "video":
        probe = _probe_video(upload)
    else:
        probe = probe_image(
            read_upload(upload.bucket, upload.key, upload.etag),
            expected_format=sniffed.format,
            max_pixels=env_int("MAX_IMAGE_PIXELS"),
            include_gps=env_bool("INCLUDE_GPS"),
            name=upload.key,
        )
    return {
        "bucket": upload.bucket,
        "key": upload.key,
        "etag": upload.etag,
        "size": upload.size,
        "kind": sniffed.kind,
        "format": sniffed.format,
        "mimeType": sniffed.mime_type,
        "extension": ext,
        "extensionMatchesContent": extension_matches(upload.key, sniffed.format),
        **probe,
    }


def _probe_video(upload: Upload) -> dict[str, Any]:
    max_seconds = env_int("MAX_VIDEO_SECONDS")
    with download_to_temp(upload) as path:
        info = probe_video(path, upload.key)
    if info.duration > max_seconds:
        raise MediaTooLarge(f"{upload.key} lasts {info.duration:.1f} s; the limit is {max_seconds} s")
    max_pixels = env_int("MAX_IMAGE_PIXELS")
    if info.width * info.height > max_pixels:
        raise MediaTooLarge(
            f"{upload.key} is {info.width}x{info.height} = {info.width * info.height} pixels per frame; "
            f"the limit is {max_pixels} pixels"
        )
    return info.as_dict()


@logger.inject_lambda_context(correlation_id_path="executionArn")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        media = validate(event)
    except MediaFlowError as err:
        metrics.add_metric(name="UploadsRejected", unit=MetricUnit.Count, value=1)
        logger.warning("upload rejected", extra={"error": type(err).__name__, "reason": str(err)})
        raise
    metrics.add_metric(name="UploadsValidated", unit=MetricUnit.Count, value=1)
    logger.info("upload validated", extra={"media": media})
    return media

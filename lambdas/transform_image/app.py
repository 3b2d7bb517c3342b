"""TransformImage: write the renditions of a validated image under the job's output prefix.

Returns S3 keys and sizes only, never image data (Step Functions payloads cap at 256 KB).
All renditions are encoded before the first upload, and a failed upload removes the ones
already written, so a job never leaves partial outputs behind.
"""

from __future__ import annotations

import struct
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from renditions import Rendition, RenditionSpec, make_renditions

from mediaflow_shared.config import env_int, env_list, env_str
from mediaflow_shared.errors import CorruptMedia
from mediaflow_shared.storage import read_upload, s3_client

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def spec_from_environment() -> RenditionSpec:
    return RenditionSpec(
        widths=tuple(int(w) for w in env_list("RENDITION_WIDTHS", "320,640,1280")),
        formats=tuple(env_list("RENDITION_FORMATS", "jpeg,webp")),
        filters=tuple(env_list("IMAGE_FILTERS", "")),
        jpeg_quality=env_int("JPEG_QUALITY", 82),
        webp_quality=env_int("WEBP_QUALITY", 80),
        webp_method=env_int("WEBP_METHOD", 2),
    )


def rendition_key(job_id: str, rendition: Rendition) -> str:
    return f"{env_str('OUTPUT_PREFIX', 'outputs/')}{job_id}/renditions/w{rendition.width}.{rendition.extension}"


@tracer.capture_method
def upload_all(bucket: str, job_id: str, renditions: list[Rendition]) -> list[dict[str, Any]]:
    s3 = s3_client()
    written: list[str] = []
    try:
        for rendition in renditions:
            key = rendition_key(job_id, rendition)
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=rendition.data,
                ContentType=rendition.content_type,
                CacheControl="public, max-age=31536000, immutable",
            )
            written.append(key)
    except Exception:
        for key in written:
            s3.delete_object(Bucket=bucket, Key=key)
        raise
    return [
        {"key": key, "width": r.width, "height": r.height, "format": r.format, "bytes": len(r.data)}
        for key, r in zip(written, renditions, strict=True)
    ]


@logger.inject_lambda_context(correlation_id_path="executionArn")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    media = event["media"]
    data = read_upload(media["bucket"], media["key"], media["etag"])
    try:
        renditions = make_renditions(data, spec_from_environment())
    except (OSError, SyntaxError, ValueError, struct.error) as err:  # Pillow's errors for damaged data
        raise CorruptMedia(f"{media['key']} cannot be decoded: {err}") from err
    outputs = upload_all(media["bucket"], event["jobId"], renditions)
    metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="RenditionsWritten", unit=MetricUnit.Count, value=len(outputs))
    logger.info("renditions written", extra={"count": len(outputs)})
    return {"renditions": outputs}

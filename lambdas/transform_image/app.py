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

from mediaflow_shared.contract.job import CORRELATION_ID_PATH, Job, job_step
from mediaflow_shared.contract.job import Rendition as RenditionRecord
from mediaflow_shared.contract.layout import layout
from mediaflow_shared.contract.settings import settings
from mediaflow_shared.errors import CorruptMedia
from mediaflow_shared.storage import delete_other_objects, read_upload, s3_client

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@tracer.capture_method
def upload_all(job: Job, renditions: list[Rendition]) -> list[RenditionRecord]:
    s3, bucket = s3_client(), job["bucket"]
    written: list[str] = []
    try:
        for rendition in renditions:
            key = layout().rendition(job["jobId"], rendition.width, rendition.extension)
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
    # A reprocess with other widths or formats: the renditions of earlier attempts go.
    delete_other_objects(bucket, layout().renditions(job["jobId"]), keep=set(written))
    return [
        {"key": key, "width": r.width, "height": r.height, "format": r.format, "bytes": len(r.data)}
        for key, r in zip(written, renditions, strict=True)
    ]


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
@job_step("renditions")
def handler(document: dict[str, Any], context: LambdaContext) -> list[RenditionRecord]:
    job = document["job"]
    data = read_upload(job)
    try:
        renditions = make_renditions(data, RenditionSpec.from_settings(settings().with_overrides(job.get("overrides"))))
    except (OSError, SyntaxError, ValueError, struct.error) as err:  # Pillow's errors for damaged data
        raise CorruptMedia(f"{job['key']} cannot be decoded: {err}") from err
    outputs = upload_all(job, renditions)
    metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="RenditionsWritten", unit=MetricUnit.Count, value=len(outputs))
    logger.info("renditions written", extra={"count": len(outputs)})
    return outputs

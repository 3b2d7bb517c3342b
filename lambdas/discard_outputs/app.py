"""DiscardPartialOutputs: on the failure path, delete whatever a failed job already wrote.

A job either succeeds with all of its outputs or fails with none: this removes the job's
outputs/<jobId>/ and work/<jobId>/ prefixes before the failure is recorded and notified.
The upload itself is never touched. It also returns, for the job record and the failure
email, the error's message in plain words (a Lambda error's Cause is a JSON document with a
stack trace) and the upload's name as the user wrote it (the event's key is URL-encoded).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaflow_shared.config import env_str
from mediaflow_shared.errors import lambda_error_message
from mediaflow_shared.storage import s3_client

logger = Logger()


def discard(bucket: str, job_id: str) -> int:
    s3 = s3_client()
    deleted = 0
    for prefix in (f"{env_str('OUTPUT_PREFIX', 'outputs/')}{job_id}/", f"{env_str('WORK_PREFIX', 'work/')}{job_id}/"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
    return deleted


def failure_message(error: dict[str, Any]) -> str:
    """The errorMessage of a Lambda error's JSON cause, or the cause itself."""
    cause = error.get("Cause") or ""
    return (lambda_error_message(cause) or cause)[:1000] or error.get("Error", "unknown error")


@logger.inject_lambda_context(correlation_id_path="executionArn")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deleted = discard(event["bucket"], event["jobId"])
    logger.info("partial outputs discarded", extra={"deleted": deleted})
    return {
        "deleted": deleted,
        "message": failure_message(event.get("error", {})),
        "file": unquote_plus(event.get("key", "")),
    }

"""S3 access shared by the handlers.

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to the local emulator.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from mediaflow_shared.errors import UploadChanged, UploadNotFound

if TYPE_CHECKING:
    from mediaflow_shared.contract.job import Job


@cache
def s3_client() -> Any:
    return boto3.client("s3")


def _is_missing(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def _is_changed(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") in {"412", "PreconditionFailed"}


def object_exists(bucket: str, key: str) -> bool:
    try:
        s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if _is_missing(err):
            return False
        raise
    return True


def _open_upload(job: Job, byte_range: str | None = None) -> Any:
    """GetObject as the event saw it: IfMatch guards against a newer overwrite."""
    bucket, key, etag = job["bucket"], job["key"], job["etag"]
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "IfMatch": f'"{etag}"'}
    if byte_range:
        kwargs["Range"] = byte_range
    try:
        return s3_client().get_object(**kwargs)["Body"]
    except ClientError as err:
        if _is_missing(err):
            raise UploadNotFound(f"s3://{bucket}/{key} does not exist (deleted before processing?)") from err
        if _is_changed(err):
            raise UploadChanged(f"s3://{bucket}/{key} was overwritten after this event (etag {etag})") from err
        raise


def read_upload(job: Job, byte_range: str | None = None) -> bytes:
    return _open_upload(job, byte_range).read()


def read_json(bucket: str, key: str) -> Any:
    return json.loads(s3_client().get_object(Bucket=bucket, Key=key)["Body"].read())


def write_object(bucket: str, key: str, body: bytes, content_type: str) -> str:
    s3_client().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return key


def list_keys(bucket: str, prefix: str) -> set[str]:
    """Every key under `prefix`."""
    pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {obj["Key"] for page in pages for obj in page.get("Contents", [])}


def delete_other_objects(bucket: str, prefix: str, keep: set[str]) -> int:
    """Delete every object under `prefix` but those in `keep` (what an earlier attempt or a failed
    job left); returns how many were deleted. A list page holds at most 1,000 keys, as many as
    one DeleteObjects takes."""
    s3, deleted = s3_client(), 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        stale = [{"Key": obj["Key"]} for obj in page.get("Contents", []) if obj["Key"] not in keep]
        if stale:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": stale, "Quiet": True})
            deleted += len(stale)
    return deleted


def write_json(bucket: str, key: str, document: Any) -> str:
    return write_object(bucket, key, json.dumps(document).encode(), "application/json")

"""Large uploads from the page: S3 multipart upload, with the parts presigned for the browser.

The browser sends each part straight to S3 (a presigned UploadPart URL), in parallel, and
retries a part that fails; this API only starts, presigns, completes and aborts. Completing
lists the parts S3 holds instead of trusting ETags from the browser (a cross-origin page can
read them only if the bucket's CORS exposes them), and refuses while a part is missing. An
upload that is never completed is aborted by the bucket's lifecycle rule
(AbortIncompleteMultipartUpload), so abandoned parts stop costing storage.
"""

from __future__ import annotations

import math
import re
from typing import Any

from mediaflow_shared.contract.layout import layout
from mediaflow_shared.contract.settings import settings
from mediaflow_shared.storage import s3_client

MIB = 1024 * 1024
MIN_PART_BYTES = 16 * MIB  # S3's floor is 5 MiB; fewer, larger parts mean fewer requests
MAX_PARTS = 10_000  # S3's ceiling
URLS_PER_REQUEST = 100
URL_SECONDS = 3600


class MultipartError(ValueError):
    """A request this API refuses (the message says why); the route answers 400."""


def part_size_for(size: int) -> int:
    """The smallest whole-MiB part size, at least MIN_PART_BYTES, that fits `size` in MAX_PARTS parts."""
    return max(MIN_PART_BYTES, math.ceil(size / MAX_PARTS / MIB) * MIB)


def _checked_key(key: str) -> str:
    """Only keys this API hands out: <upload prefix><uuid>/<name>."""
    prefix = layout().upload_prefix
    if not key.startswith(prefix) or not re.fullmatch(r"[0-9a-f-]{36}/[^/]+", key[len(prefix) :]):
        raise MultipartError("key is not an upload this API started")
    return key


def start(key: str, content_type: str, size: int) -> dict[str, Any]:
    kind = content_type.split("/", 1)[0]
    limit = settings().max_bytes(kind)
    if size > limit:
        raise MultipartError(f"the file is {size} bytes; the {kind} limit is {limit} bytes")
    part_size = part_size_for(size)
    upload = s3_client().create_multipart_upload(Bucket=settings().media_bucket, Key=key, ContentType=content_type)
    return {
        "key": key,
        "uploadId": upload["UploadId"],
        "partSize": part_size,
        "partCount": max(1, math.ceil(size / part_size)),
        "maxBytes": limit,
    }


def presign_parts(key: str, upload_id: str, part_numbers: list[int]) -> dict[str, str]:
    if len(part_numbers) > URLS_PER_REQUEST:
        raise MultipartError(f"at most {URLS_PER_REQUEST} parts per request")
    s3, bucket = s3_client(), settings().media_bucket
    return {
        str(number): s3.generate_presigned_url(
            "upload_part",
            Params={"Bucket": bucket, "Key": _checked_key(key), "UploadId": upload_id, "PartNumber": number},
            ExpiresIn=URL_SECONDS,
        )
        for number in part_numbers
    }


def complete(key: str, upload_id: str, part_count: int) -> dict[str, Any]:
    s3, bucket = s3_client(), settings().media_bucket
    pages = s3.get_paginator("list_parts").paginate(Bucket=bucket, Key=_checked_key(key), UploadId=upload_id)
    held = {part["PartNumber"]: part["ETag"] for page in pages for part in page.get("Parts", [])}
    missing = [number for number in range(1, part_count + 1) if number not in held]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
        raise MultipartError(f"part(s) {shown} of {part_count} have not arrived")
    parts = [{"PartNumber": number, "ETag": held[number]} for number in range(1, part_count + 1)]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    return {"key": key, "parts": part_count}


def abort(key: str, upload_id: str) -> dict[str, Any]:
    s3_client().abort_multipart_upload(Bucket=settings().media_bucket, Key=_checked_key(key), UploadId=upload_id)
    return {"key": key, "aborted": True}

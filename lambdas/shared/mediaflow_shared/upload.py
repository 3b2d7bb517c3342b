"""The upload an S3 EventBridge "Object Created" event describes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from mediaflow_shared.errors import UploadNotFound
from mediaflow_shared.storage import head_upload


@dataclass(frozen=True)
class Upload:
    bucket: str
    key: str
    etag: str
    size: int


def upload_from_event(event: dict[str, Any]) -> Upload:
    """Find the object the event names.

    S3 URL-encodes keys in event payloads ("my photo.jpg" arrives as "my+photo.jpg");
    Powertools decodes it. The raw key is tried second, for emitters that do not encode.
    """
    detail = S3EventBridgeNotificationEvent(event).detail
    bucket = detail.bucket.name
    candidates = dict.fromkeys([detail.object.key, detail.object.raw_event["key"]])
    missing: UploadNotFound | None = None
    for key in candidates:
        try:
            head = head_upload(bucket, key)
        except UploadNotFound as err:
            missing = err
            continue
        etag = detail.object.etag or head["ETag"].strip('"')
        return Upload(bucket=bucket, key=key, etag=etag, size=int(head["ContentLength"]))
    assert missing is not None
    raise missing

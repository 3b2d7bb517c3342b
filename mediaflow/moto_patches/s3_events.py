"""S3's EventBridge notifications as AWS sends them, at the cost of the event alone.

moto 5.2.5, for every PutObject, also stores the object's (empty) tag set through its
PutObjectTagging path, and that path sends an "Object Tags Added" event: every upload and every
output reaches EventBridge twice, and a rule on `detail-type: Object Tags Added` fires for
objects that have no tags. AWS sends that event for PutObjectTagging only. Building each event
also rebuilt and sorted the list of all S3 event names three times.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from moto.s3 import models as s3_models
from moto.s3 import notifications

original_put_object_tagging = s3_models.S3Backend.put_object_tagging
original_event_names = notifications.S3NotificationEvent.events


def _put_object_tagging(self: Any, key: Any, tags: dict[str, str] | None, *args: Any, **kwargs: Any) -> Any:
    """An upload without tags on an object without tags changes nothing, and AWS says nothing."""
    if not tags and key is not None and not self.tagger.list_tags_for_resource(key.arn)["Tags"]:
        return key
    return original_put_object_tagging(self, key, tags, *args, **kwargs)


@cache
def _event_names(_: type) -> list[str]:
    return original_event_names.__func__(notifications.S3NotificationEvent)


def apply() -> None:
    s3_models.S3Backend.put_object_tagging = _put_object_tagging
    notifications.S3NotificationEvent.events = classmethod(_event_names)

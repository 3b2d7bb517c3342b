"""The one form the runtime writes times in, and reads them back from.

ISO 8601, UTC, milliseconds, 'Z': Step Functions' context-object format, and what the state
store keeps (object LastModified, execution start and stop). moto's own datetimes are naive UTC
or aware; a naive one is UTC, never the machine's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_timestamp(value: datetime) -> str:
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"


def naive_utc(text: str) -> datetime:
    """The naive UTC datetime moto keeps, from an `iso_timestamp`."""
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)

"""A failure in words: the message inside a failed state's Cause, and a sentence per error name."""

from __future__ import annotations

import json
from collections.abc import Mapping

# Plain sentences for the named errors (docs/architecture.md#named-errors).
FAILURE_REASONS = {
    "EmptyMedia": "The file is empty (or a video without any frames).",
    "MediaTooLarge": "The file is too large: too many bytes, pixels or seconds for the configured limits.",
    "UnsupportedMediaType": "This is not an image or video MediaFlow can process, whatever its file name says.",
    "CorruptMedia": "The file is damaged or truncated and cannot be decoded.",
    "UploadNotFound": "The upload was deleted before it could be processed.",
    "UploadChanged": "The upload was replaced by a newer file while it was being processed.",
    "DetectionFailed": "Object detection failed on part of the video.",
    "DetectionIncomplete": "Object detection did not finish for every part of the video.",
    "Sandbox.Timedout": "A processing step ran out of time.",
    "States.DataLimitExceeded": "A step produced more data than Step Functions can pass between states.",
}
UNKNOWN_FAILURE_REASON = "Processing failed unexpectedly."
MAX_FAILURE_MESSAGE = 1000


def lambda_error_message(cause: str | None) -> str | None:
    """The errorMessage inside a Lambda error's Cause ({errorType, errorMessage, stackTrace}),
    or None when the cause is not such a document (a States.* error, an empty cause)."""
    try:
        parsed = json.loads(cause) if cause else None
    except json.JSONDecodeError:
        return None
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return None


def failure_message(error: Mapping[str, str]) -> str:
    """A failed state's {Error, Cause} in words: a Lambda error's message, or the cause itself."""
    cause = error.get("Cause") or ""
    return (lambda_error_message(cause) or cause)[:MAX_FAILURE_MESSAGE] or error.get("Error", "unknown error")


def failure_reason(error_name: str | None) -> str:
    """One plain sentence for a named error."""
    return FAILURE_REASONS.get(error_name or "", UNKNOWN_FAILURE_REASON)

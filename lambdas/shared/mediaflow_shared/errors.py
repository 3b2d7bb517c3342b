"""Named errors a user's upload can cause.

Lambda reports an unhandled exception's class name as `errorType`, and Step Functions
matches Retry/Catch on it, so each class name below is part of the workflow's contract:
they are media problems that retrying cannot fix.
"""


class MediaFlowError(Exception):
    """Base class: the upload cannot be processed as it is."""


class EmptyMedia(MediaFlowError):
    """The object has zero bytes."""


class MediaTooLarge(MediaFlowError):
    """Bytes or pixel count exceed the configured limits (decompression bombs land here)."""


class UnsupportedMediaType(MediaFlowError):
    """The content is not a media type MediaFlow processes (whatever its extension says)."""


class CorruptMedia(MediaFlowError):
    """The content claims a supported type but cannot be decoded (truncated, damaged)."""


class UploadNotFound(MediaFlowError):
    """The uploaded object no longer exists (deleted before processing)."""


class UploadChanged(MediaFlowError):
    """The object was overwritten after the event; the newer upload gets its own event."""


# Not MediaFlowError: the upload is not processed at all, and nothing failed.
class FolderObject(Exception):
    """The "upload" is a folder marker (an empty key ending in "/"): the workflow ignores it."""


# Not MediaFlowError: these are processing failures, which the ASL retries.
class DetectionFailed(Exception):
    """A batch of frames could not be analysed; the message names the batch and its frames."""


class DetectionIncomplete(Exception):
    """Aggregate found batches without results (a fan-out that lost work must not succeed)."""

"""The job: what one upload becomes as it moves through the workflow, and what is kept of it.

The state machine passes one document from state to state, the `JobDocument`. Each part is
written by one state and read by those after it:

    job      DescribeUpload         which upload this is (the key decoded, once)
    media    Validate               what the upload really is
    image    ProcessImage           renditions and detections of an image
    frames   ExtractFrames          the sampled frames of a video and their batches
    results  Aggregate              the summary of results.json
    error    any Catch              {Error, Cause} of the state that failed
    failure  DiscardPartialOutputs  the failure in words, for the record and the email

Each Lambda step receives the whole document and returns it with its own part added
(`job_step`), so the ASL passes the job through whole (`"Payload.$": "$"`, `OutputPath
$.Payload`) and never re-lists its fields. The job record in DynamoDB (`JobRecord`) is
written by the ASL's RecordJob, RecordSuccess and RecordFailure states; its attribute names
and statuses are the ones below (tests/unit/test_contract.py holds the ASL to them).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

# -- the document the state machine passes ---------------------------------------------------


class Job(TypedDict):
    jobId: str
    bucket: str
    key: str  # as uploaded: S3 URL-encodes it in events; DescribeUpload decodes it, once
    etag: str
    size: int
    versionId: NotRequired[str]
    executionArn: str
    startedAt: str


class Media(TypedDict, total=False):
    """What Validate proved about the upload (images add EXIF facts, videos stream facts)."""

    kind: Literal["image", "video"]
    format: str
    mimeType: str
    size: int
    extension: str
    extensionMatchesContent: bool
    width: int
    height: int
    duration: float
    fps: float
    frameCount: int
    rotation: int
    codec: str
    hasAudio: bool
    orientation: int
    exif: dict[str, Any]


class Rendition(TypedDict):
    key: str
    width: int
    height: int
    format: str
    bytes: int


class Detection(TypedDict):
    """DetectObjects' summary of one image or batch; the boxes themselves are in S3 at `key`."""

    key: str
    backend: str
    frames: int
    detections: int
    labels: dict[str, int]


class ImageOutputs(TypedDict):
    renditions: list[Rendition]
    detection: Detection


class Batch(TypedDict):
    batch: int
    first: int
    count: int
    manifestKey: str


class Frames(TypedDict):
    manifestKey: str
    batchesKey: str
    frameCount: int
    batchCount: int
    maxConcurrency: int
    mode: Literal["inline", "distributed"]
    batches: list[Batch]  # empty in distributed mode: the Map reads them from batchesKey


class Results(TypedDict):
    resultsKey: str
    renditions: list[Rendition]
    labels: list[dict[str, Any]]
    topLabels: str
    outputsSummary: str
    frameCount: int
    segments: int
    annotated: list[str]
    contactSheet: str | None


class Failure(TypedDict):
    message: str  # the cause in words
    kind: str  # the media kind, or "unknown" when the job failed before Validate knew it
    discarded: NotRequired[int]  # partial outputs and work files deleted


class JobDocument(TypedDict, total=False):
    job: Job
    media: Media
    image: ImageOutputs
    frames: Frames
    results: Results
    error: dict[str, str]
    failure: Failure


class BatchItem(TypedDict):
    """One Map iteration's input: the job and the batch of frames it analyses."""

    job: Job
    batch: Batch


# What the failure path reports if DiscardPartialOutputs itself could not describe the failure.
UNDESCRIBED_FAILURE: Failure = {"message": "(see the job's execution history for the cause)", "kind": "unknown"}

# Powertools Logger's correlation id: every step's event carries the job.
CORRELATION_ID_PATH = "job.executionArn"


def job_id_for(bucket: str, key: str, etag: str) -> str:
    """One id per upload: every delivery of the same object version's event maps to it."""
    return hashlib.sha256(f"{bucket}/{key}/{etag}".encode()).hexdigest()


def job_from_event(event: Mapping[str, Any], execution_arn: str, started_at: str) -> Job:
    """The job an S3 EventBridge "Object Created" event starts (Powertools decodes the key)."""
    detail = S3EventBridgeNotificationEvent(dict(event)).detail
    key, etag, raw = detail.object.key, detail.object.etag, detail.object.raw_event
    job: Job = {
        "jobId": job_id_for(detail.bucket.name, key, etag),
        "bucket": detail.bucket.name,
        "key": key,
        "etag": etag,
        "size": int(raw.get("size", 0)),
        "executionArn": execution_arn,
        "startedAt": started_at,
    }
    if raw.get("version-id"):  # versioned buckets only
        job["versionId"] = raw["version-id"]
    return job


def new_document(job: Job) -> JobDocument:
    return {"job": job, "failure": UNDESCRIBED_FAILURE}


def job_step(part: str) -> Callable[[Callable[..., Any]], Callable[..., dict[str, Any]]]:
    """Make `handler(document, context) -> part` a step that returns the document with
    `document[part]` set: the state machine passes the job through whole."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(handler)
        def step(document: dict[str, Any], context: Any) -> dict[str, Any]:
            return {**document, part: handler(document, context)}

        return step

    return decorate


# -- statuses --------------------------------------------------------------------------------


class JobStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


FINISHED_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})
# Step Functions' own execution statuses that end an execution.
FINISHED_EXECUTION_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
EXECUTION_SUCCEEDED = "SUCCEEDED"


# -- the job record (DynamoDB) ---------------------------------------------------------------


class JobRecord(TypedDict, total=False):
    # RecordJob: the idempotency guard's conditional put.
    jobId: str
    recordType: Literal["job"]  # the ByStartedAt index's partition: every job
    status: JobStatus
    bucket: str
    key: str
    etag: str
    executionArn: str
    startedAt: str
    updatedAt: str
    # RecordSuccess and RecordFailure.
    finishedAt: str
    kind: str
    # RecordSuccess.
    media: Media  # stored as JSON
    results: Results  # stored as JSON
    topLabels: str
    # RecordFailure.
    error: str
    errorCause: str
    failureMessage: str


RECORD_TYPE = "job"
JOB_INDEX = "ByStartedAt"
_JSON_ATTRIBUTES = ("media", "results")


def record_from_item(item: Mapping[str, Any]) -> JobRecord:
    """A job record from a DynamoDB item, as boto3's resource API or `plain_item` gives it."""
    record: dict[str, Any] = dict(item)
    for name in _JSON_ATTRIBUTES:
        if isinstance(record.get(name), str):
            record[name] = json.loads(record[name])
    return record  # type: ignore[return-value]


def plain_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A low-level DynamoDB item ({"S": ...}) as plain values (the record has strings only)."""
    return {name: next(iter(value.values())) for name, value in item.items()}


# -- failures in words -----------------------------------------------------------------------

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

"""The job: what one upload becomes as it moves through the workflow, and what is kept of it.

The state machine passes one document from state to state, the `JobDocument`. Each part is
written by one state and read by those after it:

    job      DescribeUpload         which upload this is (the key decoded, once)
    media    Validate               what the upload really is
    image    ProcessImage           renditions and detections of an image
    frames   ExtractFrames          the plan: the video's segments (each Map iteration adds
                                    `sampled`, its frames and their detection batches)
    results  Aggregate              the summary of results.json
    error    any Catch              {Error, Cause} of the state that failed
    failure  DiscardPartialOutputs  the failure in words, for the record and the email

Each Lambda step receives the whole document and returns it with its own part added
(`job_step`), so the ASL passes the job through whole (`"Payload.$": "$"`, `OutputPath
$.Payload`) and never re-lists its fields. What is kept of a job is its
record (contract/record.py).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import quote_plus

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
    attempt: int  # 1 for the upload's own event; each deliberate reprocess adds one
    overrides: NotRequired[dict[str, str]]  # template parameters this attempt runs with instead


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
    textLines: NotRequired[int]  # lines of text read (TextDetection)


class ImageOutputs(TypedDict):
    renditions: list[Rendition]
    detection: Detection


class Batch(TypedDict):
    batch: int  # unique in the job: the segment's firstBatch plus its place in the segment
    first: int  # the first frame's index (frame k samples time k / rate)
    count: int
    manifestKey: str  # the segment manifest that lists the batch's frames


class Segment(TypedDict):
    """One span of the video that one ExtractFrames invocation samples (planned by seeking)."""

    segment: int
    start: float  # seconds
    end: float
    firstFrame: int
    frameCount: int  # planned: the stream may end before its last target
    firstBatch: int


class Frames(TypedDict):
    """ExtractFrames' plan: the segments the video is sampled in, fanned out by a Map."""

    segmentsKey: str  # the plan in S3: the Distributed Map reads the segments from it
    segmentCount: int
    segmentSeconds: float
    rate: float
    frameCount: int  # planned
    batchCount: int  # planned
    segmentConcurrency: int
    mode: Literal["inline", "distributed"]
    segments: list[Segment]  # empty in distributed mode: the Map reads them from segmentsKey


class SampledSegment(TypedDict):
    """What one segment's sampling produced: its frames are listed in the manifest in S3."""

    segment: int
    manifestKey: str
    frameCount: int
    batches: list[Batch]
    maxConcurrency: int  # detection batches in flight for this segment
    bytesRead: int


class Results(TypedDict):
    resultsKey: str
    cost: NotRequired[dict[str, Any]]  # mediaflow_shared.cost.JobCost.as_dict()
    costSummary: NotRequired[str]
    renditions: list[Rendition]
    labels: list[dict[str, Any]]
    topLabels: str
    outputsSummary: str
    frameCount: int
    segments: int  # timeline segments (a label's presence)
    scenes: NotRequired[int]  # shots found in a video (results.json lists them)
    textLines: NotRequired[int]  # distinct lines of text read (results.json's `text`)
    readRequests: NotRequired[int]  # ranged GETs that sampled the video
    annotated: list[str]
    contactSheet: str | None


class Failure(TypedDict):
    message: str  # the cause in words
    kind: str  # the media kind, or "unknown" when the job failed before Validate knew it
    discarded: NotRequired[int]  # partial outputs and work files deleted
    cost: NotRequired[dict[str, Any]]
    costSummary: str


class JobDocument(TypedDict, total=False):
    job: Job
    media: Media
    image: ImageOutputs
    frames: Frames
    results: Results
    error: dict[str, str]
    failure: Failure


class SegmentItem(TypedDict):
    """One iteration of the segment Map: the job and the segment it samples (and then, as
    `sampled`, what the sampling produced, for the detection Map nested in the iteration)."""

    job: Job
    segment: Segment
    sampled: NotRequired[SampledSegment]


class BatchItem(TypedDict):
    """One iteration of the detection Map: the job and the batch of frames it analyses."""

    job: Job
    batch: Batch


# What the failure path reports if DiscardPartialOutputs itself could not describe the failure.
UNDESCRIBED_FAILURE: Failure = {
    "message": "(see the job's execution history for the cause)",
    "kind": "unknown",
    "costSummary": "(not computed)",
}

# Powertools Logger's correlation id: every step's event carries the job.
CORRELATION_ID_PATH = "job.executionArn"


def job_id_for(bucket: str, key: str, etag: str) -> str:
    """One id per upload: every delivery of the same object version's event maps to it."""
    return hashlib.sha256(f"{bucket}/{key}/{etag}".encode()).hexdigest()


def job_from_event(
    event: Mapping[str, Any],
    execution_arn: str,
    started_at: str,
    exists: Callable[[str, str], bool] | None = None,
) -> Job:
    """The job an S3 EventBridge "Object Created" event starts.

    S3 URL-encodes the key in its events; Powertools decodes it. A hand-made or replayed event
    may carry the key as it is: with `exists(bucket, key)`, a decoded key that names no object
    falls back to the key as sent when that one does, so every form of one upload's event
    names the same job (if neither exists, Validate reports UploadNotFound)."""
    detail = S3EventBridgeNotificationEvent(dict(event)).detail
    bucket, raw = detail.bucket.name, detail.object.raw_event
    key, etag = detail.object.key, detail.object.etag
    if exists and key != raw["key"] and not exists(bucket, key) and exists(bucket, raw["key"]):
        key = raw["key"]
    job: Job = {
        "jobId": job_id_for(bucket, key, etag),
        "bucket": bucket,
        "key": key,
        "etag": etag,
        "size": int(raw.get("size", 0)),
        "executionArn": execution_arn,
        "startedAt": started_at,
        "attempt": 1,
    }
    if raw.get("version-id"):  # versioned buckets only
        job["versionId"] = raw["version-id"]
    reprocess = event.get(REPROCESS_FIELD) or {}
    if reprocess:
        job["attempt"] = int(reprocess["attempt"])
        if reprocess.get("overrides"):
            job["overrides"] = {str(k): str(v) for k, v in reprocess["overrides"].items()}
    return job


# A deliberate reprocess is the upload's event plus this field: {"attempt": n, "overrides": {...}}.
# EventBridge never sends it, so a duplicate of the original event stays attempt 1 (a duplicate).
REPROCESS_FIELD = "mediaflowReprocess"
# Template parameters a reprocess may override (TransformImage reads them from the job).
REPROCESS_OVERRIDABLE = (
    "RenditionWidths",
    "RenditionFormats",
    "ImageFilters",
    "JpegQuality",
    "WebpQuality",
    "WebpMethod",
)


def next_attempt(record: Mapping[str, Any]) -> int:
    """The attempt a reprocess of this job record is: one more than the record's."""
    return int(record.get("attempt", 1)) + 1


def reprocess_event(job: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The "Object Created" event of a recorded job's upload, marked as its next attempt."""
    obj: dict[str, Any] = {
        "key": quote_plus(job["key"], safe="/"),
        "etag": job["etag"],
        "size": int(job.get("size", 0)),
    }
    if job.get("versionId"):
        obj["version-id"] = job["versionId"]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": {"version": "0", "bucket": {"name": job["bucket"]}, "object": obj, "reason": "PutObject"},
        REPROCESS_FIELD: {"attempt": next_attempt(job), "overrides": dict(overrides or {})},
    }


def is_folder_object(job: Job) -> bool:
    """What the S3 console's "Create folder" writes: an empty object whose key ends in "/"."""
    return job["key"].endswith("/") and job["size"] == 0


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

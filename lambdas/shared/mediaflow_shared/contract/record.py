"""The job record in DynamoDB: its attributes, its statuses, and reading it back.

The ASL's RecordJob, RecordSuccess and RecordFailure states write it with Step Functions'
direct DynamoDB integration; tests/unit/test_contract.py holds their attribute names and
status values to the ones below. The status API and the local runtime read it back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal, TypedDict

from mediaflow_shared.contract.job import Media, Results

# -- statuses --------------------------------------------------------------------------------


class JobStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


FINISHED_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})
# Step Functions' own execution statuses that end an execution.
FINISHED_EXECUTION_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
EXECUTION_SUCCEEDED = "SUCCEEDED"
EXECUTION_RUNNING = "RUNNING"


# -- the job record (DynamoDB) ---------------------------------------------------------------


class JobRecord(TypedDict, total=False):
    # RecordJob: the idempotency guard's conditional put.
    jobId: str
    recordType: Literal["job"]  # the ByStartedAt index's partition: every job
    status: JobStatus
    bucket: str
    key: str
    etag: str
    size: int
    attempt: int  # 1, then one more for each deliberate reprocess
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
    # RecordSuccess and RecordFailure: what the job cost, in words (mediaflow_shared.cost).
    costSummary: str


# What RecordJob's conditional put fails with when the job exists: the event is a duplicate.
DUPLICATE_EVENT_ERROR = "DynamoDB.ConditionalCheckFailedException"
RECORD_TYPE = "job"
JOB_INDEX = "ByStartedAt"
_JSON_ATTRIBUTES = ("media", "results")


def record_kind(table: Any, job_id: str, kind: str) -> None:
    """Put the media kind on the record as soon as Validate knows it (the page shows it while the
    job runs); RecordSuccess and RecordFailure write it again at the end."""
    table.update_item(
        Key={"jobId": job_id},
        UpdateExpression="SET kind = :kind",
        ConditionExpression="attribute_exists(jobId)",  # never create a record RecordJob did not
        ExpressionAttributeValues={":kind": kind},
    )


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

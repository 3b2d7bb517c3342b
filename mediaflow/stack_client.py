"""A client of a running local stack: upload, follow executions, read jobs and outputs.

It talks to the stack only through the AWS APIs at `endpoint`, so it serves the stack this
process runs (LocalStack) and one that `mediaflow up` runs elsewhere (`process --endpoint`).
Resource names come from the bound template, as CloudFormation would name them.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from mediaflow.template import REGION, Template
from mediaflow_shared.contract.job import job_from_event, reprocess_event
from mediaflow_shared.contract.layout import Layout
from mediaflow_shared.contract.record import (
    FINISHED_EXECUTION_STATUSES,
    JobRecord,
    plain_item,
    record_from_item,
)

LOCAL_CREDENTIALS = {"aws_access_key_id": "mediaflow", "aws_secret_access_key": "mediaflow"}


class StackClient:
    def __init__(self, template: Template, endpoint: str) -> None:
        self.template = template
        self.endpoint = endpoint
        parameters = template.parameters
        self.layout = Layout(parameters["UploadPrefix"], parameters["OutputPrefix"], parameters["WorkPrefix"])
        self._session = boto3.Session(region_name=REGION, **LOCAL_CREDENTIALS)
        self._clients: dict[str, Any] = {}
        self._job_by_execution: dict[str, dict[str, Any]] = {}  # an execution's input never changes

    # -- access ------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, endpoint_url=self.endpoint, config=Config(retries={"max_attempts": 2})
            )
        return self._clients[service]

    @property
    def bucket(self) -> str:
        return self.template.physical_ids["MediaBucket"]

    @property
    def table(self) -> str:
        return self.template.physical_ids["JobsTable"]

    @property
    def state_machine_arn(self) -> str:
        return self.template.physical_ids["MediaPipelineStateMachine"]

    def _keys_under(self, prefix: str) -> list[str]:
        pages = self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def list_work_files(self, job_id: str) -> list[str]:
        return self._keys_under(self.layout.work(job_id))

    # -- jobs --------------------------------------------------------------------------

    def upload(self, path: Path, key: str | None = None) -> tuple[str, str]:
        """Upload a file under the upload prefix; returns (key, etag)."""
        key = key or f"{self.layout.upload_prefix}{path.name}"
        s3 = self.client("s3")
        s3.upload_file(str(path), self.bucket, key)  # boto3's managed transfer: multipart for big files
        return key, s3.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')

    def executions_for(self, key: str, etag: str | None = None) -> list[dict[str, Any]]:
        """Executions whose input event names this object, oldest first.

        Each execution is described once to learn its object (an input never changes). With an
        ETag that the object still has, ListExecutions is read newest first only down to the
        object's upload: no execution for it started before, so a poll costs the executions
        since, not every one a long-lived state dir holds."""
        sfn = self.client("stepfunctions")
        uploaded = self._uploaded_at(key, etag) if etag is not None else None
        found = []
        paginator = sfn.get_paginator("list_executions")
        # Down to the upload, the newest few pages are all there is to read: small pages then.
        pages = {"PaginationConfig": {"PageSize": 20}} if uploaded is not None else {}
        for page in paginator.paginate(stateMachineArn=self.state_machine_arn, **pages):
            for execution in page["executions"]:  # newest first
                if uploaded is not None and execution["startDate"] < uploaded:
                    return sorted(found, key=lambda e: e["startDate"])
                arn = execution["executionArn"]
                job = self._job_by_execution.get(arn) or self._job_of(sfn.describe_execution(executionArn=arn))
                if job["key"] == key and (etag is None or job["etag"] == etag):
                    found.append(sfn.describe_execution(executionArn=arn))
        return sorted(found, key=lambda e: e["startDate"])

    def _uploaded_at(self, key: str, etag: str) -> datetime | None:
        """When the object with `etag` was written, to the second (the Last-Modified header
        drops the fraction: never later than the write), or None if the key now holds other
        bytes or nothing."""
        try:
            head = self.client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        if head["ETag"].strip('"') != etag:
            return None
        return head["LastModified"]

    def wait_for_execution(
        self,
        key: str,
        etag: str | None = None,
        timeout: float = 120,
    ) -> dict[str, Any]:
        """Wait for the newest execution started for `key` to finish (its status only: no history read)."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        execution_arn = None
        while time.monotonic() < deadline:
            if execution_arn is None:
                executions = self.executions_for(key, etag)
                execution_arn = executions[-1]["executionArn"] if executions else None
            if execution_arn:
                described = sfn.describe_execution(executionArn=execution_arn)
                if described["status"] in FINISHED_EXECUTION_STATUSES:
                    return described
            time.sleep(0.1)
        raise TimeoutError(f"no finished execution for {key} within {timeout} s")

    def events_after(self, execution_arn: str, last_seen_id: int, page_size: int = 100) -> list[dict[str, Any]]:
        """The history events newer than `last_seen_id`, oldest first: read newest first, a page
        at a time, until a seen one, so each poll costs the new events, not the whole history."""
        sfn = self.client("stepfunctions")
        newer: list[dict[str, Any]] = []
        pages = sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution_arn, reverseOrder=True, PaginationConfig={"PageSize": page_size}
        )
        for page in pages:
            fresh = [event for event in page["events"] if event["id"] > last_seen_id]
            newer.extend(fresh)
            if len(fresh) < len(page["events"]):
                break
        return newer[::-1]

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every history event of an execution (all pages)."""
        paginator = self.client("stepfunctions").get_paginator("get_execution_history")
        return [event for page in paginator.paginate(executionArn=execution_arn) for event in page["events"]]

    def _job_of(self, execution: dict[str, Any]) -> dict[str, Any]:
        """The job an execution's input event starts (its key resolved as DescribeUpload does),
        worked out once per execution: polls ask again and again."""
        arn = execution["executionArn"]
        if arn not in self._job_by_execution:
            event = json.loads(execution["input"])
            self._job_by_execution[arn] = dict(job_from_event(event, arn, "", self._exists))
        return self._job_by_execution[arn]

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self.client("s3").head_object(Bucket=bucket, Key=key)
        except self.client("s3").exceptions.ClientError:
            return False
        return True

    def job_for_execution(self, execution_arn: str) -> JobRecord | None:
        """The job record of an execution."""
        execution = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
        return self.job(self._job_of(execution)["jobId"])

    def job(self, job_id: str) -> JobRecord | None:
        item = self.client("dynamodb").get_item(TableName=self.table, Key={"jobId": {"S": job_id}}).get("Item")
        return record_from_item(plain_item(item)) if item else None

    def jobs(self) -> list[JobRecord]:
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=self.table)
        return [record_from_item(plain_item(item)) for page in pages for item in page["Items"]]

    def list_outputs(self, job_id: str) -> list[str]:
        return self._keys_under(self.layout.outputs(job_id))

    # -- the intake's dead letters -------------------------------------------------------

    @property
    def dead_letter_queue_url(self) -> str:
        name = self.template.attributes[("IntakeDeadLetterQueue", "QueueName")]
        return self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]

    def replay_dead_letters(self, limit: int = 1000) -> list[tuple[dict[str, Any], str]]:
        """Start an execution for each dead-lettered upload event, as the rule would have, and
        delete it from the queue once started; returns (event, execution ARN) pairs. Safe to
        repeat: a replay of an upload that was already processed ends as DuplicateEvent."""
        sqs, sfn, queue = self.client("sqs"), self.client("stepfunctions"), self.dead_letter_queue_url
        replayed: list[tuple[dict[str, Any], str]] = []
        while len(replayed) < limit:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
                "Messages", []
            )
            if not messages:
                return replayed
            for message in messages:
                event = json.loads(message["Body"])
                started = sfn.start_execution(
                    stateMachineArn=self.state_machine_arn, name=f"replay-{uuid.uuid4()}", input=message["Body"]
                )
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                replayed.append((event, started["executionArn"]))
        return replayed

    # -- reprocessing ----------------------------------------------------------------------

    def find_job(self, job_id_or_key: str) -> JobRecord | None:
        """A job by its id, or the newest job of an upload key."""
        record = self.job(job_id_or_key)
        if record is not None:
            return record
        matches = [job for job in self.jobs() if job.get("key") == job_id_or_key]
        return max(matches, key=lambda job: job.get("startedAt", "")) if matches else None

    def reprocess(self, record: JobRecord, overrides: dict[str, str] | None = None) -> str:
        """Start the next attempt of a finished job; returns its execution ARN."""
        event = reprocess_event(record, overrides)
        started = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=f"reprocess-{uuid.uuid4()}", input=json.dumps(event)
        )
        return started["executionArn"]

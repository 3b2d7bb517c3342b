"""DescribeUpload: the job an S3 "Object Created" event starts, with its key decoded once.

S3 URL-encodes object keys in its events ("my photo.jpg" arrives as "my+photo.jpg"). Every
later state, the job record, the email and the page use the key this step decodes (or, for
a replayed event that carries the key unencoded, the key as sent when only that one exists).
The job id is derived from bucket, key and etag, so every delivery of one upload's event
(EventBridge delivers at least once) names the same job, and RecordJob's conditional put
lets only the first one through. A folder marker (the S3 console's "Create folder") is not
an upload: FolderObject ends the execution in IgnoreFolderObject, with no job and no email.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaflow_shared.contract.job import JobDocument, is_folder_object, job_from_event, new_document
from mediaflow_shared.errors import FolderObject
from mediaflow_shared.storage import object_exists

logger = Logger()


@logger.inject_lambda_context(correlation_id_path="executionArn")
def handler(event: dict[str, Any], context: LambdaContext) -> JobDocument:
    job = job_from_event(event["event"], event["executionArn"], event["startedAt"], object_exists)
    if is_folder_object(job):
        raise FolderObject(f"{job['key']} is a folder marker, not an upload")
    logger.info("upload described", extra={"jobId": job["jobId"], "key": job["key"]})
    return new_document(job)

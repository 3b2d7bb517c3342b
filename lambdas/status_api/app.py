"""Status API: one Lambda behind an HTTP API (Powertools' APIGatewayHttpResolver).

    POST /uploads      presigned POST for uploads/<uuid>/<filename> (size and content-type bound)
    POST /uploads/multipart           a large upload: start it, get its part size and count
    POST /uploads/multipart/parts     presigned PUT URLs for some of its parts
    POST /uploads/multipart/complete  finish it once every part has arrived (S3's list of parts)
    POST /uploads/multipart/abort     give it up
    GET  /jobs         recent jobs, newest first, paginated (?limit=&nextToken=)
    GET  /jobs/{id}    status, every state with times, failure reason, outputs with presigned
                       GET URLs, detections, the workflow graph, and on AWS the console link
    GET  /health

Locally `mediaflow up` serves the same handler through an API Gateway v2 event adapter.
"""

from __future__ import annotations

import base64
import json
import uuid
from functools import cache
from typing import Any

import boto3
import multipart
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError, ServiceError
from aws_lambda_powertools.utilities.typing import LambdaContext
from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate
from botocore.exceptions import ClientError
from execution_view import event_table, graph_of, state_timeline
from schemas import (
    MULTIPART_ABORT,
    MULTIPART_COMPLETE,
    MULTIPART_PARTS,
    MULTIPART_START,
    NEXT_TOKEN,
    REPROCESS_RANGES,
    REPROCESS_REQUEST,
    UPLOAD_REQUEST,
)

from mediaflow_shared.contract.failures import failure_reason
from mediaflow_shared.contract.job import REPROCESS_FIELD, reprocess_event
from mediaflow_shared.contract.layout import layout
from mediaflow_shared.contract.record import FINISHED_JOB_STATUSES, JOB_INDEX, RECORD_TYPE, JobRecord, record_from_item
from mediaflow_shared.contract.settings import settings
from mediaflow_shared.storage import s3_client

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver(cors=CORSConfig(allow_origin=settings().allowed_origin, max_age=300))

URL_SECONDS = 3600
MAX_POST_BYTES = 5 * 1024**3
MAX_PAGE = 50
MAX_SCENES = 200  # the page's scene strip; results.json lists every scene
MAX_TEXT_LINES = 500  # the page searches these; results.json has every line and its frames


@cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(settings().jobs_table)


@cache
def _sfn() -> Any:
    return boto3.client("stepfunctions")


def _presigned_get(key: str) -> str:
    return s3_client().generate_presigned_url(
        "get_object", Params={"Bucket": settings().media_bucket, "Key": key}, ExpiresIn=URL_SECONDS
    )


def _safe_filename(name: str) -> str:
    """The last path segment, without control characters; unicode and spaces are kept."""
    cleaned = "".join(ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()
    if not cleaned or cleaned in {".", ".."} or len(cleaned.encode()) > 512:
        raise BadRequestError("filename must be a non-empty file name of at most 512 bytes")
    return cleaned


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _valid(document: Any, schema: dict[str, Any], what: str) -> Any:
    try:
        validate(event=document, schema=schema)
    except SchemaValidationError as err:
        raise BadRequestError(f"{what}: {err.message}") from err
    return document


def _json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: nested deeper than the parser goes
        raise BadRequestError(f"{what} is not valid JSON") from err


def _body(schema: dict[str, Any], what: str) -> dict[str, Any]:
    body = _json(app.current_event.body or "null", "the body")
    if not isinstance(body, dict):
        raise BadRequestError(f"expected a JSON object: {what}")
    return _valid(body, schema, f"expected {what}")


@app.post("/uploads")
def create_upload() -> dict[str, Any]:
    body = _body(UPLOAD_REQUEST, "filename (a string) and contentType (an image/* or video/* type)")
    filename = _safe_filename(body["filename"])
    content_type = body["contentType"]
    # A presigned POST carries at most 5 GB (S3's single-request limit); larger videos need multipart.
    max_bytes = min(settings().max_bytes(content_type.split("/", 1)[0]), MAX_POST_BYTES)
    key = layout().upload_key(str(uuid.uuid4()), filename)
    post = s3_client().generate_presigned_post(
        Bucket=settings().media_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[["content-length-range", 1, max_bytes], {"Content-Type": content_type}],
        ExpiresIn=900,
    )
    return {"url": post["url"], "fields": post["fields"], "key": key, "maxBytes": max_bytes}


def _multipart(call: Any, *args: Any) -> dict[str, Any]:
    """Run a multipart step; a refused request, or S3 not knowing the upload, is a 400."""
    try:
        return call(*args)
    except multipart.MultipartError as err:
        raise BadRequestError(str(err)) from err
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
            raise BadRequestError(f"S3 refused the upload: {code}") from err
        raise


@app.post("/uploads/multipart")
def start_multipart_upload() -> dict[str, Any]:
    body = _body(MULTIPART_START, "filename, contentType (an image/* or video/* type) and size (bytes)")
    key = layout().upload_key(str(uuid.uuid4()), _safe_filename(body["filename"]))
    return _multipart(multipart.start, key, body["contentType"], body["size"])


@app.post("/uploads/multipart/parts")
def presign_multipart_parts() -> dict[str, Any]:
    body = _body(MULTIPART_PARTS, "key, uploadId and partNumbers (at most 100)")
    return {"urls": _multipart(multipart.presign_parts, body["key"], body["uploadId"], body["partNumbers"])}


@app.post("/uploads/multipart/complete")
def complete_multipart_upload() -> dict[str, Any]:
    body = _body(MULTIPART_COMPLETE, "key, uploadId and partCount")
    return _multipart(multipart.complete, body["key"], body["uploadId"], body["partCount"])


@app.post("/uploads/multipart/abort")
def abort_multipart_upload() -> dict[str, Any]:
    body = _body(MULTIPART_ABORT, "key and uploadId")
    return _multipart(multipart.abort, body["key"], body["uploadId"])


def _job_summary(record: JobRecord) -> dict[str, Any]:
    return {
        "jobId": record["jobId"],
        "executionArn": record.get("executionArn"),
        "attempt": int(record.get("attempt", 1)),
        "status": record.get("status"),
        "key": record.get("key"),
        "kind": record.get("kind"),
        "startedAt": record.get("startedAt"),
        "updatedAt": record.get("updatedAt"),
        "error": record.get("error"),
        "topLabels": record.get("topLabels"),
        "costSummary": record.get("costSummary"),
    }


@app.get("/jobs")
def list_jobs() -> dict[str, Any]:
    params = app.current_event.query_string_parameters or {}
    try:
        limit = int(params.get("limit", "20"))
    except ValueError as err:
        raise BadRequestError("limit must be an integer") from err
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequestError(f"limit must be between 1 and {MAX_PAGE}")
    query: dict[str, Any] = {
        "IndexName": JOB_INDEX,
        "KeyConditionExpression": "recordType = :job",
        "ExpressionAttributeValues": {":job": RECORD_TYPE},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if params.get("nextToken"):
        try:
            token = base64.urlsafe_b64decode(params["nextToken"])
        except ValueError as err:
            raise BadRequestError("nextToken is not valid") from err
        query["ExclusiveStartKey"] = _valid(_json(token, "nextToken"), NEXT_TOKEN, "nextToken is not valid")
    page = _table().query(**query)
    token = page.get("LastEvaluatedKey")
    return {
        "jobs": [_job_summary(record_from_item(item)) for item in page["Items"]],
        "nextToken": base64.urlsafe_b64encode(json.dumps(token).encode()).decode() if token else None,
    }


def _results(record: JobRecord) -> dict[str, Any] | None:
    if "results" not in record:
        return None
    key = record["results"]["resultsKey"]
    results = json.loads(s3_client().get_object(Bucket=settings().media_bucket, Key=key)["Body"].read())
    frames = [f for f in results.get("frames", []) if f.get("detections")]
    return {
        "labels": results.get("labels", []),
        "timeline": results.get("timeline", []),
        "scenes": [{**scene, "url": _presigned_get(scene["key"])} for scene in results.get("scenes", [])[:MAX_SCENES]],
        "sceneCount": len(results.get("scenes", [])),
        "framesWithDetections": frames[:200],
        "text": {
            "lines": results.get("text", {}).get("lines", [])[:MAX_TEXT_LINES],
            "lineCount": len(results.get("text", {}).get("lines", [])),
        },
        "annotated": [{**a, "url": _presigned_get(a["key"])} for a in results.get("annotated", [])],
        "contactSheet": _presigned_get(results["contactSheet"]) if results.get("contactSheet") else None,
        "resultsUrl": _presigned_get(key),
    }


def _output_files(job_id: str) -> list[dict[str, Any]]:
    """Every object under the job's output prefix, with a download link."""
    prefix = layout().outputs(job_id)
    listing = s3_client().list_objects_v2(Bucket=settings().media_bucket, Prefix=prefix)
    return [
        {"key": obj["Key"], "name": obj["Key"][len(prefix) :], "bytes": obj["Size"], "url": _presigned_get(obj["Key"])}
        for obj in listing.get("Contents", [])
    ]


def _failure(record: JobRecord) -> dict[str, Any] | None:
    if "error" not in record:
        return None
    error = record["error"]
    return {"error": error, "message": record.get("failureMessage", ""), "reason": failure_reason(error)}


@app.get("/jobs/<job_id>")
def get_job(job_id: str) -> dict[str, Any]:
    item = _table().get_item(Key={"jobId": job_id}).get("Item")
    if item is None:
        raise NotFoundError(f"no job {job_id}")
    record = record_from_item(item)
    execution_arn = record["executionArn"]
    sfn = _sfn()
    execution = sfn.describe_execution(executionArn=execution_arn)
    events = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=execution["stateMachineArn"])["definition"])
    renditions = record.get("results", {}).get("renditions", [])
    console_prefix = settings().console_url_prefix
    return {
        **_job_summary(record),
        "executionArn": execution_arn,
        "executionStatus": execution["status"],
        "consoleUrl": f"{console_prefix}{execution_arn}" if console_prefix else None,
        "media": record.get("media"),
        "failure": _failure(record),
        "states": state_timeline(events),
        "events": event_table(events),
        "graph": graph_of(definition),
        "renditions": [{**r, "url": _presigned_get(r["key"])} for r in renditions],
        "outputs": _output_files(job_id),
        "results": _results(record),
    }


@app.post("/jobs/<job_id>/reprocess")
def reprocess(job_id: str) -> tuple[dict[str, Any], int]:
    """Start a new attempt of a finished job, optionally with other rendition settings."""
    body = _json(app.current_event.body or "{}", "the body")
    _valid(body, REPROCESS_REQUEST, "overrides may set RenditionWidths, RenditionFormats, ImageFilters or qualities")
    overrides = body.get("overrides") or {}
    for name, (low, high) in REPROCESS_RANGES.items():
        if name in overrides and not low <= int(overrides[name]) <= high:
            raise BadRequestError(f"{name} must be between {low} and {high}")
    item = _table().get_item(Key={"jobId": job_id}).get("Item")
    if item is None:
        raise NotFoundError(f"no job {job_id}")
    record = record_from_item(item)
    if record.get("status") not in FINISHED_JOB_STATUSES:
        raise ServiceError(409, f"job {job_id} is still {record.get('status')}: reprocess it once it has finished")
    event = reprocess_event(record, overrides)
    started = _sfn().start_execution(
        stateMachineArn=settings().state_machine_arn, name=f"reprocess-{uuid.uuid4()}", input=json.dumps(event)
    )
    attempt = event[REPROCESS_FIELD]["attempt"]
    return {"jobId": job_id, "attempt": attempt, "executionArn": started["executionArn"]}, 202


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

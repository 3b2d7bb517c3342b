"""Every change the local runtime makes to moto 5.2.5, in one place: this package.

Each patch names the moto behaviour it corrects; tests/unit/test_moto_patches.py and
tests/unit/test_moto_patches_asl.py show the bug with moto as shipped and the fix with the patch
applied. The services' patches are here; the Step Functions language's are in this package's
modules (jsonata, variables, definitions, intrinsics, paths, maps, limits, clock, api),
applied by `apply_all` below. The version is pinned in pyproject.toml because these patches
reach into moto's internals.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import boto3
import moto
from botocore.config import Config as BotoConfig
from moto import backends as moto_backends
from moto.awslambda import models as lambda_models
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.exceptions import JsonRESTError
from moto.core.models import botocore_stubber
from moto.core.responses import ActionResult
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.events import models as events_models
from moto.logs import models as logs_models
from moto.moto_server import werkzeug_app
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.s3 import responses as s3_responses
from moto.s3.exceptions import S3ClientError
from moto.settings import moto_server_port
from moto.sns import models as sns_models
from moto.sqs.models import sqs_backends
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser import models as sfn_parser_models
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
from moto.stepfunctions.parser.asl.component.common.path import result_path as sfn_result_path
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state import state as sfn_state
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record import (
    MapRunRecordPoolManager,
)
from moto.stepfunctions.parser.asl.eval.event import event_manager as sfn_event_manager
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client
from moto.stepfunctions.parser.asl.utils import json_path as sfn_json_path
from moto.stepfunctions.parser.backend import execution as sfn_execution
from moto.stepfunctions.parser.backend import execution_worker
from moto.utilities.arns import parse_arn

from mediaflow.moto_patches import (
    api,
    clock,
    definitions,
    execution_index,
    hot_paths,
    intrinsics,
    items_at_rest,
    key_memory,
    keys_at_rest,
    lambda_tasks,
    lean_calls,
    limits,
    log_events,
    maps,
    model_tracking,
    object_blobs,
    paths,
    s3_events,
    s3_index,
    sent_messages,
    variables,
)
from mediaflow.moto_patches import jsonata as jsonata_patches
from mediaflow.moto_patches.timestamps import iso_timestamp
from mediaflow.template import ACCOUNT_ID, REGION

if TYPE_CHECKING:
    from mediaflow.state_store import StateStore, StoredExecution

MOTO_VERSION = "5.2.5"

EmailSink = Callable[[str, str, str | None, str, dict[str, Any]], None]
"""(topic_arn, endpoint, subject, message, message_attributes) -> None"""

_lock = threading.Lock()
_applied: set[str] = set()
_email_sink: EmailSink | None = None

original_send_to_targets = events_models.Rule.send_to_targets
original_bucket_response_post = s3_responses.S3Response._bucket_response_post
original_put_object = s3_models.S3Backend.put_object
original_lambda_invoke = lambda_models.LambdaFunction.invoke
original_subscription_publish = sns_models.Subscription.publish
original_boto_client_for = sfn_boto_client.boto_client_for
original_evaluation_environment = execution_worker.ExecutionWorker._get_evaluation_environment
original_state_data = sfn_state.StateData
original_set_metadata = s3_models.FakeKey.set_metadata
original_delete_object = s3_models.S3Backend.delete_object
original_delete_objects = s3_models.S3Backend.delete_objects
original_put_item = dynamodb_models.DynamoDBBackend.put_item
original_update_item = dynamodb_models.DynamoDBBackend.update_item
original_delete_item = dynamodb_models.DynamoDBBackend.delete_item
original_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items
original_start_execution = sfn_parser_models.StepFunctionsParserBackend.start_execution
original_execution_start = sfn_execution.Execution.start
original_publish_history_event = sfn_event_manager.EventManager._publish_history_event
original_terminated = sfn_execution.BaseExecutionWorkerCommunication.terminated
original_execution_logic = execution_worker.ExecutionWorker._execution_logic
original_entrypoint = execution_worker.ExecutionWorker._get_evaluation_entrypoint
_put_object_before_persistence = original_put_object


def _once(name: str) -> bool:
    with _lock:
        if name in _applied:
            return False
        _applied.add(name)
        return True


# -- EventBridge: S3 event shape and Step Functions targets -------------------------------


def normalise_s3_event(event: dict[str, Any]) -> None:
    """Give moto's S3 "Object Created" event the shape AWS sends (in place, idempotent).

    moto sends a Unix-seconds float for `time`, one fixed `id` for every event, `eTag`
    instead of `etag`, the key unencoded, and `version-id: null` on unversioned buckets.
    AWS sends an ISO-8601 time, a fresh UUID, `etag`, a URL-encoded key (spaces as '+')
    and no version-id.
    """
    obj = event.get("detail", {}).get("object", {})
    if event.get("source") != "aws.s3" or event.get("_mediaflow_normalised") or "eTag" not in obj:
        return  # not moto's S3 event: one sent with PutEvents is already in AWS's shape, key encoded
    if isinstance(event.get("time"), int | float):
        event["time"] = datetime.fromtimestamp(event["time"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["id"] = str(uuid.uuid4())
    obj["etag"] = obj.pop("eTag")
    if "key" in obj:
        obj["key"] = quote_plus(obj["key"], safe="/")
    if obj.get("version-id") is None:
        obj.pop("version-id", None)
    event["_mediaflow_normalised"] = True


def _public_event(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if not k.startswith("_mediaflow")}


def start_execution_for_event(state_machine_arn: str, event: dict[str, Any]) -> str:
    """StartExecution with the whole event as input, as an EventBridge rule target does."""
    from moto.stepfunctions.responses import get_backend

    arn = parse_arn(state_machine_arn)
    backend = get_backend(arn.account, arn.region)
    execution = backend.start_execution(
        state_machine_arn, name=str(uuid.uuid4()), execution_input=json.dumps(_public_event(event))
    )
    return execution.execution_arn


def _send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    """moto raises NotImplementedError on a Step Functions target (and, because S3's caller
    swallows it, stops delivering to later rules). Start the execution instead."""
    normalise_s3_event(original_event)
    public_event = _public_event(original_event)
    if not self.event_pattern.matches_event(public_event):
        return
    others = [t for t in self.targets if parse_arn(t["Arn"]).service != "states"]
    for target in self.targets:
        if parse_arn(target["Arn"]).service == "states":
            _deliver_or_dead_letter(self.arn, target, public_event)
    if others:
        rule = copy.copy(self)
        rule.targets = others
        original_send_to_targets(rule, public_event, transform_input)


# EventBridge retries for up to a day (RetryPolicy); locally a few quick attempts stand for that,
# then the event goes to the target's dead-letter queue, as EventBridge does when it gives up.
LOCAL_DELIVERY_ATTEMPTS = 3
LOCAL_RETRY_SECONDS = 0.1


def _deliver_or_dead_letter(rule_arn: str, target: dict[str, Any], event: dict[str, Any]) -> None:
    attempts = min(LOCAL_DELIVERY_ATTEMPTS, 1 + int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185)))
    for attempt in range(attempts):
        try:
            start_execution_for_event(target["Arn"], event)
            return
        except Exception as err:  # throttled, refused, engine down: what EventBridge would retry
            failure = err
            if attempt + 1 < attempts:  # back off between attempts, not after the last one
                time.sleep(LOCAL_RETRY_SECONDS * 2**attempt)
    queue_arn = target.get("DeadLetterConfig", {}).get("Arn")
    if not queue_arn:
        logging.getLogger("mediaflow.events").error("event dropped, no dead-letter queue: %s", failure)
        return
    queue = parse_arn(queue_arn)
    code = getattr(failure, "code", None) or type(failure).__name__
    attributes = {
        "RULE_ARN": rule_arn,
        "TARGET_ARN": target["Arn"],
        "ERROR_CODE": str(code),
        "ERROR_MESSAGE": str(failure)[:256] or str(code),
    }
    sqs_backends[queue.account][queue.region].send_message(
        queue.resource_id,
        json.dumps(event),
        message_attributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )


def route_events_to_step_functions() -> None:
    if _once("events"):
        events_models.Rule.send_to_targets = _send_to_targets


# -- SNS: deliver email subscriptions -----------------------------------------------------


def _subscription_publish(
    self: Any,
    message: str,
    message_id: str,
    subject: str | None = None,
    message_attributes: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """moto accepts email subscriptions but never delivers to them."""
    if self.protocol in ("email", "email-json") and _email_sink is not None:
        if self._filter_policy_matcher is None or self._filter_policy_matcher.matches(message_attributes, message):
            _email_sink(self.topic.arn, self.endpoint, subject, message, message_attributes or {})
        return
    original_subscription_publish(self, message, message_id, subject, message_attributes, **kwargs)


def deliver_email_to(sink: EmailSink) -> EmailSink | None:
    """Deliver email subscriptions' messages to `sink`; returns the sink it replaces."""
    global _email_sink
    previous, _email_sink = _email_sink, sink
    if _once("sns-email"):
        sns_models.Subscription.publish = _subscription_publish
    return previous


# -- Step Functions engine ----------------------------------------------------------------


# The engine's own DynamoDB and SNS calls (RecordJob, RecordSuccess, NotifySuccess, ...) are
# answered in this process by the same moto backends the server uses, instead of through an
# HTTP round trip to it. Clients outside (the AWS CLI, boto3, the page, the handlers) keep the
# wire protocol.
IN_PROCESS_SERVICES = frozenset({"dynamodb", "sns"})


class _InProcess(BotocoreStubber):
    """moto's in-process dispatcher (what mock_aws uses), always on, for one client."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> Any:
        response = super().__call__(event_name, request, **kwargs)
        if response is None:  # never let an engine call leave for the real AWS endpoint
            raise RuntimeError(f"the local engine cannot serve {request.method} {request.url} in process")
        return response


IN_PROCESS_CONFIG = BotoConfig(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1})


@cache
def in_process_client(service: str, region: str = REGION) -> Any:
    """A boto3 client answered by moto in this process: the engine's own calls (its DynamoDB and
    SNS Tasks) skip the round trip through the HTTP server to itself. Built as
    moto builds its clients, for AWS's own endpoint, which the dispatcher recognises."""
    client = boto3.client(
        service,
        region_name=region,
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=IN_PROCESS_CONFIG,
    )
    client.meta.events.register_first("before-send", _InProcess())
    # Its API calls skip botocore's request pipeline (lean_calls); the rest is the client's.
    return lean_calls.LeanClient(client) if lean_calls.serves(service) else client


_log_delivery_lock = threading.Lock()


def deliver_log_events(group: str, stream: str, events: list[dict[str, Any]], region: str = REGION) -> None:
    """What Lambda's log delivery does: the events into `stream` of `group`, both made if
    missing, straight into the logs backend (moto's own checks: order, age)."""
    backend = logs_models.logs_backends[ACCOUNT_ID][region]
    with _log_delivery_lock:  # two deliveries must not both find a stream missing and make it
        if group not in backend.groups:
            backend.create_log_group(group, tags={})
        if stream not in backend.groups[group].streams:
            backend.create_log_stream(group, stream)
    backend.put_log_events(group, stream, events)


@cache
def _cached_boto_client(region: str, service: str, port: str, intercepted: bool) -> Any:
    # Keyed on the port and on whether moto's in-process mock is active, because the client's
    # endpoint depends on both.
    if service in IN_PROCESS_SERVICES and not intercepted:
        return in_process_client(service, region)
    return original_boto_client_for(region=region, service=service)


def _boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto builds a new boto3 client for every Task state (~17 ms each); clients are
    thread-safe, so one per (region, service) serves every execution. Every Task passes its
    `state_credentials` (the state machine's role), which moto accepts and ignores, so they
    are not part of the key: keying on them made every call a miss."""
    return _cached_boto_client(region, service, moto_server_port(), botocore_stubber.enabled)


def reuse_step_functions_clients() -> None:
    if _once("sfn-clients"):
        sfn_boto_client.boto_client_for = _boto_client_for
        # Modules that imported the function by name keep their own reference.
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_aws_sdk,
            state_task_service_dynamodb,
            state_task_service_lambda,
            state_task_service_sns,
        )

        for module in (
            lambda_eval_utils,
            state_task_service_aws_sdk,
            state_task_service_dynamodb,
            state_task_service_lambda,
            state_task_service_sns,
        ):
            if getattr(module, "boto_client_for", None) is original_boto_client_for:
                module.boto_client_for = _boto_client_for


def _evaluation_environment(self: Any) -> Any:
    """moto puts a datetime object in $$.Execution.StartTime where AWS puts an ISO 8601
    string; any state that copies it into a payload or a DynamoDB item then fails to
    serialise ("Object of type datetime is not JSON serializable")."""
    env = original_evaluation_environment(self)
    env.event_manager._mediaflow_execution_arn = self._evaluation_details.execution_details.arn  # its journal
    execution = env.states.context_object.context_object_data["Execution"]
    if isinstance(execution.get("StartTime"), datetime):
        execution["StartTime"] = iso_timestamp(execution["StartTime"])
    return env


def _state_data(**fields: Any) -> Any:
    """moto writes $$.State.EnteredTime with Python's isoformat ("…12:00:00.429798+00:00");
    AWS writes milliseconds and "Z" ("…12:00:00.429Z"), and MediaFlow stores it in every job
    record's updatedAt and finishedAt, so the two runtimes' records differ without this."""
    entered = fields.get("EnteredTime")
    if isinstance(entered, str) and not entered.endswith("Z"):
        fields["EnteredTime"] = iso_timestamp(datetime.fromisoformat(entered))
    return original_state_data(**fields)


def context_start_time_as_string() -> None:
    if _once("sfn-start-time"):
        execution_worker.ExecutionWorker._get_evaluation_environment = _evaluation_environment
        sfn_state.StateData = _state_data


def silence_engine_repr_dumps() -> None:
    """The engine logs a repr of every component when a Task fails (pages per failure);
    the failure itself is still in the execution history."""
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)


# -- S3: presigned POST policies and the key length limit ---------------------------------

MAX_KEY_BYTES = 1024
# Form fields a POST policy need not name (S3's rule: every other field must match a condition).
_UNCONDITIONED_FIELDS = {"file", "policy", "x-amz-signature", "awsaccesskeyid", "signature", "x-amz-security-token"}


def post_policy_violation(
    policy_b64: str, fields: dict[str, str], body_bytes: int, bucket: str, now: datetime
) -> tuple[int, str, str] | None:
    """(HTTP status, S3 error code, message) for a POST that its policy forbids, else None.

    Implements the conditions of S3's POST policy: expiration, exact matches ({"field": v} and
    ["eq", "$field", v]), ["starts-with", "$field", prefix], ["content-length-range", lo, hi],
    and the rule that every form field (but the signature's own) is named by a condition."""
    try:
        policy = json.loads(base64.b64decode(policy_b64))
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return 400, "InvalidPolicyDocument", "Invalid Policy: the policy is not base64 JSON with an expiration"
    if now >= expires:
        return 403, "AccessDenied", "Invalid according to Policy: Policy expired."
    values = {name.lower(): value for name, value in fields.items()} | {"bucket": bucket}
    named = set()
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            (name, expected), operator = next(iter(condition.items())), "eq"
        elif condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if body_bytes < low:
                return 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
            if body_bytes > high:
                return 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            continue
        else:
            operator, name, expected = condition[0], condition[1].removeprefix("$"), condition[2]
        name = name.lower()
        named.add(name)
        actual = values.get(name, "")
        if (operator == "eq" and actual != expected) or (operator == "starts-with" and not actual.startswith(expected)):
            return 403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
    unnamed = sorted(
        set(values) - named - _UNCONDITIONED_FIELDS - {"bucket"} - {n for n in values if n.startswith("x-ignore-")}
    )
    if unnamed:
        return 403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(unnamed)}"
    return None


def _error_xml(code: str, message: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        f"<RequestId>{uuid.uuid4()}</RequestId></Error>"
    )


def _bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
    """moto stores whatever a browser POSTs: size range, Content-Type, key and expiry of the
    presigned POST's policy are never checked."""
    form = getattr(self, "form_data", None) or {}
    if "policy" in form and "key" in form:
        fields = {name: str(value) for name, value in form.items()}
        violation = post_policy_violation(
            fields["policy"], fields, len(self.body or b""), bucket_name, datetime.now(UTC)
        )
        if violation:
            status, code, message = violation
            return status, {"Content-Type": "application/xml"}, _error_xml(code, message)
    return original_bucket_response_post(self, request, bucket_name)


class KeyTooLongError(S3ClientError):
    code = "KeyTooLongError"

    def __init__(self) -> None:
        super().__init__("KeyTooLongError", "Your key is too long")


def _put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
    """moto accepts keys of any length; S3 refuses keys over 1,024 bytes of UTF-8."""
    if len(key_name.encode()) > MAX_KEY_BYTES:
        raise KeyTooLongError()
    return original_put_object(self, bucket_name, key_name, *args, **kwargs)


def hold_s3_to_its_limits() -> None:
    if _once("s3-limits"):
        s3_responses.S3Response._bucket_response_post = _bucket_response_post
        s3_models.S3Backend.put_object = _put_object


# -- S3: ranged GETs read only their range ----------------------------------------------------
# moto answers a ranged GET by copying the whole object out of its buffer and slicing the copy:
# sampling a 10 GB video in 1 MiB ranges would copy 10 GB per request. While moto handles a
# GET, an object's value is a view that reads only the bytes the range slices out of it.

_ranged_get: ContextVar[bool] = ContextVar("ranged_get", default=False)
original_key_value = s3_models.FakeKey.value
original_key_response = s3_responses.S3Response.key_response


class _ObjectBytes:
    """A stored object's bytes as moto's range handling uses them: len() and one slice."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def __len__(self) -> int:
        return int(self.key.contentsize)

    def __getitem__(self, window: slice) -> bytes:
        start, stop, _ = window.indices(len(self))
        with self.key.lock:
            self.key._value_buffer.seek(start)
            return self.key._value_buffer.read(max(0, stop - start))


def _key_value(self: Any) -> Any:
    return _ObjectBytes(self) if _ranged_get.get() else original_key_value.fget(self)


def _key_response(self: Any, request: Any, full_url: str, headers: Any) -> Any:
    ranged = request.method == "GET" and "," not in request.headers.get("range", ",")
    token = _ranged_get.set(ranged)
    try:
        status, response_headers, body = original_key_response(self, request, full_url, headers)
    finally:
        _ranged_get.reset(token)
    if isinstance(body, _ObjectBytes):  # a range moto treated as the whole object
        body = body[:]
    return status, response_headers, body


def read_only_requested_ranges() -> None:
    if _once("s3-ranges"):
        s3_models.FakeKey.value = property(_key_value, original_key_value.fset)
        s3_responses.S3Response.key_response = _key_response


# -- Lambda: invocations through the AWS API reach the local workers ------------------------

LambdaRunner = Callable[[str, bytes], Any]  # (function name, payload) -> lambda_workers.InvocationResult
_lambda_runner: LambdaRunner | None = None


def _lambda_invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """moto runs Lambda code in Docker (none here): `aws lambda invoke` gets the local workers'
    answer instead, with Lambda's function-error header."""
    if _lambda_runner is None:
        return original_lambda_invoke(self, body, request_headers, response_headers)
    payload = body if isinstance(body, bytes) else (body or "{}").encode()
    if request_headers.get("x-amz-invocation-type") == "Event":  # asynchronous: accepted, run in the background
        threading.Thread(target=_lambda_runner, args=(self.function_name, payload), daemon=True).start()
        return b""
    result = _lambda_runner(self.function_name, payload)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-executed-version"] = "$LATEST"
    return result.payload


def serve_lambda_invocations(runner: LambdaRunner | None) -> LambdaRunner | None:
    """Route moto's Lambda Invoke to `runner` (None: back to moto's own behaviour); returns the
    runner it replaces, for a stack started inside another's lifetime to hand back on stop."""
    global _lambda_runner
    previous, _lambda_runner = _lambda_runner, runner
    if _once("lambda-invoke"):
        lambda_models.LambdaFunction.invoke = _lambda_invoke
    return previous


def apply_all(email_sink: EmailSink) -> EmailSink | None:
    """Every patch; returns the email sink `email_sink` replaces (another stack's, in tests)."""
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"mediaflow's moto patches are written for moto {MOTO_VERSION}, found {moto.__version__}")
    route_events_to_step_functions()
    if _once("s3-events"):
        s3_events.apply()
        object_blobs.list_versions_without_copying_bytes()
        s3_index.apply()
        keys_at_rest.apply()  # after s3_index: its key store is s3_index's, resting
        model_tracking.apply()
        key_memory.apply()
    outer_sink = deliver_email_to(email_sink)
    reuse_step_functions_clients()
    context_start_time_as_string()
    silence_engine_repr_dumps()
    hold_s3_to_its_limits()
    read_only_requested_ranges()
    parse_definitions_once()
    implement_redrive_execution()
    list_services_once()
    if _once("hot-paths"):
        hot_paths.apply()
    if _once("lambda-tasks"):
        lambda_tasks.apply()
    if _once("execution-index"):
        execution_index.apply()
    if _once("sent-messages"):
        sent_messages.apply()
    if _once("items-at-rest"):
        items_at_rest.apply()
    patch_the_language()
    return outer_sink


# The Step Functions language's patches: each module's docstring says what it corrects. In this
# order: the history limit (limits) wraps the time scale's event stamping (clock).
LANGUAGE_PATCHES = (jsonata_patches, variables, clock, api, definitions, intrinsics, paths, maps, limits)


def patch_the_language() -> None:
    for module in LANGUAGE_PATCHES:
        if _once(module.__name__):
            module.apply()


# -- Durable state: write-through to the state store, and redrive after a crash -------------
#
# moto keeps everything in memory: a restart (or kill -9) loses every object, item and
# execution. With a store (mediaflow/state_store.py) each change is written through as moto
# makes it, so mediaflow/recovery.py can put it all back and resume interrupted executions.

_store: StateStore | None = None


def _iso(value: Any) -> str:
    return iso_timestamp(value) if isinstance(value, datetime) else str(value)


def _persisted_put_object(self: Any, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any) -> Any:
    """The object is durable before its "Object Created" event goes out: an upload whose
    execution started can always be read again after a crash."""
    notify = not kwargs.get("disable_notification", False)
    kwargs["disable_notification"] = True
    key = _put_object_before_persistence(self, bucket_name, key_name, value, *args, **kwargs)
    if _store is not None:
        digest = _store.put_object(
            bucket_name,
            key_name,
            key.value,
            key.etag.strip('"'),
            key.version_id if key.version_id != "null" else None,
            dict(key.metadata),
            _iso(key.last_modified),
            (key.checksum_algorithm, key.checksum_value),
        )
        object_blobs.read_from_blob(key, _store, digest)  # the bytes leave the engine's memory
    if notify:
        event = (
            s3_notifications.S3NotificationEvent.OBJECT_CREATED_POST_EVENT
            if kwargs.get("request_method") == "POST"
            else s3_notifications.S3NotificationEvent.OBJECT_CREATED_PUT_EVENT
        )
        s3_notifications.send_event(self.account_id, event, self.get_bucket(bucket_name), key)
    return key


def _persisted_set_metadata(self: Any, metadata: Any, replace: bool = False) -> None:
    original_set_metadata(self, metadata, replace)
    if _store is not None:
        _store.set_object_metadata(self.bucket_name, self.name, dict(self.metadata))


def _forget_if_gone(backend: Any, bucket_name: str, key_name: str) -> None:
    current = backend.get_bucket(bucket_name).keys.get(key_name)
    if _store is not None and (current is None or isinstance(current, s3_models.FakeDeleteMarker)):
        _store.delete_object(bucket_name, key_name)


def _persisted_delete_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
    result = original_delete_object(self, bucket_name, key_name, *args, **kwargs)
    _forget_if_gone(self, bucket_name, key_name)
    return result


def _persisted_delete_objects(
    self: Any, bucket_name: str, objects: list[dict[str, Any]], *args: Any, **kwargs: Any
) -> Any:
    result = original_delete_objects(self, bucket_name, objects, *args, **kwargs)
    for obj in objects:
        _forget_if_gone(self, bucket_name, obj["Key"])
    return result


def expire_objects(bucket_name: str, prefix: str) -> int:
    """What S3's lifecycle expiration does to the objects under `prefix`, done inside the
    emulator as S3 does it: every version and delete marker removed (and forgotten by the store).
    Not through ListObjectVersions, which moto answers by walking and sorting every version of
    the whole bucket: per finished job, that grew with everything ever stored. Returns the
    number of keys expired."""
    backend = s3_models.s3_backends[ACCOUNT_ID]["aws"]
    keys: s3_index.IndexedKeyStore = backend.get_bucket(bucket_name).keys  # every bucket, once patched
    names = keys.names_with_prefix(prefix)
    for name in names:
        for version in list(keys.getlist(name, [])):
            backend.delete_object(bucket_name, name, version_id=version.version_id)
    return len(names)


def _item_key(table: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: attributes[name] for name in names if name in attributes}


def _persist_item(backend: Any, table_name: str, key: dict[str, Any]) -> None:
    if _store is None:
        return
    item = backend.get_item(table_name, key)
    if item is None:
        _store.delete_item(table_name, key)
    else:
        _store.put_item(table_name, key, item.to_json()["Attributes"])


def _reindex_updated(backend: Any, table_name: str, key: dict[str, Any]) -> None:
    """An UpdateItem changes the item in place, behind its table's back: its place in the
    table's index orders (items_at_rest) follows, store or none (a put re-places it itself)."""
    table = backend.get_table(table_name)
    if isinstance(table.items, items_at_rest.RestingItems):
        table.items.reindex(DynamoType(key[table.hash_key_attr]))


# Each write and its write-through hold the items' lock: an item is never put to rest between
# the change and the row that records it (items_at_rest), and a conditional write is atomic.


def _persisted_put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    with items_at_rest.LOCK:
        result = original_put_item(self, table_name, item_attrs, *args, **kwargs)
        _persist_item(self, table_name, _item_key(self.get_table(table_name), item_attrs))
    return result


def _persisted_update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    with items_at_rest.LOCK:
        result = original_update_item(self, table_name, key, *args, **kwargs)
        _reindex_updated(self, table_name, key)
        _persist_item(self, table_name, key)
    return result


def _persisted_delete_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    with items_at_rest.LOCK:
        result = original_delete_item(self, table_name, key, *args, **kwargs)
        _persist_item(self, table_name, key)
    return result


def _persisted_transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
    """A transaction's items, each by the key its operation names (a ConditionCheck writes
    nothing). moto's BatchWriteItem calls put_item and delete_item for each request itself."""
    with items_at_rest.LOCK:
        result = original_transact_write_items(self, transact_items)
        for entry in transact_items:
            operation, details = next(iter(entry.items()))
            if operation == "ConditionCheck":
                continue
            table_name = details["TableName"]
            key = details.get("Key") or _item_key(self.get_table(table_name), details["Item"])
            if operation == "Update":
                _reindex_updated(self, table_name, key)
            _persist_item(self, table_name, key)
    return result


_recording_start: ContextVar[bool] = ContextVar("recording_start", default=False)


def _persisted_start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
    """A StartExecution's execution is recorded as it starts (Execution.start below): only
    top-level executions, not a Distributed Map's children, which start on other threads."""
    token = _recording_start.set(True)
    try:
        return original_start_execution(self, state_machine_arn, name, *args, **kwargs)
    finally:
        _recording_start.reset(token)


def _recorded_execution_start(self: Any) -> None:
    """The row exists before the execution's thread runs: a short execution could otherwise
    finish (and record its end, updating nothing) before its start was inserted, leaving it
    RUNNING in the store for good."""
    if _store is not None and _recording_start.get():
        _store.start_execution(
            self.exec_arn, self.state_machine_arn, self.name, json.dumps(self.input_data), _iso(self.start_date)
        )
    original_execution_start(self)


def _persisted_publish_history_event(self: Any, **event: Any) -> None:
    original_publish_history_event(self, **event)
    arn = getattr(self, "_mediaflow_execution_arn", None)
    if _store is not None and arn:
        _store.add_event(arn, dict(self._history_event_list[-1]))


_END_FIELDS = ("stop_date", "output", "error", "cause", "exec_status")  # the status last: it makes the end visible


def _persisted_terminated(self: Any) -> None:
    """Durable before visible: the store records how the execution ended before DescribeExecution
    can report it (a client that saw SUCCEEDED must find it so after a crash). moto's reading of
    the end is made once, on a copy nobody else sees, then stored, then copied onto the execution
    (so the stop date stored and the one reported are the same)."""
    execution, store = self.execution, _store
    if store is None:
        original_terminated(self)
        return
    ended = copy.copy(execution)
    sfn_execution.BaseExecutionWorkerCommunication._reflect_execution_status(SimpleNamespace(execution=ended))
    recorded = store.finish_execution(
        ended.exec_arn,
        ended.exec_status.value,
        _iso(ended.stop_date),
        json.dumps(ended.output) if ended.output is not None else None,
        ended.error,
        ended.cause,
    )
    for field in _END_FIELDS:
        setattr(execution, field, getattr(ended, field))
    # The finished execution's whole evaluation environment (its history, states, context)
    # would stay in memory for as long as the runtime runs; its history is in the store.
    arn = execution.exec_arn
    map_runs = getattr(getattr(execution.exec_worker, "env", None), "map_run_record_pool_manager", None)
    execution.exec_worker = _StoredHistory(store, arn, map_runs)
    execution.state_machine = _shared_snapshot(execution.state_machine)
    if recorded:  # not a Map's child, whose input and output were never stored
        put_to_rest(execution, store)
        executions = _backend_of(arn)._get_state_machine_for_execution(arn).executions
        if isinstance(executions, execution_index.ExecutionList):  # all of it, once not among the recent
            executions.offer_to_rest(execution, store)


def _backend_of(arn: str) -> Any:
    parsed = parse_arn(arn)
    return sfn_parser_models.stepfunctions_parser_backends[parsed.account][parsed.region]


def persist_to(store: StateStore | None) -> StateStore | None:
    """Write every S3 object, DynamoDB item and execution event through to `store` (None: stop);
    returns the store it replaces."""
    global _store
    previous, _store = _store, store
    if _once("durable-state"):
        global _put_object_before_persistence
        _put_object_before_persistence = s3_models.S3Backend.put_object  # with the key-length patch, if applied
        s3_models.S3Backend.put_object = _persisted_put_object
        s3_models.FakeKey.set_metadata = _persisted_set_metadata
        s3_models.S3Backend.delete_object = _persisted_delete_object
        s3_models.S3Backend.delete_objects = _persisted_delete_objects
        dynamodb_models.DynamoDBBackend.put_item = _persisted_put_item
        dynamodb_models.DynamoDBBackend.update_item = _persisted_update_item
        dynamodb_models.DynamoDBBackend.delete_item = _persisted_delete_item
        dynamodb_models.DynamoDBBackend.transact_write_items = _persisted_transact_write_items
        sfn_parser_models.StepFunctionsParserBackend.start_execution = _persisted_start_execution
        sfn_execution.Execution.start = _recorded_execution_start
        sfn_event_manager.EventManager._publish_history_event = _persisted_publish_history_event
        sfn_execution.BaseExecutionWorkerCommunication.terminated = _persisted_terminated
        log_events.keep_log_events_in(lambda: _store)
        keys_at_rest.keep_keys_in(lambda: _store)
        items_at_rest.keep_items_in(lambda: _store)
        execution_index.current_store = lambda: _store
    _run_redrives_from_their_state()
    return previous


# A redrive, as AWS's RedriveExecution does it: the same execution (ARN, name, input, start
# time) runs again from the state that did not finish, its history kept and continued.


@dataclass(frozen=True)
class Redrive:
    state: str  # the top-level state to run from
    state_input: Any
    events: list[dict[str, Any]]  # the history so far
    start_date: str
    count: int = 1


_redrives: dict[str, Redrive] = {}


def run_again(
    execution_arn: str,
    state_machine_arn: str,
    name: str,
    execution_input: str,
    start_date: datetime,
    events: list[dict[str, Any]],
) -> str:
    """Start `execution_arn` again as a redrive, from the state its history says did not finish
    (mediaflow/redrive.py); returns that state. With no event recorded it had not begun: it
    simply starts, with the same name and input. The execution must not be in moto's list."""
    from mediaflow.redrive import redrive_point

    arn = parse_arn(state_machine_arn)
    backend = sfn_parser_models.stepfunctions_parser_backends[arn.account][arn.region]
    definition = json.loads(backend.describe_state_machine(state_machine_arn).definition)
    state, state_input = redrive_point(definition, events, json.loads(execution_input))
    count = 0
    if events:
        count = 1 + sum(1 for event in events if event["type"] == HistoryEventType.ExecutionRedriven)
        _run_redrives_from_their_state()
        _redrives[execution_arn] = Redrive(state, state_input, events, iso_timestamp(start_date), count)
    execution = backend.start_execution(state_machine_arn, name=name, execution_input=execution_input)
    executions = backend.describe_state_machine(state_machine_arn).executions
    if isinstance(executions, execution_index.ExecutionList):  # its place in ListExecutions' order too
        executions.set_start_date(execution, start_date)
    else:
        execution.start_date = start_date
    if count:  # what DescribeExecution reports, without reading the history at every poll
        execution.redrive_count, execution.redrive_date = count, datetime.now(UTC)
    return state


def _run_redrives_from_their_state() -> None:
    if _once("sfn-redrive-logic"):
        execution_worker.ExecutionWorker._execution_logic = _execution_logic


def _execution_logic(self: Any) -> None:
    arn = self._evaluation_details.execution_details.arn
    redrive = _redrives.pop(arn, None)
    if redrive is None:
        original_execution_logic(self)
        return
    program = copy.copy(self._get_evaluation_entrypoint())  # the shared program keeps its StartAt
    program.start_at = StartAt(redrive.state)
    self.env = self._get_evaluation_environment()
    self.env.states.context_object.context_object_data["Execution"]["StartTime"] = redrive.start_date
    manager = self.env.event_manager
    manager._history_event_list.extend(redrive.events)
    last = max((int(event["id"]) for event in redrive.events), default=0)
    manager._event_id_gen._next_id = last + 1
    self.env.event_history_context.source_event_id = last
    self.env.event_history_context.last_published_event_id = last
    self.env.states.reset(redrive.state_input)
    manager.add_event(
        context=self.env.event_history_context,
        event_type=HistoryEventType.ExecutionRedriven,
        event_details=EventDetails(executionRedrivenEventDetails={"redriveCount": redrive.count}),
    )
    program.eval(self.env)
    self._execution_communication.terminated()


class _ReadFromStore:
    """A finished execution's input or output: the value set on the execution if there is one
    (a redrive running it again sets them), else read from the state store when asked."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, execution: Any, owner: type | None = None) -> Any:
        if execution is None:
            return self
        if self.name in execution.__dict__:
            return execution.__dict__[self.name]
        execution_input, output = execution.mediaflow_store.execution_data(execution.exec_arn)
        if self.name == "execution_input":  # the input as JSON text
            return execution_input
        text = execution_input if self.name == "input_data" else output
        return json.loads(text) if text is not None else None

    def __set__(self, execution: Any, value: Any) -> None:
        execution.__dict__[self.name] = value


class ExecutionAtRest(sfn_execution.Execution):
    """A finished execution whose input and output live in the state store, not in memory: a
    job's are ~12 KB (its event, its results), kept for as long as the runtime runs otherwise.
    DescribeExecution reads them back (one row by primary key)."""

    mediaflow_store: StateStore
    input_data = _ReadFromStore()
    execution_input = _ReadFromStore()
    output = _ReadFromStore()


def put_to_rest(execution: Any, store: StateStore) -> None:
    execution.__class__ = ExecutionAtRest
    execution.mediaflow_store = store
    for name in ("input_data", "execution_input", "output"):
        execution.__dict__.pop(name, None)


# moto gives each execution a deep copy of its state machine, a snapshot of the definition it
# ran; every finished execution of the same revision keeps one equal to all the others (~1 KB
# each, for as long as the runtime runs). A finished one shares the first equal snapshot.
_snapshots: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_snapshots_lock = threading.Lock()


def _shared_snapshot(snapshot: Any) -> Any:
    state = {name: value for name, value in vars(snapshot).items() if name not in ("executions", "backend")}
    key = f"{type(snapshot).__qualname__}:{sorted(state.items())!r}"
    with _snapshots_lock:
        shared = _snapshots.get(key)
        if shared is None:
            _snapshots[key] = shared = snapshot
    return shared


_NO_MAP_RUNS = MapRunRecordPoolManager()  # never added to: shared by every execution without map runs


class _StoredHistory:
    """Stands in for a finished execution's worker: moto reads the history through it, from the
    store; GetExecutionHistory reads one page at a time (api.history_page). Two slots per
    finished execution, kept for as long as the runtime runs: no closures of its own."""

    __slots__ = ("arn", "map_run_record_pool_manager", "store")

    def __init__(self, store: StateStore, arn: str, map_runs: MapRunRecordPoolManager | None = None) -> None:
        self.store, self.arn = store, arn
        # ListMapRuns and DescribeMapRun read the worker's map runs (a Distributed Map's): a
        # finished execution keeps its own while it is awake; one rebuilt from its row has none.
        self.map_run_record_pool_manager = map_runs if map_runs is not None else _NO_MAP_RUNS

    @property
    def env(self) -> _StoredHistory:  # moto's path: exec_worker.env.event_manager.get_event_history()
        return self

    event_manager = env

    def get_event_history(self) -> list[dict[str, Any]]:
        return self.store.events(self.arn)

    @property
    def page_of_events(self) -> api.StoredEventPages:
        store, arn = self.store, self.arn
        return api.StoredEventPages(
            lambda: store.event_count(arn),
            lambda offset, size, newest_first: store.events_window(arn, offset, size, newest_first),
        )


def restore_execution(stored: StoredExecution, store: StateStore) -> None:
    """Put a finished execution back, as DescribeExecution, ListExecutions and
    GetExecutionHistory showed it before the restart: at rest (execution_index.py), rebuilt from
    its row when asked for; its history, input and output are read from `store` when asked."""
    state_machine = _backend_of(stored.state_machine_arn).describe_state_machine(stored.state_machine_arn)
    if isinstance(state_machine.executions, execution_index.ExecutionList):
        state_machine.executions.lay_to_rest(store)
    else:
        state_machine.executions.append(_rebuilt_execution(stored, store))


def _rebuilt_execution(stored: StoredExecution, store: StateStore) -> Any:
    """A finished execution from its row; its history, input and output read from `store`."""
    arn = parse_arn(stored.state_machine_arn)
    state_machine = _backend_of(stored.state_machine_arn).describe_state_machine(stored.state_machine_arn)
    execution = sfn_execution.Execution(
        name=stored.name,
        sm_type=state_machine.sm_type,
        role_arn=state_machine.roleArn,
        exec_arn=stored.arn,
        account_id=arn.account,
        region_name=arn.region,
        state_machine=state_machine,
        start_date=datetime.fromisoformat(stored.start_date),
        cloud_watch_logging_session=None,
        activity_store={},
        input_data="{}",  # read from the store when asked (put_to_rest)
    )
    execution.exec_status = ExecutionStatus(stored.status)
    execution.stop_date = datetime.fromisoformat(stored.stop_date) if stored.stop_date else None
    execution.error, execution.cause = stored.error, stored.cause
    put_to_rest(execution, store)
    execution.exec_worker = _StoredHistory(store, stored.arn)
    execution.redrive_count = None  # unknown until DescribeExecution asks (api.redrive_fields)
    return execution


execution_index.rebuild = _rebuilt_execution  # how a state machine's list wakes one of its executions at rest


# -- Step Functions: parse a definition once, not at every execution ---------------------------

_programs: dict[str, Any] = {}
_programs_lock = threading.Lock()


def _cached_entrypoint(self: Any) -> Any:
    """moto parses the whole definition again for every execution (80 to 150 ms for MediaFlow's,
    the engine's largest cost per job). Parse it once and share the program: its components keep
    no state of an execution (that lives in the execution's Environment; moto's own Map already
    runs one set of components in many threads at once). A redrive changes its StartAt on a
    shallow copy of its own."""
    definition = self._evaluation_details.state_machine_details.definition
    with _programs_lock:
        program = _programs.get(definition)
        if program is None:
            program = _programs[definition] = _with_heap_keys(original_entrypoint(self))
    return program


def _with_heap_keys(program: Any) -> Any:
    """Give every component its heap key now: moto draws one at first use, and two executions
    drawing at once would leave one reading its values under the other's key."""
    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, Component):
            if isinstance(value, EvalComponent):
                value.heap_key  # noqa: B018 - drawn here, once
            pending.extend(vars(value).values())
    return program


def parse_definitions_once() -> None:
    if _once("sfn-parse-once"):
        execution_worker.ExecutionWorker._get_evaluation_entrypoint = _cached_entrypoint
        # JSONPath expressions too: compiled per evaluation by moto, immutable once compiled.
        sfn_json_path.parse = cache(sfn_json_path.parse)
        sfn_result_path.parse = cache(sfn_result_path.parse)


# -- Step Functions: RedriveExecution -----------------------------------------------------------


class ExecutionNotRedrivable(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ExecutionNotRedrivable", message)


def redrive_execution(backend: Any, execution_arn: str) -> datetime:
    """Run a FAILED, ABORTED or TIMED_OUT execution again from the state that did not finish,
    as AWS does: same ARN, name, input and start date; the history continues."""
    execution = backend.describe_execution(execution_arn)
    if execution.exec_status not in api.REDRIVABLE:
        raise ExecutionNotRedrivable(
            f"Execution {execution_arn} is {execution.exec_status.value}: "
            "only FAILED, ABORTED or TIMED_OUT executions can be redriven"
        )
    events = [dict(event) for event in execution.to_history_output()["events"]]
    state_machine = backend._get_state_machine_for_execution(execution_arn)
    state_machine.executions.remove(execution)
    if _store is not None:
        _store.reopen_execution(execution_arn)  # RUNNING again, across a restart too
    run_again(
        execution_arn,
        state_machine.arn,
        execution.name,
        json.dumps(execution.input_data),
        execution.start_date,
        events,
    )
    return datetime.now(UTC)


def _redrive_execution_response(self: Any) -> ActionResult:
    return ActionResult({"redriveDate": redrive_execution(self.stepfunction_backend, self._get_param("executionArn"))})


def implement_redrive_execution() -> None:
    """moto 5.2.5 has no RedriveExecution: the API call is an HTTP 500 NotImplementedError."""
    if _once("sfn-redrive"):
        sfn_responses.StepFunctionResponse.redrive_execution = _redrive_execution_response


# -- The server: which services exist, listed once -------------------------------------------

original_list_of_moto_modules = moto_backends.list_of_moto_modules


@cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(original_list_of_moto_modules())


original_backend_for_host = werkzeug_app.DomainDispatcherApplication.get_backend_for_host


@lru_cache(maxsize=256)  # bounded: a client names the host (its signing region) as it likes
def _backend_for_host(dispatcher: Any, host: str | None) -> Any:
    return original_backend_for_host(dispatcher, host)


def list_services_once() -> None:
    """moto's server lists its own package folder (listdir + isdir of ~150 entries) on every
    request to find the service (~6 % of the engine's time in bench_runtime's profile), then
    tries the URL patterns of every service in turn, under one lock for all requests, until
    one matches the host (~5 % at N = 300; S3 comes late). Both answers are fixed for a host."""
    if _once("moto-modules"):
        moto_backends.list_of_moto_modules = _moto_modules
        werkzeug_app.DomainDispatcherApplication.get_backend_for_host = _backend_for_host

"""Every change the local runtime makes to moto 5.2.5, in one place.

Each patch names the moto behaviour it corrects; tests/unit/test_moto_patches.py shows the
bug with moto as shipped and the fix with the patch applied. The version is pinned in
pyproject.toml because these patches reach into moto's internals.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote_plus

import moto
from moto.awslambda import models as lambda_models
from moto.core.models import botocore_stubber
from moto.core.responses import ActionResult
from moto.events import models as events_models
from moto.s3 import models as s3_models
from moto.s3 import responses as s3_responses
from moto.s3.exceptions import S3ClientError
from moto.settings import moto_server_port
from moto.sns import models as sns_models
from moto.sqs.models import sqs_backends
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.asl.component.state import state as sfn_state
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client
from moto.stepfunctions.parser.backend import execution_worker
from moto.utilities.arns import parse_arn

MOTO_VERSION = "5.2.5"

EmailSink = Callable[[str, str, str | None, str, dict[str, Any]], None]
"""(topic_arn, endpoint, subject, message, message_attributes) -> None"""

_lock = threading.Lock()
_applied: set[str] = set()
_email_sink: EmailSink | None = None

original_send_to_targets = events_models.Rule.send_to_targets
original_bucket_response_post = s3_responses.S3Response._bucket_response_post
original_put_object = s3_models.S3Backend.put_object
original_get_execution_history = sfn_responses.StepFunctionResponse.get_execution_history
original_lambda_invoke = lambda_models.LambdaFunction.invoke
original_subscription_publish = sns_models.Subscription.publish
original_boto_client_for = sfn_boto_client.boto_client_for
original_evaluation_environment = execution_worker.ExecutionWorker._get_evaluation_environment
original_state_data = sfn_state.StateData


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


def deliver_email_to(sink: EmailSink) -> None:
    global _email_sink
    _email_sink = sink
    if _once("sns-email"):
        sns_models.Subscription.publish = _subscription_publish


# -- Step Functions engine ----------------------------------------------------------------


@cache
def _cached_boto_client(region: str, service: str, port: str, intercepted: bool) -> Any:
    # Keyed on the port and on whether moto's in-process mock is active, because the client's
    # endpoint depends on both.
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


def iso_timestamp(value: datetime) -> str:
    """Step Functions' context-object format: ISO 8601, UTC, milliseconds, 'Z'."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _evaluation_environment(self: Any) -> Any:
    """moto puts a datetime object in $$.Execution.StartTime where AWS puts an ISO 8601
    string; any state that copies it into a payload or a DynamoDB item then fails to
    serialise ("Object of type datetime is not JSON serializable")."""
    env = original_evaluation_environment(self)
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


# -- Step Functions: GetExecutionHistory's reverseOrder ------------------------------------


def _get_execution_history(self: Any) -> Any:
    """moto ignores reverseOrder (`aws stepfunctions get-execution-history --reverse-order`)."""
    result = original_get_execution_history(self)
    if not self._get_param("reverseOrder"):
        return result
    history = result.result
    return ActionResult({**history, "events": list(reversed(history["events"]))})


def honour_reverse_order() -> None:
    if _once("sfn-reverse-order"):
        sfn_responses.StepFunctionResponse.get_execution_history = _get_execution_history


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


def serve_lambda_invocations(runner: LambdaRunner | None) -> None:
    """Route moto's Lambda Invoke to `runner` (None: back to moto's own behaviour)."""
    global _lambda_runner
    _lambda_runner = runner
    if _once("lambda-invoke"):
        lambda_models.LambdaFunction.invoke = _lambda_invoke


def apply_all(email_sink: EmailSink) -> None:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"mediaflow's moto patches are written for moto {MOTO_VERSION}, found {moto.__version__}")
    route_events_to_step_functions()
    deliver_email_to(email_sink)
    reuse_step_functions_clients()
    context_start_time_as_string()
    silence_engine_repr_dumps()
    hold_s3_to_its_limits()
    read_only_requested_ranges()
    honour_reverse_order()

"""Answer the Step Functions engine's Lambda Invoke calls with the local LambdaRuntime.

moto cannot run Lambda code without Docker. Its engine calls Invoke through a boto3 client
made from the default session, so a handler on `before-send.lambda.Invoke` can reply before
any request leaves the process. Replies follow AWS's wire format: a function error carries
the header X-Amz-Function-Error and an {errorType, errorMessage, stackTrace} payload, so the
ASL's Retry/Catch see the same error names as on AWS. The quotas that break real
deployments are enforced here with AWS's error names.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from mediaflow.lambda_workers import InvocationResult, LambdaRuntime, error_payload
from mediaflow.template import ACCOUNT_ID, REGION

STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024  # Step Functions: max input/output of a state
LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024  # Lambda: max synchronous response payload

_INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")


class _Body(io.BytesIO):
    """A raw HTTP body botocore can both stream and read."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


@dataclass(frozen=True)
class Answer:
    """Lambda's reply to one Invoke: HTTP status, headers and body."""

    status: int
    body: bytes
    headers: dict[str, str]

    @staticmethod
    def of(status: int, body: bytes, headers: dict[str, str]) -> Answer:
        base = {"x-amzn-requestid": str(uuid.uuid4()), "content-type": "application/json"}
        return Answer(status, body, {**base, **headers})


def function_arn(name: str) -> str:
    """The ARN Lambda names in its errors, whether the caller gave a name or an ARN."""
    return name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def apply_quotas(payload: bytes, result: InvocationResult) -> InvocationResult:
    """Fail the way AWS would when a payload is over a quota."""
    if len(payload) > STATE_PAYLOAD_LIMIT_BYTES:
        return InvocationResult(
            error_payload(
                "States.DataLimitExceeded",
                f"The state input to the Lambda task is {len(payload)} bytes; the limit is {STATE_PAYLOAD_LIMIT_BYTES}",
            ),
            "Unhandled",
        )
    if len(result.payload) > LAMBDA_RESPONSE_LIMIT_BYTES:
        return InvocationResult(
            error_payload(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({len(result.payload)} bytes) exceeded maximum allowed payload size "
                f"({LAMBDA_RESPONSE_LIMIT_BYTES} bytes).",
            ),
            "Unhandled",
        )
    if result.function_error is None and len(result.payload) > STATE_PAYLOAD_LIMIT_BYTES:
        return InvocationResult(
            error_payload(
                "States.DataLimitExceeded",
                f"The Lambda result is {len(result.payload)} bytes; a state's output is limited to "
                f"{STATE_PAYLOAD_LIMIT_BYTES} bytes. Pass S3 keys, not data.",
            ),
            "Unhandled",
        )
    return result


class LambdaGateway:
    def __init__(self, runtime: LambdaRuntime) -> None:
        self.runtime = runtime
        self._outer: LambdaGateway | None = None

    def answer(self, name: str, payload: bytes) -> Answer:
        """Invoke `name` (a name or an ARN) as Lambda's synchronous Invoke would: AWS's status,
        headers and body, function errors and quotas included."""
        pool = self.runtime.find(name)
        if pool is None:
            message = {"Type": "User", "message": f"Function not found: {function_arn(name)}"}
            return Answer.of(404, json.dumps(message).encode(), {"x-amzn-errortype": "ResourceNotFoundException"})
        too_big = len(payload) > STATE_PAYLOAD_LIMIT_BYTES
        try:
            result = apply_quotas(payload, InvocationResult(b"") if too_big else pool.invoke(payload))
        except Exception as err:  # the runtime itself failed: a Lambda service error, which the ASL retries
            return Answer.of(
                500,
                json.dumps({"message": f"local Lambda runtime error: {err}"}).encode(),
                {"x-amzn-errortype": "ServiceException"},
            )
        if result.function_error:
            return Answer.of(
                200,
                result.payload,
                {"x-amz-function-error": result.function_error, "x-amz-executed-version": "$LATEST"},
            )
        return Answer.of(200, result.payload, {"x-amz-executed-version": "$LATEST"})

    def handle(self, request: Any, **_: Any) -> AWSResponse | None:
        """botocore's `before-send` hook: the reply to an Invoke request, before it leaves."""
        match = _INVOKE_PATH.search(request.url)
        if match is None:
            return None
        body = request.body or b""
        payload = body if isinstance(body, bytes) else body.read() if hasattr(body, "read") else str(body).encode()
        answer = self.answer(unquote(match.group("name")), payload)
        return AWSResponse(request.url, answer.status, answer.headers, _Body(answer.body))

    def invoke(self, function_name: str, payload: bytes) -> dict[str, Any]:
        """What a boto3 Lambda client's `invoke` returns (or raises) for this answer, without
        building, signing and parsing an HTTP request around it: the engine's Lambda Tasks."""
        answer = self.answer(function_name, payload)
        metadata = {
            "RequestId": answer.headers["x-amzn-requestid"],
            "HTTPStatusCode": answer.status,
            "HTTPHeaders": answer.headers,
            "RetryAttempts": 0,
        }
        if answer.status != 200:
            error = json.loads(answer.body)
            raise ClientError(
                {
                    "Error": {"Code": answer.headers["x-amzn-errortype"], "Message": error["message"]},
                    "ResponseMetadata": metadata,
                },
                "Invoke",
            )
        response: dict[str, Any] = {"ResponseMetadata": metadata, "StatusCode": 200}
        if "x-amz-function-error" in answer.headers:
            response["FunctionError"] = answer.headers["x-amz-function-error"]
        response["ExecutedVersion"] = answer.headers["x-amz-executed-version"]
        response["Payload"] = StreamingBody(io.BytesIO(answer.body), len(answer.body))
        return response

    def install(self) -> None:
        """Make this gateway answer Invoke calls made through the default boto3 session,
        the one moto's engine builds its clients from."""
        global _active
        self._outer, _active = _active, self
        _register_dispatcher()

    def uninstall(self) -> None:
        """Hand the calls back to the gateway this one replaced (a stack started inside another's
        lifetime, as the tests' second stack is), or to nobody."""
        global _active
        if _active is self:
            _active = self._outer


_active: LambdaGateway | None = None
_registered = False


def active() -> LambdaGateway | None:
    """The gateway answering the engine's Invoke calls, if a stack is running."""
    return _active


def _dispatch(request: Any, **kwargs: Any) -> AWSResponse | None:
    # One process-wide hook: clients the engine caches keep working when a new stack starts.
    return _active.handle(request, **kwargs) if _active is not None else None


def _register_dispatcher() -> None:
    global _registered
    if _registered:
        return
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register_first("before-send.lambda.Invoke", _dispatch)
    _registered = True

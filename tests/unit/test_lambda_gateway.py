"""Invoke answered in-process, in AWS's wire format, with AWS's quotas."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mediaflow.lambda_gateway import (
    LAMBDA_RESPONSE_LIMIT_BYTES,
    STATE_PAYLOAD_LIMIT_BYTES,
    LambdaGateway,
)
from mediaflow.lambda_workers import InvocationResult
from mediaflow.template import ACCOUNT_ID, REGION


class FakeRuntime:
    """Stands in for LambdaRuntime: returns whatever the test sets as the next result."""

    def __init__(self) -> None:
        self.result = InvocationResult(b'{"ok": true}')
        self.payloads: list[bytes] = []

    def find(self, name: str) -> Any:
        return self if name.split(":")[-1] == "known" or name == "known" else None

    def invoke(self, payload: bytes) -> InvocationResult:
        self.payloads.append(payload)
        return self.result


@pytest.fixture
def runtime_and_client() -> tuple[FakeRuntime, Any]:
    runtime = FakeRuntime()
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    session.events.register_first("before-send.lambda.Invoke", LambdaGateway(runtime).handle)  # type: ignore[arg-type]
    client = session.client("lambda", endpoint_url="http://127.0.0.1:9")  # nothing listens: must not be reached
    return runtime, client


def test_success_payload_round_trips(runtime_and_client: tuple[FakeRuntime, Any]) -> None:
    runtime, client = runtime_and_client
    response = client.invoke(
        FunctionName="arn:aws:lambda:us-east-1:123456789012:function:known", Payload=json.dumps({"a": 1})
    )
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"ok": True}
    assert json.loads(runtime.payloads[0]) == {"a": 1}


def test_function_error_header_and_payload(runtime_and_client: tuple[FakeRuntime, Any]) -> None:
    runtime, client = runtime_and_client
    runtime.result = InvocationResult(b'{"errorType": "CorruptMedia", "errorMessage": "bad"}', "Unhandled")
    response = client.invoke(FunctionName="known", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "CorruptMedia"


def test_unknown_function_is_resource_not_found(runtime_and_client: tuple[FakeRuntime, Any]) -> None:
    _, client = runtime_and_client
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="missing", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # Lambda names the function by its ARN, not the name it was called by.
    assert caught.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:missing"
    )


def test_state_input_over_256_kb_is_data_limit_exceeded(runtime_and_client: tuple[FakeRuntime, Any]) -> None:
    runtime, client = runtime_and_client
    response = client.invoke(FunctionName="known", Payload=json.dumps({"x": "a" * STATE_PAYLOAD_LIMIT_BYTES}))
    assert json.loads(response["Payload"].read())["errorType"] == "States.DataLimitExceeded"
    assert runtime.payloads == [], "the function is never invoked"


def test_result_over_256_kb_is_data_limit_exceeded(runtime_and_client: tuple[FakeRuntime, Any]) -> None:
    runtime, client = runtime_and_client
    runtime.result = InvocationResult(json.dumps({"frames": "x" * (STATE_PAYLOAD_LIMIT_BYTES + 1)}).encode())
    response = client.invoke(FunctionName="known", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "States.DataLimitExceeded"


def test_response_over_6_mb_is_response_size_too_large(runtime_and_client: tuple[FakeRuntime, Any]) -> None:
    runtime, client = runtime_and_client
    runtime.result = InvocationResult(b'"' + b"x" * LAMBDA_RESPONSE_LIMIT_BYTES + b'"')
    response = client.invoke(FunctionName="known", Payload=b"{}")
    assert json.loads(response["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"


class _FailingRuntime(FakeRuntime):
    def invoke(self, payload: bytes) -> InvocationResult:
        raise RuntimeError("worker pool closed")


def _task_outcome(invoke: Any, parameters: dict[str, Any]) -> Any:
    """What a lambda:invoke Task makes of one call: the response it keeps, or the error name and
    cause its TaskFailed event would carry (request ids aside: each call has its own)."""
    from moto.stepfunctions.parser.api import InvocationResponse
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )
    from moto.utilities.collections import select_from_typed_dict

    try:
        response = invoke(dict(parameters), REGION, None)
    except ClientError as err:
        error, cause = StateTaskServiceLambda._error_cause_from_client_error(err)
        return error, cause.replace(err.response["ResponseMetadata"]["RequestId"], "<id>")
    return select_from_typed_dict(typed_dict=InvocationResponse, obj=response)


@pytest.mark.parametrize(
    ("runtime", "result", "parameters"),
    [
        (FakeRuntime(), InvocationResult(b'{"ok": true, "n": [1, 2]}'), {"FunctionName": "known", "Payload": b"{}"}),
        (FakeRuntime(), InvocationResult(b"not json"), {"FunctionName": "known", "Payload": b'{"a": 1}'}),
        (
            FakeRuntime(),
            InvocationResult(b'{"errorType": "CorruptMedia", "errorMessage": "bad"}', "Unhandled"),
            {"FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:known", "Payload": b"{}"},
        ),
        (FakeRuntime(), None, {"FunctionName": "missing", "Payload": b"{}"}),
        (FakeRuntime(), None, {"FunctionName": "known", "Payload": b'"' + b"x" * STATE_PAYLOAD_LIMIT_BYTES + b'"'}),
        (_FailingRuntime(), None, {"FunctionName": "known", "Payload": b"{}"}),
    ],
    ids=["json", "not-json", "function-error", "unknown-function", "input-over-quota", "runtime-failure"],
)
def test_engine_lambda_tasks_answered_without_botocore_get_the_same_outcome(
    runtime: FakeRuntime, result: InvocationResult | None, parameters: dict[str, Any]
) -> None:
    """Bug-and-fix (moto_patches/lambda_tasks.py): botocore built, signed and parsed every Task's
    Invoke around the gateway's answer. The direct path must give each outcome botocore gave."""
    from mediaflow.moto_patches import lambda_tasks

    if result is not None:
        runtime.result = result
    gateway = LambdaGateway(runtime)  # type: ignore[arg-type]
    through_botocore: list[str] = []
    original_handle = gateway.handle
    gateway.handle = lambda request, **kw: (through_botocore.append(request.url), original_handle(request, **kw))[1]  # type: ignore[method-assign]
    gateway.install()
    try:
        shipped = _task_outcome(lambda_tasks.original_invoke_lambda_function, parameters)
        assert len(through_botocore) == 1
        direct = _task_outcome(lambda_tasks._invoke_lambda_function, parameters)
        assert len(through_botocore) == 1, "the direct path sent a request through botocore"
        # A Qualifier is not answered directly: botocore carries it, as before.
        _task_outcome(lambda_tasks._invoke_lambda_function, {**parameters, "Qualifier": "$LATEST"})
        assert len(through_botocore) == 2
    finally:
        gateway.uninstall()
    assert direct == shipped
    if result is not None and result.function_error is None:
        assert direct["StatusCode"] == 200 and direct["Payload"] == (
            "not json" if result.payload == b"not json" else json.loads(result.payload)
        )
    assert len(runtime.payloads) == (
        0
        if isinstance(runtime, _FailingRuntime)
        or "missing" in parameters["FunctionName"]
        or len(parameters["Payload"]) > STATE_PAYLOAD_LIMIT_BYTES
        else 3
    )

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

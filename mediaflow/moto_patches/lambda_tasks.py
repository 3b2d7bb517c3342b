"""The engine's Lambda Tasks reach the local Lambda runtime without an HTTP request around them.

moto's `lambda:invoke` integration calls `invoke` on a boto3 Lambda client; MediaFlow's gateway
answers it from botocore's `before-send` hook (mediaflow/lambda_gateway.py), so the request never
leaves the process, but botocore still builds, signs and parses it: ~1 ms of the engine's CPU
per Task, a third of an image job's Lambda Task cost and more than the gateway itself. Now the
gateway's answer is handed back in the shape the client returns (`StatusCode`,
`FunctionError`, `ExecutedVersion`, the payload; a `ClientError` for Lambda's own errors), and
moto's own code parses the payload as before.

Only a call the gateway answers exactly as the client would takes this path: a running stack,
and no parameter beyond FunctionName and Payload (a Qualifier, ClientContext or LogType goes
through the client as before).
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from mediaflow import lambda_gateway

original_invoke_lambda_function = lambda_eval_utils._invoke_lambda_function

_PARAMETERS_ANSWERED_DIRECTLY = frozenset({"FunctionName", "Payload"})


def _invoke_lambda_function(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
    gateway = lambda_gateway.active()
    payload = parameters.get("Payload", b"")
    if gateway is None or not set(parameters) <= _PARAMETERS_ANSWERED_DIRECTLY or not isinstance(payload, bytes):
        return original_invoke_lambda_function(parameters, region, state_credentials)
    response = gateway.invoke(parameters["FunctionName"], payload)
    response["Payload"] = lambda_eval_utils._from_payload(response["Payload"])
    return response


def apply() -> None:
    lambda_eval_utils._invoke_lambda_function = _invoke_lambda_function

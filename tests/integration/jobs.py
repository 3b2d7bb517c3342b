"""Run one upload through the local stack and collect what it produced."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from mediaflow.stack import LocalStack


@dataclass
class JobRun:
    key: str
    execution: dict[str, Any]
    job: dict[str, Any]
    outputs: list[str]
    history: list[dict[str, Any]]

    @property
    def status(self) -> str:
        return self.execution["status"]

    @property
    def renditions(self) -> list[dict[str, Any]]:
        return self.job.get("results", {}).get("renditions", [])

    def states_entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if "stateEnteredEventDetails" in e]


def run_upload(stack: LocalStack, data: bytes, key: str) -> JobRun:
    """Upload bytes as `key`, wait for the execution it starts, and collect what it produced."""
    etag = stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=data)["ETag"].strip('"')
    execution = stack.wait_for_execution(key, etag, timeout=120)
    history = stack.execution_history(execution["executionArn"])
    job = stack.job_for_execution(execution["executionArn"]) or {}
    outputs = stack.list_outputs(job["jobId"]) if job else []
    return JobRun(key, execution, job, outputs, history)


def emails_about(stack: LocalStack, job_id: str) -> list[EmailMessage]:
    return [message for _, message in stack.outbox.read(about=job_id)]


def function_pool(stack: LocalStack, logical_id: str) -> Any:
    """The local worker pool running one of the template's functions (to inject faults)."""
    assert stack.runtime is not None
    pool = stack.runtime.find(stack.template.physical_ids[logical_id])
    assert pool is not None
    return pool


def function_error(error_type: str, message: str) -> Any:
    """What a handler raising `error_type` returns through Lambda."""
    from mediaflow.lambda_workers import InvocationResult

    body = {"errorType": error_type, "errorMessage": message, "stackTrace": []}
    return InvocationResult(json.dumps(body).encode(), "Unhandled")


def finished(stack: LocalStack, execution_arn: str, timeout: float = 90) -> dict[str, Any]:
    """The execution once it has ended (DescribeExecution), waiting for it."""
    sfn, deadline = stack.client("stepfunctions"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise TimeoutError(execution_arn)


def fail_first_invoke(pool: Any, monkeypatch: Any) -> list[int]:
    """Make the pool's first invocation a Lambda service failure (the runtime itself failing,
    which the gateway answers as Lambda.ServiceException); returns the list of calls so far."""
    real_invoke, calls = pool.invoke, []

    def flaky_invoke(payload: bytes) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("simulated Lambda service failure")
        return real_invoke(payload)

    monkeypatch.setattr(pool, "invoke", flaky_invoke)
    return calls

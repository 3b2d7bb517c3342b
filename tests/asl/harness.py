"""Runs an ASL definition on the local runtime's engine (moto + mediaflow's patches) through boto3.

A case is what the ASL specification or AWS's documentation says a definition does with an
input: the execution's status and output, or its error (and cause), and the history event types
in order. `Refused` cases are definitions CreateStateMachine must reject.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from mediaflow.template import ACCOUNT_ID

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/asl-suite"
ANY = object()  # matches any value in an expected output


@dataclass(frozen=True)
class Case:
    name: str
    definition: dict[str, Any]
    input: Any = field(default_factory=dict)
    output: Any = None
    error: str | None = None
    cause: str | None = None  # a substring of the cause
    events: tuple[str, ...] | None = None
    status: str | None = None  # defaults to SUCCEEDED, or FAILED when error is set

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Refused:
    """A definition AWS rejects at CreateStateMachine; `message` is a substring of the error's message."""

    name: str
    definition: dict[str, Any] | str
    message: str
    code: str = "InvalidDefinition"

    def __str__(self) -> str:
        return self.name


def machine(states: dict[str, Any], start: str | None = None, **top: Any) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states, **top}


def jsonata(states: dict[str, Any], start: str | None = None, **top: Any) -> dict[str, Any]:
    return machine(states, start, QueryLanguage="JSONata", **top)


def pass_state(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "End": True, **fields}


def distributed(processor_states: dict[str, Any], start: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": start or next(iter(processor_states)),
            "States": processor_states,
        },
        "End": True,
        **fields,
    }


@dataclass
class Outcome:
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(event["type"] for event in self.events)


def wait_finished(sfn: Any, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    """DescribeExecution once the execution has left RUNNING (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.01)


def run(sfn: Any, definition: dict[str, Any], execution_input: Any, timeout: float = 60) -> Outcome:
    arn = sfn.create_state_machine(
        name=f"asl-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]
    described = wait_finished(sfn, execution, timeout)
    events = []
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
    for page in pages:
        events.extend(page["events"])
    output = json.loads(described["output"]) if "output" in described else None
    return Outcome(described["status"], output, described.get("error"), described.get("cause"), events)


def matches(expected: Any, actual: Any) -> bool:
    if expected is ANY:
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(value, actual[key]) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(value, item) for value, item in zip(expected, actual, strict=True))
        )
    if isinstance(expected, float) or isinstance(actual, float):
        return not isinstance(actual, bool) and isinstance(actual, int | float) and abs(expected - actual) < 1e-9
    return type(expected) is type(actual) and expected == actual


def check(sfn: Any, case: Case) -> Outcome:
    outcome = run(sfn, case.definition, case.input)
    expected_status = case.status or ("FAILED" if case.error else "SUCCEEDED")
    detail = f"{outcome.status} {outcome.error} {outcome.cause} output={str(outcome.output)[:300]}"
    assert outcome.status == expected_status, detail
    if case.error:
        assert outcome.error == case.error, detail
    if case.cause is not None:
        assert case.cause in (outcome.cause or ""), detail
    if expected_status == "SUCCEEDED":
        assert matches(case.output, outcome.output), (
            f"expected {str(case.output)[:300]}, got {str(outcome.output)[:300]}"
        )
    if case.events is not None:
        assert outcome.event_types == case.events, outcome.event_types
    return outcome


def check_refused(sfn: Any, case: Refused) -> None:
    text = case.definition if isinstance(case.definition, str) else json.dumps(case.definition)
    try:
        sfn.create_state_machine(name=f"asl-{uuid.uuid4().hex[:12]}", definition=text, roleArn=ROLE)
    except ClientError as error:
        assert error.response["Error"]["Code"] == case.code, error.response["Error"]
        assert case.message in error.response["Error"]["Message"], error.response["Error"]["Message"]
        return
    raise AssertionError(f"{case.name}: CreateStateMachine accepted a definition AWS refuses")

"""The context object and the Choice state's comparison operators (ASL specification: "Context
Object", "Choice Rules")."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.asl.harness import Case, check, machine, pass_state, run

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_context_object_fields(sfn: Any) -> None:
    definition = machine(
        {
            "Here": pass_state(
                Parameters={
                    "id.$": "$$.Execution.Id",
                    "name.$": "$$.Execution.Name",
                    "role.$": "$$.Execution.RoleArn",
                    "start.$": "$$.Execution.StartTime",
                    "input.$": "$$.Execution.Input",
                    "machine.$": "$$.StateMachine.Id",
                    "machineName.$": "$$.StateMachine.Name",
                    "state.$": "$$.State.Name",
                    "entered.$": "$$.State.EnteredTime",
                }
            )
        }
    )
    outcome = run(sfn, definition, {"k": [1]})
    out = outcome.output
    assert outcome.status == "SUCCEEDED"
    assert out["id"].split(":")[5] == "execution" and out["id"].endswith(f":{out['name']}")
    assert out["machine"].split(":")[5] == "stateMachine" and out["machine"].endswith(f":{out['machineName']}")
    assert out["role"].startswith("arn:aws:iam::") and out["input"] == {"k": [1]} and out["state"] == "Here"
    assert ISO_MS.fullmatch(out["start"]) and ISO_MS.fullmatch(out["entered"]), (out["start"], out["entered"])


def choose(rule: dict[str, Any]) -> dict[str, Any]:
    return machine(
        {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
            "Yes": pass_state(Result="yes"),
            "No": pass_state(Result="no"),
        }
    )


RULES = [
    ("string-equals", {"Variable": "$.s", "StringEquals": "abc"}, {"s": "abc"}, "yes"),
    ("string-equals-path", {"Variable": "$.s", "StringEqualsPath": "$.t"}, {"s": "a", "t": "a"}, "yes"),
    ("string-less-than", {"Variable": "$.s", "StringLessThan": "b"}, {"s": "a"}, "yes"),
    ("string-greater-than-equals", {"Variable": "$.s", "StringGreaterThanEquals": "b"}, {"s": "a"}, "no"),
    ("string-matches-wildcard", {"Variable": "$.s", "StringMatches": "*.log"}, {"s": "app.log"}, "yes"),
    ("string-matches-escaped-star", {"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "a*b"}, "yes"),
    ("string-matches-escaped-star-literal-only", {"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "axxb"}, "no"),
    ("string-matches-question-mark-is-literal", {"Variable": "$.s", "StringMatches": "a?b"}, {"s": "axb"}, "no"),
    ("string-matches-brackets-are-literal", {"Variable": "$.s", "StringMatches": "[ab]*"}, {"s": "[ab]cd"}, "yes"),
    ("numeric-equals-float-int", {"Variable": "$.n", "NumericEquals": 1}, {"n": 1.0}, "yes"),
    ("numeric-less-than-path", {"Variable": "$.n", "NumericLessThanPath": "$.m"}, {"n": 1, "m": 2}, "yes"),
    ("numeric-on-a-string-is-false", {"Variable": "$.n", "NumericEquals": 1}, {"n": "1"}, "no"),
    ("boolean-equals", {"Variable": "$.b", "BooleanEquals": False}, {"b": False}, "yes"),
    (
        "timestamp-equals",
        {"Variable": "$.t", "TimestampEquals": "2020-01-01T00:00:00Z"},
        {"t": "2020-01-01T00:00:00Z"},
        "yes",
    ),
    (
        "timestamp-less-than-path",
        {"Variable": "$.t", "TimestampLessThanPath": "$.u"},
        {"t": "2020-01-01T00:00:00Z", "u": "2021-01-01T00:00:00Z"},
        "yes",
    ),
    ("is-null", {"Variable": "$.x", "IsNull": True}, {"x": None}, "yes"),
    ("is-present-false", {"Variable": "$.missing", "IsPresent": False}, {}, "yes"),
    ("is-string", {"Variable": "$.x", "IsString": True}, {"x": "s"}, "yes"),
    ("is-numeric", {"Variable": "$.x", "IsNumeric": True}, {"x": "1"}, "no"),
    ("is-boolean", {"Variable": "$.x", "IsBoolean": True}, {"x": True}, "yes"),
    ("is-timestamp", {"Variable": "$.x", "IsTimestamp": True}, {"x": "2016-03-14T01:59:00Z"}, "yes"),
    ("is-timestamp-not", {"Variable": "$.x", "IsTimestamp": True}, {"x": "yesterday"}, "no"),
    (
        "and-or-not",
        {
            "Or": [
                {"Variable": "$.a", "NumericEquals": 9},
                {
                    "And": [
                        {"Variable": "$.b", "StringEquals": "x"},
                        {"Not": {"Variable": "$.c", "BooleanEquals": True}},
                    ]
                },
            ]
        },
        {"a": 1, "b": "x", "c": False},
        "yes",
    ),
]

CASES = [Case(name, choose(rule), execution_input, expected) for name, rule, execution_input, expected in RULES]
CASES.append(
    Case(
        "choice-missing-variable",
        choose({"Variable": "$.missing", "StringEquals": "x"}),
        {},
        error="States.Runtime",
        cause="Invalid path '$.missing'",
    )
)
CASES.append(
    Case(
        "is-present-guards-a-missing-variable",
        choose({"And": [{"Variable": "$.missing", "IsPresent": True}, {"Variable": "$.missing", "StringEquals": "x"}]}),
        {},
        "no",
    )
)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_choice(sfn: Any, case: Case) -> None:
    check(sfn, case)

"""JSONPath processing (InputPath, Parameters, ResultSelector, ResultPath, OutputPath), the
States.* errors, Retry and Catch, from the ASL specification's "Input and Output Processing",
"Errors" and "Retrying after an error" sections."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.asl.harness import Case, Refused, check, check_refused, machine, pass_state

RT = "States.Runtime"


def failing_branch(error: str = "Boom", cause: str = "it broke") -> dict[str, Any]:
    return machine({"F": {"Type": "Fail", "Error": error, "Cause": cause}})


def parallel_failing(**fields: Any) -> dict[str, Any]:
    """A Parallel state whose only branch fails: the spec's way to raise an error from a state that can Retry/Catch."""
    return {"Type": "Parallel", "Branches": [failing_branch()], **fields}


CASES = [
    # Reference paths: a definite path gives the value, not a one-element list.
    Case(
        "definite-path-with-index",
        machine({"P": pass_state(Parameters={"v.$": "$.a[0].b"})}),
        {"a": [{"b": 1}, {"b": 2}]},
        {"v": 1},
    ),
    Case(
        "definite-path-nested-index",
        machine({"P": pass_state(Parameters={"v.$": "$.a[1][0]"})}),
        {"a": [[1], [2, 3]]},
        {"v": 2},
    ),
    Case(
        "wildcard-gives-a-list",
        machine({"P": pass_state(Parameters={"v.$": "$.a[*].b"})}),
        {"a": [{"b": 1}, {"b": 2}]},
        {"v": [1, 2]},
    ),
    Case(
        "filter-gives-a-list",
        machine({"P": pass_state(Parameters={"v.$": "$.a[?(@.b > 1)].b"})}),
        {"a": [{"b": 1}, {"b": 2}, {"b": 3}]},
        {"v": [2, 3]},
    ),
    Case("slice", machine({"P": pass_state(Parameters={"v.$": "$.a[1:3]"})}), {"a": [0, 1, 2, 3]}, {"v": [1, 2]}),
    Case("root", machine({"P": pass_state(Parameters={"all.$": "$"})}), {"k": 1}, {"all": {"k": 1}}),
    Case("null-value-is-kept", machine({"P": pass_state(Parameters={"v.$": "$.n"})}), {"n": None}, {"v": None}),
    Case(
        "missing-path-in-parameters",
        machine({"P": pass_state(Parameters={"v.$": "$.missing"})}),
        {"a": 1},
        error=RT,
        cause="The JSONPath '$.missing' specified for the field 'v.$' could not be found in the input",
    ),
    Case("missing-input-path", machine({"P": pass_state(InputPath="$.missing")}), {"a": 1}, error=RT),
    Case(
        "context-object-in-parameters",
        machine({"Here": pass_state(Parameters={"n.$": "$$.State.Name", "input.$": "$$.Execution.Input.k"})}),
        {"k": "v"},
        {"n": "Here", "input": "v"},
    ),
    # The processing chain of a Pass state.
    Case(
        "input-path-parameters-result-path-output-path",
        machine(
            {
                "P": pass_state(
                    InputPath="$.in", Parameters={"doubled.$": "$.x"}, ResultPath="$.in.res", OutputPath="$.in"
                )
            }
        ),
        {"in": {"x": 2}, "other": 1},
        {"x": 2, "res": {"doubled": 2}},
    ),
    Case(
        "result-path-null-discards",
        machine({"P": pass_state(Result={"r": 1}, ResultPath=None)}),
        {"keep": True},
        {"keep": True},
    ),
    Case(
        "result-path-root-replaces",
        machine({"P": pass_state(Result={"r": 1}, ResultPath="$")}),
        {"keep": True},
        {"r": 1},
    ),
    Case(
        "result-path-creates-missing-objects",
        machine({"P": pass_state(Result=5, ResultPath="$.a.b.c")}),
        {},
        {"a": {"b": {"c": 5}}},
    ),
    Case("output-path-null-gives-empty-object", machine({"P": pass_state(OutputPath=None)}), {"k": 1}, {}),
    Case(
        "input-path-null-gives-empty-object",
        machine({"P": pass_state(InputPath=None, Parameters={"n.$": "$"})}),
        {"k": 1},
        {"n": {}},
    ),
    Case(
        "result-path-merges-into-the-raw-input",
        machine({"P": pass_state(InputPath="$.k", Parameters={"n.$": "$"}, ResultPath="$.r")}),
        {"k": 1},
        {"k": 1, "r": {"n": 1}},
    ),
    Case(
        "result-selector",
        machine(
            {
                "P": {
                    "Type": "Parallel",
                    "Branches": [machine({"X": pass_state(Result={"a": 1, "b": 2})})],
                    "ResultSelector": {"first.$": "$[0].a"},
                    "ResultPath": "$.sel",
                    "End": True,
                }
            }
        ),
        {"k": 0},
        {"k": 0, "sel": {"first": 1}},
    ),
    # Errors and their handling.
    Case(
        "fail-state",
        machine({"F": {"Type": "Fail", "Error": "MyError", "Cause": "my cause"}}),
        {},
        error="MyError",
        cause="my cause",
        events=("ExecutionStarted", "FailStateEntered", "ExecutionFailed"),
    ),
    Case(
        "fail-state-may-name-a-states-error",
        machine({"F": {"Type": "Fail", "Error": "States.TaskFailed", "Cause": "c"}}),
        {},
        error="States.TaskFailed",
    ),
    Case(
        "fail-state-error-path",
        machine({"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}}),
        {"e": "Dyn", "c": "amic"},
        error="Dyn",
        cause="amic",
    ),
    Case(
        "catch-result-path-keeps-input",
        machine(
            {
                "P": parallel_failing(
                    Catch=[{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "H"}], End=True
                ),
                "H": pass_state(),
            }
        ),
        {"k": 1},
        {"k": 1, "error": {"Error": "Boom", "Cause": "it broke"}},
    ),
    Case(
        "catch-without-result-path-replaces-input",
        machine(
            {"P": parallel_failing(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "H"}], End=True), "H": pass_state()}
        ),
        {"k": 1},
        {"Error": "Boom", "Cause": "it broke"},
    ),
    Case(
        "catchers-are-tried-in-order",
        machine(
            {
                "P": parallel_failing(
                    Catch=[
                        {"ErrorEquals": ["Other"], "Next": "A"},
                        {"ErrorEquals": ["Boom"], "Next": "B"},
                        {"ErrorEquals": ["States.ALL"], "Next": "A"},
                    ],
                    End=True,
                ),
                "A": pass_state(Result="A"),
                "B": pass_state(Result="B"),
            }
        ),
        {},
        "B",
    ),
    Case(
        "states-all-does-not-catch-when-unmatched-and-fails",
        machine({"P": parallel_failing(Catch=[{"ErrorEquals": ["Other"], "Next": "A"}], End=True), "A": pass_state()}),
        {},
        error="Boom",
    ),
    Case(
        "retry-then-catch",
        machine(
            {
                "P": parallel_failing(
                    Retry=[{"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2}],
                    Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "H"}],
                    End=True,
                ),
                "H": pass_state(),
            }
        ),
        {},
        {"err": {"Error": "Boom", "Cause": "it broke"}},
    ),
    Case(
        "retry-max-attempts-zero-never-retries",
        machine({"P": parallel_failing(Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 0}], End=True)}),
        {},
        error="Boom",
    ),
    Case(
        "task-failed-does-not-match-states-timeout",
        machine(
            {
                "P": parallel_failing(Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "A"}], End=True),
                "A": pass_state(),
            }
        ),
        {},
        error="Boom",
    ),
    Case(
        "choice-no-match",
        machine(
            {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}]},
                "A": pass_state(),
            }
        ),
        {"n": 2},
        error="States.NoChoiceMatched",
    ),
    Case(
        "choice-operators",
        machine(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "And": [
                                {"Variable": "$.s", "StringMatches": "log-*.txt"},
                                {"Not": {"Variable": "$.n", "NumericLessThanPath": "$.m"}},
                                {"Variable": "$.t", "TimestampGreaterThan": "2020-01-01T00:00:00Z"},
                                {"Variable": "$.missing", "IsPresent": False},
                            ],
                            "Next": "Yes",
                        }
                    ],
                    "Default": "No",
                },
                "Yes": pass_state(Result="yes"),
                "No": pass_state(Result="no"),
            }
        ),
        {"s": "log-1.txt", "n": 5, "m": 3, "t": "2021-05-01T10:00:00Z"},
        "yes",
    ),
    Case("succeed-state", machine({"S": {"Type": "Succeed", "OutputPath": "$.k"}}), {"k": [1]}, [1]),
    Case(
        "wait-then-pass",
        machine({"W": {"Type": "Wait", "Seconds": 30, "Next": "P"}, "P": pass_state()}),
        {"k": 1},
        {"k": 1},
        events=(
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ),
    ),
    Case("wait-seconds-path", machine({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}), {"s": 1}, {"s": 1}),
    Case(
        "wait-timestamp-in-the-past",
        machine({"W": {"Type": "Wait", "Timestamp": "2000-01-01T00:00:00Z", "End": True}}),
        {},
        {},
    ),
]

REFUSED = [
    Refused("unknown-state-type", machine({"P": {"Type": "Nope", "End": True}}), "Nope"),
    Refused("next-names-no-state", machine({"P": {"Type": "Pass", "Next": "Missing"}}), "Missing"),
    Refused(
        "unknown-states-error-name",
        machine({"P": parallel_failing(Catch=[{"ErrorEquals": ["States.Nope"], "Next": "P"}], End=True)}),
        "States.Nope",
    ),
    Refused(
        "backoff-rate-below-one",
        machine({"P": parallel_failing(Retry=[{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}], End=True)}),
        "BackoffRate",
    ),
    Refused(
        "max-delay-seconds-zero",
        machine({"P": parallel_failing(Retry=[{"ErrorEquals": ["States.ALL"], "MaxDelaySeconds": 0}], End=True)}),
        "MaxDelaySeconds",
    ),
    Refused(
        "jitter-strategy-unknown",
        machine({"P": parallel_failing(Retry=[{"ErrorEquals": ["States.ALL"], "JitterStrategy": "HALF"}], End=True)}),
        "HALF",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_paths_and_errors(sfn: Any, case: Case) -> None:
    check(sfn, case)


@pytest.mark.parametrize("case", REFUSED, ids=str)
def test_refused(sfn: Any, case: Refused) -> None:
    check_refused(sfn, case)


def test_retry_delays_are_recorded_at_full_length_under_a_time_scale(sfn: Any) -> None:
    """With the suite's 1/100 time scale the retries take ~0.06 s, but the history shows 2 s and 4 s."""
    from datetime import datetime

    from tests.asl.harness import run

    definition = machine(
        {
            "P": parallel_failing(
                Retry=[{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 2}], End=True
            )
        }
    )
    outcome = run(sfn, definition, {})
    assert outcome.status == "FAILED"
    starts = [event["timestamp"] for event in outcome.events if event["type"] == "ParallelStateStarted"]
    assert len(starts) == 3, outcome.event_types
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
    assert 2 <= gaps[0] < 2.5 and 4 <= gaps[1] < 4.5, gaps
    assert all(isinstance(start, datetime) for start in starts)


def test_max_delay_seconds_caps_the_backoff(sfn: Any) -> None:
    """IntervalSeconds 10, BackoffRate 10: 10 s, then 100 s capped at MaxDelaySeconds 15 (recorded at full length)."""
    from tests.asl.harness import run

    retry = {"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "MaxAttempts": 2, "BackoffRate": 10, "MaxDelaySeconds": 15}
    outcome = run(sfn, machine({"P": parallel_failing(Retry=[retry], End=True)}), {})
    starts = [event["timestamp"] for event in outcome.events if event["type"] == "ParallelStateStarted"]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
    assert len(gaps) == 2 and 10 <= gaps[0] < 10.5 and 15 <= gaps[1] < 15.5, gaps

"""Workflow variables (AWS: "Passing data between states with variables"): Assign in JSONPath and
JSONata states, `$name` references, Assign and Output seeing the same pre-state values, scopes
across Map and Parallel, and the size limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.asl.harness import Case, check, jsonata, machine, pass_state

CASES = [
    Case(
        "jsonpath-assign-and-reference",
        machine(
            {
                "A": {"Type": "Pass", "Assign": {"n": 42, "from.$": "$.a", "obj": {"k.$": "$.b"}}, "Next": "B"},
                "B": pass_state(Parameters={"n.$": "$n", "from.$": "$from", "k.$": "$obj.k"}),
            }
        ),
        {"a": "A", "b": [1, 2]},
        {"n": 42, "from": "A", "k": [1, 2]},
    ),
    Case(
        "jsonpath-variable-in-an-intrinsic",
        machine(
            {
                "A": {"Type": "Pass", "Assign": {"who": "world"}, "Next": "B"},
                "B": pass_state(Parameters={"s.$": "States.Format('hello {}', $who)"}),
            }
        ),
        {},
        {"s": "hello world"},
    ),
    Case(
        "jsonata-assign-and-reference",
        jsonata(
            {
                "A": {
                    "Type": "Pass",
                    "Assign": {"total": "{% $sum($states.input.xs) %}", "names": ["{% $states.input.n %}", "b"]},
                    "Next": "B",
                },
                "B": pass_state(Output={"t": "{% $total %}", "first": "{% $names[0] %}"}),
            }
        ),
        {"xs": [1, 2, 3], "n": "a"},
        {"t": 6, "first": "a"},
    ),
    Case(
        "assign-and-output-see-the-values-before-the-state",
        jsonata(
            {
                "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
                "B": {"Type": "Pass", "Assign": {"x": 2}, "Output": {"seen": "{% $x %}"}, "Next": "C"},
                "C": pass_state(Output={"now": "{% $x %}", "before": "{% $states.input.seen %}"}),
            }
        ),
        {},
        {"now": 2, "before": 1},
    ),
    Case(
        "assignments-in-one-assign-see-the-old-values",
        jsonata(
            {
                "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
                "B": {"Type": "Pass", "Assign": {"x": 5, "y": "{% $x + 1 %}"}, "Next": "C"},
                "C": pass_state(Output={"x": "{% $x %}", "y": "{% $y %}"}),
            }
        ),
        {},
        {"x": 5, "y": 2},
    ),
    Case(
        "task-result-in-assign",
        jsonata(
            {
                "P": {
                    "Type": "Parallel",
                    "Branches": [jsonata({"X": pass_state(Output=7)})],
                    "Assign": {"r": "{% $states.result[0] %}"},
                    "Output": {},
                    "Next": "Q",
                },
                "Q": pass_state(Output="{% $r %}"),
            }
        ),
        {},
        7,
    ),
    Case(
        "map-iterations-read-outer-variables",
        jsonata(
            {
                "A": {"Type": "Pass", "Assign": {"k": 10}, "Next": "M"},
                "M": {
                    "Type": "Map",
                    "Items": [1, 2],
                    "ItemProcessor": {"StartAt": "I", "States": {"I": pass_state(Output="{% $states.input * $k %}")}},
                    "End": True,
                },
            }
        ),
        {},
        [10, 20],
    ),
    Case(
        "inner-variables-stay-inside",
        jsonata(
            {
                "M": {
                    "Type": "Map",
                    "Items": [1],
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {
                            "I": {"Type": "Pass", "Assign": {"inner": 1}, "Next": "J"},
                            "J": pass_state(Output="{% $inner %}"),
                        },
                    },
                    "Next": "After",
                },
                "After": pass_state(Output={"outside": "{% $exists($inner) %}", "results": "{% $states.input %}"}),
            }
        ),
        {},
        {"outside": False, "results": [1]},
    ),
    Case(
        "parallel-branches-read-outer-variables",
        jsonata(
            {
                "A": {"Type": "Pass", "Assign": {"g": "hi"}, "Next": "P"},
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        jsonata({"X": pass_state(Output="{% $g %}")}),
                        jsonata({"Y": pass_state(Output="{% $g & '!' %}")}),
                    ],
                    "End": True,
                },
            }
        ),
        {},
        ["hi", "hi!"],
    ),
    Case(
        "catch-assigns-from-the-error",
        jsonata(
            {
                "P": {
                    "Type": "Parallel",
                    "Branches": [jsonata({"F": {"Type": "Fail", "Error": "E1", "Cause": "because"}})],
                    "Catch": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "Assign": {"why": "{% $states.errorOutput.Cause %}"},
                            "Next": "H",
                        }
                    ],
                    "End": True,
                },
                "H": pass_state(Output="{% $why %}"),
            }
        ),
        {},
        "because",
    ),
    Case(
        "choice-rule-assign",
        machine(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Assign": {"picked": "big"}, "Next": "D"}],
                    "Default": "D",
                },
                "D": pass_state(Parameters={"p.$": "$picked"}),
            }
        ),
        {"n": 5},
        {"p": "big"},
    ),
    Case(
        "a-variable-over-256-kib-fails",
        jsonata(
            {
                "A": {
                    "Type": "Pass",
                    "Assign": {"big": "{% $join($map([1..300], function($i) { $pad('', 1000, 'x') })) %}"},
                    "End": True,
                }
            }
        ),
        {},
        error="States.DataLimitExceeded",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_variables(sfn: Any, case: Case) -> None:
    check(sfn, case)


def test_assigned_variables_are_recorded_in_the_history(sfn: Any) -> None:
    from tests.asl.harness import run

    outcome = run(sfn, jsonata({"A": pass_state(Assign={"s": 'a "quoted" word', "n": 1.5, "o": {"k": [1]}})}), {})
    exited = next(event for event in outcome.events if event["type"] == "PassStateExited")
    assigned = exited["stateExitedEventDetails"]["assignedVariables"]
    assert assigned == {"s": '"a \\"quoted\\" word"', "n": "1.5", "o": '{"k":[1]}'}

"""JSONata states, from AWS's "Transforming data with JSONata in Step Functions" and the JSONata
language reference: `$states`, Output, Arguments, Assign, Condition, Items, AWS's own functions,
and the errors a failed or undefined expression raises."""

from __future__ import annotations

from typing import Any

import pytest

from tests.asl.harness import ANY, Case, Refused, check, check_refused, jsonata, pass_state

QE = "States.QueryEvaluationError"

CASES = [
    Case("output-expression", jsonata({"P": pass_state(Output="{% $states.input.a + 1 %}")}), {"a": 1}, 2),
    Case(
        "output-template-nests-expressions",
        jsonata({"P": pass_state(Output={"sum": "{% $sum($states.input.n) %}", "lit": 3, "arr": ["{% 'x' %}", True]})}),
        {"n": [1, 2, 3.5]},
        {"sum": 6.5, "lit": 3, "arr": ["x", True]},
    ),
    Case("no-output-passes-input-on", jsonata({"P": pass_state()}), {"k": [1]}, {"k": [1]}),
    Case(
        "path-over-an-array-maps",
        jsonata({"P": pass_state(Output={"total": "{% $states.input.items.n %}"})}),
        {"items": [{"n": 3}, {"n": 9}]},
        {"total": [3, 9]},
    ),
    Case(
        "predicate-filter-and-map",
        jsonata({"P": pass_state(Output="{% $states.input.items[status = 'OPEN'].id %}")}),
        {"items": [{"id": 1, "status": "OPEN"}, {"id": 2, "status": "DONE"}, {"id": 3, "status": "OPEN"}]},
        [1, 3],
    ),
    Case(
        "higher-order-functions",
        jsonata(
            {
                "P": pass_state(
                    Output="{% $reduce($map($states.input, function($v) { $v * 2 }), function($a, $b) { $a + $b }) %}"
                )
            }
        ),
        [1, 2, 3],
        12,
    ),
    Case(
        "null-is-a-value", jsonata({"P": pass_state(Output={"v": "{% $states.input.a %}"})}), {"a": None}, {"v": None}
    ),
    Case(
        "strings-keep-their-quotes",
        jsonata({"P": pass_state(Output="{% $states.input.s & '!' %}")}),
        {"s": 'say "hi" \\ bye'},
        'say "hi" \\ bye!',
    ),
    Case(
        "context-object",
        jsonata({"Named": pass_state(Output={"state": "{% $states.context.State.Name %}"})}),
        {},
        {"state": "Named"},
    ),
    Case(
        "execution-input-in-context",
        jsonata(
            {
                "P": {"Type": "Pass", "Output": {"x": 1}, "Next": "Q"},
                "Q": pass_state(Output="{% $states.context.Execution.Input.orig %}"),
            }
        ),
        {"orig": "kept"},
        "kept",
    ),
    Case(
        "undefined-output-fails",
        jsonata({"E": pass_state(Output={"v": "{% $states.input.missing %}"})}),
        {},
        error=QE,
        cause="The JSONata expression '$states.input.missing' specified for the field 'Output/v' returned nothing (undefined).",
        events=("ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"),
    ),
    Case(
        "undefined-cause-names-the-state-and-event",
        jsonata({"E": pass_state(Output="{% $states.input.missing %}")}),
        {},
        error=QE,
        cause="An error occurred while executing the state 'E' (entered at the event id #2). The JSONata expression '$states.input.missing' specified for the field 'Output' returned nothing (undefined).",
    ),
    Case(
        "undefined-in-an-array-names-its-index",
        jsonata({"E": pass_state(Output={"a": [1, "{% $states.input.nope %}"]})}),
        {},
        error=QE,
        cause="specified for the field 'Output/a[1]' returned nothing",
    ),
    Case(
        "a-type-error-quotes-jsonata",
        jsonata({"E": pass_state(Output={"r": "{% $abs('a') %}"})}),
        {},
        error=QE,
        cause="The JSONata expression '$abs('a')' specified for the field 'Output/r' threw an error during evaluation. T0410: Argument 1 of function \"abs\" does not match function signature",
    ),
    Case(
        "sum-of-strings",
        jsonata({"E": pass_state(Output="{% $sum(['a']) %}")}),
        {},
        error=QE,
        cause='T0412: Argument 1 of function "sum" must be an array of "numbers"',
    ),
    Case(
        "eval-is-removed", jsonata({"E": pass_state(Output={"r": "{% $eval('1+1') %}"})}), {}, error=QE, cause="T1006"
    ),
    Case(
        "query-error-is-catchable",
        jsonata(
            {
                "E": {
                    "Type": "Pass",
                    "Output": "{% $states.input.missing %}",
                    "End": True,
                },
            }
        )
        | {
            "States": {
                "E": {
                    "Type": "Parallel",
                    "Branches": [jsonata({"X": pass_state(Output="{% $states.input.missing %}")})],
                    "Catch": [{"ErrorEquals": [QE], "Next": "C", "Output": "{% $states.errorOutput %}"}],
                    "End": True,
                },
                "C": pass_state(),
            }
        },
        {},
        {"Error": QE, "Cause": ANY},
    ),
    # AWS's own functions.
    Case(
        "partition",
        jsonata({"P": pass_state(Output="{% $partition([1,2,3,4,5,6,7,8,9,10], 4) %}")}),
        {},
        [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]],
    ),
    Case("range", jsonata({"P": pass_state(Output="{% $range(0, 10, 2) %}")}), {}, [0, 2, 4, 6, 8, 10]),
    Case("range-down", jsonata({"P": pass_state(Output="{% $range(5, 1, -2) %}")}), {}, [5, 3, 1]),
    Case(
        "hash",
        jsonata({"P": pass_state(Output="{% $hash('input data', 'SHA-1') %}")}),
        {},
        "aaff4a450a104cd177d28d18d74485e8cae074b7",
    ),
    Case("random-seeded-is-stable", jsonata({"P": pass_state(Output="{% $random(7) = $random(7) %}")}), {}, True),
    Case("random-in-range", jsonata({"P": pass_state(Output="{% $random() >= 0 and $random() < 1 %}")}), {}, True),
    Case(
        "uuid-v4",
        jsonata(
            {
                "P": pass_state(
                    Output="{% $match($uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) ? true : false %}"
                )
            }
        ),
        {},
        True,
    ),
    Case(
        "parse",
        jsonata({"P": pass_state(Output="{% $parse($states.input.s) %}")}),
        {"s": '{"a":[1,{"b":null}]}'},
        {"a": [1, {"b": None}]},
    ),
    Case("string-of-object", jsonata({"P": pass_state(Output="{% $string($states.input) %}")}), {"a": 1}, '{"a":1}'),
    # Choice: Condition, and Output/Assign on the rule taken.
    Case(
        "choice-condition",
        jsonata(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Output": {"size": "big"}},
                        {
                            "Condition": "{% $states.input.n > 5 %}",
                            "Next": "Mid",
                            "Assign": {"seen": "{% $states.input.n %}"},
                        },
                    ],
                    "Default": "Small",
                },
                "Big": pass_state(),
                "Mid": pass_state(Output={"seen": "{% $seen %}"}),
                "Small": pass_state(Output="small"),
            }
        ),
        {"n": 7},
        {"seen": 7},
    ),
    Case(
        "choice-default",
        jsonata(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Condition": "{% $states.input.n > 10 %}", "Next": "Big"}],
                    "Default": "Small",
                },
                "Big": pass_state(),
                "Small": pass_state(Output="small"),
            }
        ),
        {"n": 1},
        "small",
    ),
    Case(
        "choice-condition-not-boolean",
        jsonata(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Condition": "{% $states.input.n %}", "Next": "Big"}],
                    "Default": "Big",
                },
                "Big": pass_state(),
            }
        ),
        {"n": 1},
        error=QE,
    ),
    # Wait, Fail.
    Case(
        "wait-seconds-expression",
        jsonata({"W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True}}),
        {"s": 2},
        {"s": 2},
        events=("ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"),
    ),
    Case(
        "fail-error-and-cause-expressions",
        jsonata(
            {
                "F": {
                    "Type": "Fail",
                    "Error": "{% 'Custom.' & $states.input.kind %}",
                    "Cause": "{% 'bad ' & $string($states.input.n) %}",
                }
            }
        ),
        {"kind": "Oops", "n": 3},
        error="Custom.Oops",
        cause="bad 3",
    ),
    Case(
        "fail-error-undefined-names-its-field",
        jsonata({"F": {"Type": "Fail", "Error": "{% $states.input.nope %}"}}),
        {},
        error=QE,
        cause="specified for the field 'Error' returned nothing (undefined).",
    ),
    Case(
        "parallel-arguments",
        jsonata(
            {
                "P": {
                    "Type": "Parallel",
                    "Arguments": {"x": "{% $states.input.a %}"},
                    "Branches": [jsonata({"A": pass_state(Output="{% $states.input.x * 2 %}")})],
                    "End": True,
                }
            }
        ),
        {"a": 3},
        [6],
    ),
    # Map: Items, ItemSelector, $states.context.Map.
    Case(
        "map-items-expression",
        jsonata(
            {
                "M": {
                    "Type": "Map",
                    "Items": "{% $states.input.xs[$ > 1] %}",
                    "ItemSelector": {
                        "v": "{% $states.context.Map.Item.Value * 10 %}",
                        "i": "{% $states.context.Map.Item.Index %}",
                    },
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "I",
                        "States": {"I": pass_state(Output="{% $states.input.v + $states.input.i %}")},
                    },
                    "End": True,
                }
            }
        ),
        {"xs": [1, 2, 3]},
        [20, 31],
    ),
    Case(
        "map-items-not-an-array",
        jsonata(
            {
                "M": {
                    "Type": "Map",
                    "Items": "{% $states.input.x %}",
                    "ItemProcessor": {"StartAt": "I", "States": {"I": pass_state()}},
                    "End": True,
                }
            }
        ),
        {"x": {"a": 1}},
        error=QE,
    ),
    Case(
        "parallel-output",
        jsonata(
            {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        jsonata({"A": pass_state(Output=1)}),
                        jsonata({"B": pass_state(Output="{% $states.input.k %}")}),
                    ],
                    "Output": "{% $states.result[1] %}",
                    "End": True,
                }
            }
        ),
        {"k": "b"},
        "b",
    ),
    # A JSONPath state inside a JSONata machine, and the other way round.
    Case(
        "a-jsonata-state-in-a-jsonpath-machine",
        {
            "StartAt": "A",
            "States": {
                "A": {
                    "Type": "Pass",
                    "QueryLanguage": "JSONata",
                    "Output": {"x": "{% $states.input.n * 2 %}"},
                    "Next": "B",
                },
                "B": {"Type": "Pass", "Parameters": {"y.$": "$.x"}, "End": True},
            },
        },
        {"n": 4},
        {"y": 8},
    ),
]

REFUSED = [
    Refused("jsonpath-field-in-jsonata-state", jsonata({"P": pass_state(InputPath="$.a")}), "InputPath"),
    Refused(
        "a-jsonpath-state-in-a-jsonata-machine",
        jsonata({"P": {"Type": "Pass", "QueryLanguage": "JSONPath", "Next": "Q"}, "Q": pass_state()}),
        "JSONPath",
    ),
    Refused("output-in-a-jsonpath-state", {"StartAt": "P", "States": {"P": pass_state(Output={"a": 1})}}, "Output"),
    Refused(
        "condition-in-a-jsonpath-choice",
        {
            "StartAt": "C",
            "States": {"C": {"Type": "Choice", "Choices": [{"Condition": True, "Next": "P"}]}, "P": pass_state()},
        },
        "Condition",
    ),
    Refused("not-json", "{", "INVALID_JSON_DESCRIPTION"),
    Refused("parameters-in-jsonata-state", jsonata({"P": pass_state(Parameters={"a": 1})}), "Parameters"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_jsonata(sfn: Any, case: Case) -> None:
    check(sfn, case)


@pytest.mark.parametrize("case", REFUSED, ids=str)
def test_jsonata_refused(sfn: Any, case: Refused) -> None:
    check_refused(sfn, case)

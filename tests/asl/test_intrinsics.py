"""Intrinsic functions for JSONPath states, from AWS's "Intrinsic functions for JSONPath states"
(each example there is a case here), plus nesting and argument errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.asl.harness import Case, check, machine, pass_state

IF = "States.IntrinsicFailure"


def intrinsic(
    expression: str, execution_input: Any = None, output: Any = None, error: str | None = None, name: str | None = None
) -> Case:
    return Case(
        name or expression,
        machine({"P": pass_state(Parameters={"r.$": expression})}),
        execution_input if execution_input is not None else {},
        {"r": output} if error is None else None,
        error=error,
    )


CASES = [
    intrinsic("States.Format('Hello, my name is {}.', $.name)", {"name": "Arnav"}, "Hello, my name is Arnav."),
    intrinsic("States.Format('{} + {} = {}', 1, 2.5, $.b)", {"b": True}, "1 + 2.5 = true"),
    intrinsic(
        "States.Format('literal \\{braces\\} and \\'quote\\'')",
        {},
        "literal {braces} and 'quote'",
        name="format-escapes",
    ),
    intrinsic("States.Format('{}', $.n)", {"n": None}, "null", name="format-null"),
    intrinsic("States.Format('line one\nline {}', $.n)", {"n": 2}, "line one\nline 2", name="format-newline"),
    intrinsic("States.Format('{} {}', 'one')", {}, error=IF, name="format-too-few-arguments"),
    intrinsic("States.StringToJson($.s)", {"s": '{"number": 20}'}, {"number": 20}),
    intrinsic("States.JsonToString($.o)", {"o": {"name": "Foo", "n": [1, 2.5]}}, '{"name":"Foo","n":[1,2.5]}'),
    intrinsic("States.Array('Foo', 2020, $.x, null)", {"x": {"k": 1}}, ["Foo", 2020, {"k": 1}, None]),
    intrinsic("States.ArrayPartition($.a, 4)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
    intrinsic("States.ArrayPartition($.a, 0)", {"a": [1]}, error=IF, name="partition-by-zero"),
    intrinsic("States.ArrayContains($.a, $.v)", {"a": [1, 2, {"k": 3}], "v": {"k": 3}}, True),
    intrinsic("States.ArrayContains($.a, 9)", {"a": [1, 2]}, False),
    intrinsic("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
    intrinsic("States.ArrayRange(0, 10, 3)", {}, [0, 3, 6, 9]),
    intrinsic("States.ArrayRange(1, 2000, 1)", {}, error=IF, name="range-over-1000-items"),
    intrinsic("States.ArrayGetItem($.a, 1)", {"a": [1, 2, 3]}, 2),
    intrinsic("States.ArrayGetItem($.a, 5)", {"a": [1]}, error=IF, name="get-item-out-of-range"),
    intrinsic("States.ArrayLength($.a)", {"a": [1, 2, 3, 4]}, 4),
    intrinsic("States.ArrayUnique($.a)", {"a": [1, 2, 3, 3, 3, 3, 3, 3, 4]}, [1, 2, 3, 4]),
    intrinsic("States.Base64Encode($.s)", {"s": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
    intrinsic("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    intrinsic("States.Hash($.s, 'SHA-1')", {"s": "input data"}, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    intrinsic("States.Hash('abc', 'MD5')", {}, "900150983cd24fb0d6963f7d28e17f72"),
    intrinsic(
        "States.Hash('abc', 'SHA-384')",
        {},
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    ),
    intrinsic("States.Hash('abc', 'CRC32')", {}, error=IF, name="hash-unknown-algorithm"),
    intrinsic(
        "States.JsonMerge($.a, $.b, false)",
        {"a": {"a": 1, "inner": {"x": 1}}, "b": {"b": 2, "inner": {"y": 2}}},
        {"a": 1, "b": 2, "inner": {"y": 2}},
    ),
    intrinsic("States.MathAdd(111, -1)", {}, 110),
    intrinsic("States.MathAdd($.v, $.step)", {"v": 1111, "step": -1}, 1110),
    intrinsic("States.StringSplit('1,2,3,4,5', ',')", {}, ["1", "2", "3", "4", "5"]),
    intrinsic("States.StringSplit('This.is+a,test=string', '.+,=')", {}, ["This", "is", "a", "test", "string"]),
    intrinsic(
        "States.Format('{}-{}', States.ArrayGetItem(States.StringSplit($.arn, ':'), 3), States.ArrayLength(States.Array(1, 2)))",
        {"arn": "arn:aws:states:us-east-1:123:stateMachine:x"},
        "us-east-1-2",
        name="nested-intrinsics",
    ),
    Case(
        "math-random-in-range",
        machine(
            {
                "P": {"Type": "Pass", "Parameters": {"r.$": "States.MathRandom(1, 999)"}, "Next": "C"},
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "And": [
                                {"Variable": "$.r", "NumericGreaterThanEquals": 1},
                                {"Variable": "$.r", "NumericLessThan": 999},
                                {"Variable": "$.r", "IsNumeric": True},
                            ],
                            "Next": "Ok",
                        }
                    ],
                    "Default": "Bad",
                },
                "Ok": pass_state(Result="ok"),
                "Bad": {"Type": "Fail", "Error": "OutOfRange"},
            }
        ),
        {},
        "ok",
    ),
    Case(
        "uuid-is-v4",
        machine(
            {
                "P": {"Type": "Pass", "Parameters": {"u.$": "States.UUID()"}, "Next": "C"},
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.u", "StringMatches": "*-4*-*-*", "Next": "Ok"}],
                    "Default": "Bad",
                },
                "Ok": pass_state(Result="ok"),
                "Bad": {"Type": "Fail", "Error": "NotV4"},
            }
        ),
        {},
        "ok",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_intrinsic(sfn: Any, case: Case) -> None:
    check(sfn, case)

"""Intrinsic functions (JSONPath states) as AWS's "Intrinsic functions" page defines them.

moto's versions differ in ways a green local run would hide:
- a float literal argument (`States.Format('{}', 2.5)`) is a parse error (the parser reads a
  token the float rule does not have), and a `null` argument is silently dropped;
- States.Format runs Python's `str.format`, so `\\{` escapes fail, a stray brace raises
  KeyError and a missing argument IndexError;
- any error inside a function (ArrayGetItem out of range, ArrayRange over 1,000 items, an
  unknown Hash algorithm, ArrayPartition by 0) fails the execution as States.Runtime with a
  Python exception text, where AWS raises States.IntrinsicFailure, which a Catch can handle.
"""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringIntrinsicFunction
from moto.stepfunctions.parser.asl.component.intrinsic.argument.argument import Argument, ArgumentList, ArgumentLiteral
from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic.string_format import (
    StringFormat,
)
from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import Preprocessor as IntrinsicPreprocessor

from mediaflow.moto_patches.failures import state_failure


class IntrinsicArgumentError(ValueError):
    pass


def format_template(template: str, values: list[Any]) -> str:
    """`{}` takes the next argument; `\\{`, `\\}`, `\\'` and `\\\\` are the characters themselves."""
    result: list[str] = []
    remaining = list(values)
    index = 0
    while index < len(template):
        char = template[index]
        if char == "\\" and index + 1 < len(template):
            result.append(template[index + 1])
            index += 2
            continue
        if template.startswith("{}", index):
            if not remaining:
                raise IntrinsicArgumentError(
                    f"States.Format's template has more {{}} than the {len(values)} argument(s) given"
                )
            result.append(StringFormat._to_str_repr(remaining.pop(0)))
            index += 2
            continue
        if char in "{}":
            raise IntrinsicArgumentError(f"States.Format's template has an unescaped '{char}' at position {index}")
        result.append(char)
        index += 1
    if remaining:
        raise IntrinsicArgumentError(
            f"States.Format was given {len(remaining)} argument(s) more than its template uses"
        )
    return "".join(result)


original_format_body = StringFormat._eval_body


def _format_body(self: Any, env: Any) -> None:
    self.argument_list.eval(env=env)
    arguments = env.stack.pop()
    if not isinstance(arguments[0], str):
        raise IntrinsicArgumentError("States.Format's first argument must be a string")
    env.stack.append(format_template(arguments[0], arguments[1:]))


def _visit_float(self: Any, ctx: Any) -> ArgumentLiteral:
    return ArgumentLiteral(definition_value=float(ctx.NUMBER().getText()))


def _visit_arg_list(self: Any, ctx: Any) -> ArgumentList:
    """Every argument, `null` included (moto's grammar has no null rule: it parsed to nothing)."""
    arguments = []
    for child in ctx.children:
        component = self.visit(child)
        if isinstance(component, Argument):
            arguments.append(component)
        elif child.getText() == "null":
            arguments.append(ArgumentLiteral(definition_value=None))
    return ArgumentList(arguments=arguments)


def _intrinsic_failure(env: Any, function: str, error: Exception) -> FailureEventException:
    cause = f"Invalid arguments in {function.split('(')[0]}: {error}"
    return state_failure(env, StatesErrorNameType.StatesIntrinsicFailure, cause, HistoryEventType.TaskFailed)


def _intrinsic_body(self: Any, env: Any) -> None:
    try:
        self.function.eval(env=env)
    except FailureEventException:
        raise
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, json.JSONDecodeError) as error:
        raise _intrinsic_failure(env, self.intrinsic_function_derivation, error) from error


def apply() -> None:
    IntrinsicPreprocessor.visitFunc_arg_float = _visit_float
    IntrinsicPreprocessor.visitFunc_arg_list = _visit_arg_list
    StringFormat._eval_body = _format_body
    StringIntrinsicFunction._eval_body = _intrinsic_body

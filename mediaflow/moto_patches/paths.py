"""Reference paths and Choice as the ASL specification defines them.

- A *definite* path (no wildcard, filter, slice, union or `..`) names one value and gives that
  value; an indefinite one gives a list, empty when nothing matches. moto returned a list for any
  path that went through an array index: `$.a[0].b` gave `[1]` where AWS gives `1`.
- A Choice state with no matching rule and no Default fails with States.NoChoiceMatched; moto
  raised a RuntimeError (States.Runtime).
- A Choice rule whose Variable names nothing fails with States.Runtime ("Invalid path …"),
  except IsPresent, which exists to ask; moto took the rule as false and went to the Default.
- StringMatches: `*` is the only wildcard, and `\\*` / `\\\\` are a literal star and backslash;
  moto used fnmatch, where `?` and `[…]` are wildcards too and a backslash escapes nothing.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import (
    ComparisonOperatorType,
)
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import ComparisonVariable
from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators import (
    StringMatches,
)
from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import NoSuchVariable
from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
from moto.stepfunctions.parser.asl.utils import json_path

from mediaflow.moto_patches.failures import state_failure

original_extract_json = json_path.extract_json

_QUOTED = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")
_INDEFINITE = re.compile(r"\*|\.\.|\[\s*\?|\[[^\]]*[:,][^\]]*\]")


@cache
def is_definite(path: str) -> bool:
    return _INDEFINITE.search(_QUOTED.sub("''", path)) is None


def extract_json(path: str, data: Any) -> Any:
    matches = json_path.parse(path).find(data)
    if is_definite(path):
        if not matches:
            raise json_path.NoSuchJsonPathError(json_path=path, data=data)
        return matches[0].value
    return [match.value for match in matches]


def _choice_eval_state(self: Any, env: Any) -> None:
    for rule in self.choices_decl.rules:
        rule.eval(env)
        if env.stack.pop() is True:
            env.stack.append(rule.next_stmt.name)
            return
    if self.default_state is None:
        raise state_failure(
            env,
            StatesErrorNameType.StatesNoChoiceMatched,
            f"No Choice Rule matched in state '{self.name}' and it has no Default.",
        )
    env.stack.append(self.default_state.state_name)


def string_matches(value: Any, pattern: str) -> bool:
    return isinstance(value, str) and _matcher(pattern).fullmatch(value) is not None


@cache
def _matcher(pattern: str) -> re.Pattern[str]:
    """A StringMatches pattern as a regular expression, compiled once per pattern."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            parts.append(".*")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _comparison_variable_body(self: Any, env: Any) -> None:
    self.variable.eval(env)
    value = env.stack[-1]
    function = self.comparison_function
    if isinstance(value, NoSuchVariable) and function.operator_type != ComparisonOperatorType.IsPresent:
        path = self.variable.string_sampler.literal_value
        raise state_failure(
            env,
            StatesErrorNameType.StatesRuntime,
            f"Invalid path '{path}': The choice state's condition path references an invalid value.",
        )
    function.eval(env)


def apply() -> None:
    # Modules that imported extract_json by name hold their own reference: replace each.
    import moto.stepfunctions.parser.asl.component.intrinsic.argument.argument
    import moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.boolean_equals
    import moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.numeric
    import moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators
    import moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators
    import moto.stepfunctions.parser.asl.eval.states  # noqa: F401

    json_path.extract_json = extract_json
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if (
            name.startswith("moto.stepfunctions.parser")
            and getattr(module, "extract_json", None) is original_extract_json
        ):
            module.extract_json = extract_json
    StateChoice._eval_state = _choice_eval_state
    ComparisonVariable._eval_body = _comparison_variable_body
    StringMatches._compare = staticmethod(string_matches)

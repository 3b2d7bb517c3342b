"""Workflow variables as AWS defines them (AWS: "Passing data between states with variables").

- A state's Assign and Output are evaluated side by side: Output sees the variables as they were
  when the state was entered, not the values its own Assign just set. moto assigned first, so an
  Output reading `$x` in the state that assigns `x` saw the new value.
- One variable holds at most 256 KiB, and one Assign at most 256 KiB in all (serialised as JSON,
  UTF-8); a larger assignment fails the state with States.DataLimitExceeded. moto had no limit.
"""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

from mediaflow.moto_patches.failures import state_failure

VARIABLE_LIMIT_BYTES = 256 * 1024
ASSIGN_LIMIT_BYTES = 256 * 1024
_BEFORE_ASSIGN = "_mediaflow_before_assign"


def visible_variables(store: Any, field: str | None) -> dict[str, Any]:
    """The variables an expression in `field` sees: an Output (state, Choice rule or Catch) sees
    those from before the same state's Assign."""
    before = getattr(store, _BEFORE_ASSIGN, None)
    if before is not None and field is not None and field.startswith("Output"):
        return before
    return _all_variables(store)


def _all_variables(store: Any) -> dict[str, Any]:
    return {**store._outer_scope, **store._inner_scope}


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _data_limit_exceeded(env: Any, cause: str) -> FailureEventException:
    return state_failure(env, StatesErrorNameType.StatesStatesDataLimitExceeded, cause)


def _assign_body(self: Any, env: Any) -> None:
    declarations: dict[str, Any] = {}
    for binding in self.declaration_bindings:
        binding.eval(env=env)
        declarations.update(env.stack.pop())
    total = 0
    for name, value in declarations.items():
        size = _size(value)
        total += size
        if size > VARIABLE_LIMIT_BYTES:
            raise _data_limit_exceeded(
                env,
                f"The variable '{name}' has a size of {size} bytes, over the limit of {VARIABLE_LIMIT_BYTES} bytes.",
            )
    if total > ASSIGN_LIMIT_BYTES:
        raise _data_limit_exceeded(
            env, f"The Assign field's variables have a size of {total} bytes, over the limit of {ASSIGN_LIMIT_BYTES}."
        )
    store = env.variable_store
    if getattr(store, _BEFORE_ASSIGN, None) is None:
        setattr(store, _BEFORE_ASSIGN, _all_variables(store))
    for name, value in declarations.items():
        store.set(variable_identifier=name, variable_value=value)


original_entered_details = CommonStateField._get_state_entered_event_details


def _entered_details(self: Any, env: Any) -> Any:
    """A new state: forget the previous state's before-Assign view."""
    setattr(env.variable_store, _BEFORE_ASSIGN, None)
    return original_entered_details(self, env)


def apply() -> None:
    AssignDecl._eval_body = _assign_body
    CommonStateField._get_state_entered_event_details = _entered_details

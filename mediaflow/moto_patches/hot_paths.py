"""Work moto repeats on every request that gives the same answer each time (performance only).

- `BaseResponse._enrich_response` runs a look-behind regular expression over every response
  body to put a request id inside `<RequestId>…</RequestId>`: it scans the whole body, a 50 KB
  history page or listing as much as a 200-byte answer, and finds nothing in every JSON answer.
  The substitution now runs only on a body that holds the tag: the same bodies come out.
- `UpdateExpressionParser.make` tokenises and parses an UpdateExpression into its AST twice per
  UpdateItem (once to find the placeholders it uses, once to apply it), and the state
  machine's RecordSuccess/RecordFailure send the same few expressions for every job. Parsed
  once per distinct expression: the AST is only read (moto's validator works on a deep copy
  of it), so one AST can serve every call.
- moto's UpdateExpressionValidator walks the whole AST with ten processors per UpdateItem; two
  of them (at most one SET/ADD/REMOVE clause each; no two actions on overlapping paths) read only
  the expression's shape and its attribute names, and are half the validator's time for
  RecordSuccess's expression (0.9 of 1.9 ms). They now run once per parsed expression and
  names that passed them; an expression they refuse is refused every time, as before, and the
  processors that read the values and the item run on every call.
- The Step Functions interpreter deep-copies the state data at every read and write of it (the
  input at each path, each Parameters value, each ResultPath, each Parallel branch: ~14,600
  `copy.deepcopy` calls per image job, the engine's largest single cost in a yappi profile).
  The data is JSON: a marshal round trip copies it in C, ~5x faster (17 against 89 µs for a
  job's 2 KB state), with the same result: marshal takes only the exact built-in types (dict,
  list, str, int, float, bool, None, tuple…) and keeps shared references as deepcopy does;
  anything else (a datetime, a subclass, a memo argument) is refused and goes to
  `copy.deepcopy` as before.
- `BaseResponse.call_action` (every DynamoDB, SNS, Step Functions and Logs request, the
  interpreter's own DynamoDB and SNS Tasks included) lists every function of the response
  class with `inspect.getmembers` (some 250 attributes, sorted) to ask whether the one action
  asked for is among them. The question is now asked of that one name: the same answer.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import marshal
import re
import threading
import weakref
from functools import lru_cache
from typing import Any

from moto.core import responses as core_responses
from moto.core.responses import BaseResponse
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    OverlappingPathsValidator,
    UpdateExpressionValidator,
)
from moto.utilities.aws_headers import gen_amzn_requestid_long

original_enrich_response = BaseResponse._enrich_response
original_make_update_expression = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
original_validator_init = UpdateExpressionValidator.__init__
original_validate = UpdateExpressionValidator.validate

_REQUEST_ID = re.compile(r"(?<=<RequestId>).*(?=<\/RequestId>)")


def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """moto's `_enrich_response`, with its regular expression run only where it can match."""
    if "status" in headers:
        headers["status"] = str(headers["status"])
    request_id = gen_amzn_requestid_long(headers)
    if isinstance(body, str) and "<RequestId>" in body:
        body = _REQUEST_ID.sub(request_id, body)
    return headers, body


@lru_cache(maxsize=512)  # the state machine's expressions, and what a client sends
def _parsed_update_expression(expression: str) -> Any:
    return original_make_update_expression(UpdateExpressionParser, expression)


def _make_update_expression(cls: type, expression: str) -> Any:
    return _parsed_update_expression(expression)


# The validator's processors that read only the expression's AST and its attribute names.
SHAPE_CHECKS = (ActionCountValidator, OverlappingPathsValidator)
# parsed expression (the shared AST) -> the attribute names it passed the shape checks with
_passed_shape_checks: weakref.WeakKeyDictionary[Any, set[tuple[tuple[str, str], ...]]] = weakref.WeakKeyDictionary()
_shape_lock = threading.Lock()


def _validator_init(self: Any, expression: Any, expression_attribute_names: Any, *args: Any, **kwargs: Any) -> None:
    original_validator_init(self, expression, expression_attribute_names, *args, **kwargs)
    names = tuple(sorted((expression_attribute_names or {}).items()))
    with _shape_lock:
        passed = names in _passed_shape_checks.get(expression, ())
    if passed:
        self.processors = [p for p in self.processors if not isinstance(p, SHAPE_CHECKS)]
    else:
        self._shape_to_remember = (expression, names)


def _validate(self: Any) -> Any:
    node = original_validate(self)  # raises for an expression the checks refuse: not remembered
    remember = getattr(self, "_shape_to_remember", None)
    if remember is not None:
        with _shape_lock:
            _passed_shape_checks.setdefault(remember[0], set()).add(remember[1])
    return node


class FunctionNames:
    """What `call_action` asks of `method_names_from_class(cls)`: is `name` one of its functions
    (as `inspect.getmembers(cls, inspect.isfunction)` would list it), answered for that name."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self.cls, name, None))


original_method_names_from_class = core_responses.method_names_from_class


class MarshalCopy:
    """What the interpreter's data modules see as their `copy` module."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if memo is None:
            try:
                return marshal.loads(marshal.dumps(value))
            except ValueError:  # not plain data: copied as moto copies it
                pass
        return copy.deepcopy(value, memo)


_ASL = "moto.stepfunctions.parser.asl."
# The modules whose deep copies are of state data (inputs, outputs, parameters, stacks of values).
STATE_DATA_MODULES = tuple(
    _ASL + name
    for name in (
        "eval.states",
        "component.common.string.string_expression",
        "component.common.path.result_path",
        "component.state.exec.execute_state",
        "component.state.exec.state_parallel.state_parallel",
        "component.state.exec.state_map.state_map",
        "component.state.exec.state_task.service.state_task_service",
        "component.intrinsic.function.statesfunction.json_manipulation.json_merge",
    )
)


def copy_state_data_with(copier: Any) -> None:
    for name in STATE_DATA_MODULES:
        importlib.import_module(name).copy = copier


def apply() -> None:
    BaseResponse._enrich_response = staticmethod(_enrich_response)  # type: ignore[method-assign]
    UpdateExpressionParser.make = classmethod(_make_update_expression)  # type: ignore[method-assign]
    UpdateExpressionValidator.__init__ = _validator_init  # type: ignore[method-assign]
    UpdateExpressionValidator.validate = _validate  # type: ignore[method-assign]
    copy_state_data_with(MarshalCopy)
    core_responses.method_names_from_class = FunctionNames  # type: ignore[assignment]

"""JSONata for the engine, evaluated by jsonata-python (a port of the dashjoin jsonata-java
implementation LocalStack runs in a JVM).

moto 5.2.5 ships LocalStack's JSONata wiring with the evaluator left out: `eval_jsonata_expression`
calls None, so every `QueryLanguage: JSONata` state fails with a TypeError. moto's wiring also
passes `$states` and the workflow variables by pasting them into the expression as source text
(`($x:="value"; …)`), which breaks on a string holding a double quote and re-parses the whole
expression, values included, on every evaluation. Here each expression is compiled once and
`$states`, the variables and AWS's own functions are passed as bindings.

AWS's JSONata differs from jsonata-js in a few documented ways: it adds `$partition`, `$range`,
`$hash`, `$random([seed])`, `$uuid` and `$parse`, and removes `$eval`. A failed or undefined
expression fails the state with States.QueryEvaluationError naming the expression and the field
it was written in.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import uuid
from typing import Any

import jsonata as jsonata_python
from jsonata.jexception import JException
from jsonata.utils import Utils as JsonataUtils
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_binding import AssignTemplateBinding
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_array import (
    AssignTemplateValueArray,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_binding import JSONataTemplateBinding
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_value_array import (
    JSONataTemplateValueArray,
)
from moto.stepfunctions.parser.asl.component.common.outputdecl import Output
from moto.stepfunctions.parser.asl.component.common.parargs import (
    ArgumentsJSONataTemplateValueObject,
    ArgumentsStringJSONata,
)
from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import HeartbeatSecondsJSONata
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSecondsJSONata
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison import ConditionStringJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.items.items import ItemsJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import MaxConcurrencyJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
    ToleratedFailureCountStringJSONata,
    ToleratedFailurePercentageStringJSONata,
)
from moto.stepfunctions.parser.asl.component.state.fail.cause_decl import Cause
from moto.stepfunctions.parser.asl.component.state.fail.error_decl import Error
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import SecondsJSONata
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.eval import variable_store
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.jsonata import jsonata as jsonata_module

from mediaflow.moto_patches.variables import visible_variables

_compiled = threading.local()
_HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


class JsonataFunctionError(Exception):
    """An AWS-added function called wrongly; reported like jsonata's own coded errors."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")


def _partition(array: Any, size: Any) -> list[list[Any]]:
    if not isinstance(array, list) or isinstance(size, bool) or not isinstance(size, int | float) or size <= 0:
        raise JsonataFunctionError("T0410", 'Argument of function "partition" does not match function signature')
    size = int(size)
    return [list(array[start : start + size]) for start in range(0, len(array), size)]


def _range(first: Any, last: Any, step: Any) -> list[Any]:
    for value in (first, last, step):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise JsonataFunctionError("T0410", 'Argument of function "range" does not match function signature')
    if step == 0:
        raise JsonataFunctionError("D3141", 'The step argument of function "range" must not be 0')
    values: list[Any] = []
    value = first
    while (step > 0 and value <= last) or (step < 0 and value >= last):
        values.append(value)
        value += step
    return values


def _hash(data: Any, algorithm: Any) -> str:
    if not isinstance(data, str) or algorithm not in _HASH_ALGORITHMS:
        raise JsonataFunctionError(
            "T0410", f'Argument of function "hash" does not match function signature: algorithm {algorithm!r}'
        )
    return hashlib.new(_HASH_ALGORITHMS[algorithm], data.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    return random.Random(seed).random() if seed is not None else random.random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise JsonataFunctionError("T0410", 'Argument 1 of function "parse" does not match function signature')
    try:
        return json.loads(text)
    except ValueError as error:
        raise JsonataFunctionError("D3140", f"Malformed JSON: {error}") from error


AWS_FUNCTIONS: dict[str, Any] = {
    "partition": jsonata_python.Jsonata.JLambda(_partition),
    "range": jsonata_python.Jsonata.JLambda(_range),
    "hash": jsonata_python.Jsonata.JLambda(_hash),
    "random": jsonata_python.Jsonata.JLambda(_random),
    "uuid": jsonata_python.Jsonata.JLambda(_uuid),
    "parse": jsonata_python.Jsonata.JLambda(_parse),
    "eval": None,  # AWS removes $eval: calling it is "T1006: Attempted to invoke a non-function"
}


def _compile(expression: str) -> jsonata_python.Jsonata:
    """A compiled expression per thread: jsonata-python keeps per-evaluation state on the object."""
    cache: dict[str, jsonata_python.Jsonata] | None = getattr(_compiled, "cache", None)
    if cache is None:
        cache = _compiled.cache = {}
    compiled = cache.get(expression)
    if compiled is None:
        compiled = jsonata_python.Jsonata(expression)
        compiled.set_output_convert_nulls(False)  # keep JSON null apart from undefined
        compiled.set_validate_input(False)
        if len(cache) > 4096:
            cache.clear()
        cache[expression] = compiled
    return compiled


def _bound(value: Any) -> Any:
    # A binding of None would read as undefined; a variable or $states field set to null is null.
    return JsonataUtils.NULL_VALUE if value is None else value


def _plain(value: Any) -> Any:
    """jsonata-python's sequences and null marker as the plain JSON values the engine passes on."""
    if value is JsonataUtils.NULL_VALUE:
        return None
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


_AWS_WORDING = [
    (re.compile(r"of Object (\w+)"), r'of function "\1"'),
    (re.compile(r"match Object signature"), "match function signature"),
    (re.compile(r"must be an array of n\b"), 'must be an array of "numbers"'),
]


def _error_tail(error: Exception) -> str:
    """jsonata-js's `CODE: message`, which AWS quotes (dashjoin's catalog writes "Object" for "function")."""
    if isinstance(error, JException):
        message = str(error)
        for pattern, replacement in _AWS_WORDING:
            message = pattern.sub(replacement, message)
        return f"{error.error}: {message}" if error.error else message
    return str(error)


def _bindings(env: Any, field: str | None, with_states: bool) -> dict[str, Any]:
    """The variables an expression in `field` sees, and `$states` where the query language has it."""
    bindings = {name: _bound(value) for name, value in visible_variables(env.variable_store, field).items()}
    if with_states:
        bindings["states"] = env.states._states_data
    return bindings


def evaluate(expression: str, env: Any, field: str | None) -> Any:
    """The value of `expression`; undefined (and any error) fails the state as AWS does."""
    bindings = {**AWS_FUNCTIONS, **_bindings(env, field, with_states=True)}
    try:
        compiled = _compile(expression)
        result = compiled.evaluate(None, bindings)
    except (JException, JsonataFunctionError, ArithmeticError, RecursionError, TypeError, ValueError) as error:
        _fail(env, expression, field, f"threw an error during evaluation. {_error_tail(error)}")
    if result is None:
        _fail(env, expression, field, "returned nothing (undefined).")
    return _plain(result)


def _fail(env: Any, expression: str, field: str | None, what: str) -> None:
    where = f" specified for the field '{field}'" if field else ""
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EvaluationFailedEventDetails(
        error=error_name.error_name, cause=f"The JSONata expression '{expression}'{where} {what}"
    )
    failure_event = FailureEvent(
        env=env,
        error_name=error_name,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=details),
    )
    exception = FailureEventException(failure_event=failure_event)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=exception.get_evaluation_failed_event_details()),
    )
    raise exception


# -- Which field an expression sits in (AWS names it in the error: 'Output/v', 'Assign/x') -----

_field = threading.local()


def _field_stack() -> list[str]:
    stack: list[str] | None = getattr(_field, "stack", None)
    if stack is None:
        stack = _field.stack = []
    return stack


def current_field() -> str | None:
    stack = _field_stack()
    return "".join(stack).lstrip("/") or None


def _within(segment_of: Any, body: Any) -> Any:
    """`body` (an `_eval_body`) run with `segment_of(component)` pushed on the field path."""

    def eval_body(self: Any, env: Any) -> None:
        stack = _field_stack()
        stack.append(segment_of(self))
        try:
            body(self, env)
        finally:
            stack.pop()

    return eval_body


def _array_within(self: Any, env: Any) -> None:
    """An array of templates, each element evaluated under its `[i]`."""
    stack = _field_stack()
    values = []
    for index, value in enumerate(self.values):
        stack.append(f"[{index}]")
        try:
            value.eval(env)
        finally:
            stack.pop()
        values.append(env.stack.pop())
    env.stack.append(values)


# -- The patches -----------------------------------------------------------------------------


original_string_jsonata_body = string_expression.StringJSONata._eval_body


def _string_jsonata_body(self: Any, env: Any) -> None:
    env.stack.append(evaluate(self.expression, env, current_field()))


def _variable_sample_body(self: Any, env: Any) -> None:
    """`"x.$": "$name.path"` (JSONPath states) and `$name` in JSONata: variables, no failure on undefined."""
    bindings = _bindings(env, current_field(), with_states=self.query_language_mode == QueryLanguageMode.JSONata)
    env.stack.append(_plain(_compile(self.expression).evaluate(None, bindings)))


def _condition_body(self: Any, env: Any) -> None:
    """A Choice rule's Condition must be a boolean; anything else fails the state as a query error
    (moto raised a RuntimeError, which surfaced as States.Runtime)."""
    result = evaluate(self.string_jsonata.expression, env, current_field())
    if not isinstance(result, bool):
        _fail(
            env,
            self.string_jsonata.expression,
            current_field(),
            f"returned {_jsonata_type(result)}, but a Condition must be a boolean.",
        )
    env.stack.append(result)


def _jsonata_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return "an array" if isinstance(value, list) else "an object"


def _evaluate_source(expression: str) -> Any:
    """moto's own entry point, for any caller still composing source text."""
    return _plain(_compile(expression).evaluate(None, dict(AWS_FUNCTIONS)))


def _json_literal(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _encode_declarations(bindings: dict[str, Any]) -> str:
    return "".join(f"{name}:={_json_literal(value)};" for name, value in bindings.items())


def _assigned_variables(self: Any) -> dict[str, str]:
    """History's `assignedVariables`: each value as JSON text (moto wrote strings unescaped)."""
    return {name: _json_literal(self.get(name)) for name in self._declaration_tracing}


def _top_level(name: str) -> Any:
    return lambda _component: f"/{name}"


def apply() -> None:
    jsonata_module._eval_jsonata = _evaluate_source
    jsonata_module.encode_jsonata_variable_declarations = _encode_declarations
    variable_store.encode_jsonata_variable_declarations = _encode_declarations
    variable_store.VariableStore.get_assigned_variables = _assigned_variables
    string_expression.StringJSONata._eval_body = _string_jsonata_body
    string_expression.StringVariableSample._eval_body = _variable_sample_body

    for component, body in (
        (JSONataTemplateBinding, JSONataTemplateBinding._eval_body),
        (AssignTemplateBinding, AssignTemplateBinding._eval_body),
    ):
        component._eval_body = _within(lambda binding: f"/{binding.identifier}", body)
    JSONataTemplateValueArray._eval_body = _array_within
    AssignTemplateValueArray._eval_body = _array_within
    ConditionStringJSONata._eval_body = _condition_body  # before the loop below wraps it with its field
    for component, name in (
        (Output, "Output"),
        (ArgumentsJSONataTemplateValueObject, "Arguments"),
        (ArgumentsStringJSONata, "Arguments"),
        (AssignDecl, "Assign"),
        (ConditionStringJSONata, "Condition"),
        (ItemsJSONata, "Items"),
        (MaxConcurrencyJSONata, "MaxConcurrency"),
        (HeartbeatSecondsJSONata, "HeartbeatSeconds"),
        (TimeoutSecondsJSONata, "TimeoutSeconds"),
        (SecondsJSONata, "Seconds"),
        (Timestamp, "Timestamp"),
        (Error, "Error"),
        (Cause, "Cause"),
        (ToleratedFailureCountStringJSONata, "ToleratedFailureCount"),
        (ToleratedFailurePercentageStringJSONata, "ToleratedFailurePercentage"),
    ):
        component._eval_body = _within(_top_level(name), component._eval_body)

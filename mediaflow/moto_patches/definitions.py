"""CreateStateMachine's checks, as AWS makes them, and the engine's parser made safe to share.

- moto answers a bad definition with an error whose code is empty (boto3 sees `ClientError ()`),
  and its message is a Python repr. AWS answers `InvalidDefinition: Invalid State Machine
  Definition: '…'`.
- moto accepts JSONPath fields in a JSONata state (and the reverse) and ignores them; AWS refuses
  the definition.
- Anything the local runtime cannot run as AWS would is refused here, by name, rather than run
  silently wrong (`unsupported_features`; docs/local-runtime.md lists them).
- moto's parser keeps its QueryLanguage scope stack in a class attribute shared by every parse:
  one definition rejected half-way leaves its scopes behind, and every later parse (MediaFlow's
  own state machine included) inherits them; parses on two threads interleave on the same list.
- `"ErrorEquals": ["States.QueryEvaluationError"]` is a parse error in moto (its grammar lacks the
  name), so a Catch of that error fails the execution with States.Runtime instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.api import InvalidDefinition as ParserInvalidDefinition
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import is_production, is_terminal
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringIntrinsicFunction
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory import (
    _UNSUPPORTED_SERVICE_NAMES,
)
from moto.stepfunctions.parser.asl.parse import preprocessor as preprocessor_module
from moto.stepfunctions.parser.asl.parse.intrinsic.intrinsic_parser import IntrinsicParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

JSONATA = "JSONata"
JSONPATH = "JSONPath"

# Fields of one query language that the other does not accept (AWS's "Transforming data with
# JSONata": the JSONPath fields are replaced by Arguments, Output and expressions in place).
JSONPATH_ONLY_FIELDS = (
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultPath",
    "ResultSelector",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "Iterator",
)
JSONATA_ONLY_FIELDS = ("Output", "Arguments")


class InvalidDefinition(JsonRESTError):
    def __init__(self, reason: str) -> None:
        super().__init__("InvalidDefinition", f"Invalid State Machine Definition: '{reason}'")


def walk_states(definition: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(path, name, state, query language) for every state of the definition, nested ones too."""
    for path, machine, language in _machines(definition, "", definition.get("QueryLanguage", JSONPATH)):
        for name, state in _named_states(machine):
            yield f"{path}/States/{name}", name, state, state.get("QueryLanguage", language)


def _choices(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for rule in state.get("Choices") or [] if isinstance(rule, dict)]


def query_language_errors(definition: dict[str, Any]) -> list[str]:
    errors = []
    for path, _name, state, state_language in walk_states(definition):
        if state_language == JSONATA:
            wrong = [field for field in JSONPATH_ONLY_FIELDS if field in state]
            wrong += [f"Choices[{i}]/Variable" for i, rule in enumerate(_choices(state)) if "Variable" in rule]
        else:
            wrong = [field for field in JSONATA_ONLY_FIELDS if field in state]
            wrong += [f"Choices[{i}]/Condition" for i, rule in enumerate(_choices(state)) if "Condition" in rule]
        errors += [
            f"SCHEMA_VALIDATION_FAILED: The field '{field.split('/')[-1]}' is not supported "
            f"for the {state_language} query language at {path}/{field}"
            for field in wrong
        ]
    return errors


def _transitions(state: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "Next", state.get("Next")
    yield "Default", state.get("Default")
    for index, rule in enumerate(_choices(state)):
        yield f"Choices[{index}]/Next", rule.get("Next")
    for index, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict):
            yield f"Catch[{index}]/Next", catcher.get("Next")


def _named_states(machine: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, state) for name, state in (machine.get("States") or {}).items() if isinstance(state, dict)]


def _machines(machine: dict[str, Any], path: str, language: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    """The definition and every nested state machine (Parallel branches, Map processors), each
    with the query language its states inherit (the enclosing state's)."""
    yield path, machine, language
    for name, state in _named_states(machine):
        inherited = state.get("QueryLanguage", language)
        for index, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                yield from _machines(branch, f"{path}/States/{name}/Branches[{index}]", inherited)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _machines(state[key], f"{path}/States/{name}/{key}", inherited)


def transition_errors(definition: dict[str, Any]) -> list[str]:
    """Every Next, Default and StartAt must name a state of the same machine."""
    errors = []
    for path, machine, _language in _machines(definition, "", JSONPATH):
        names = set(machine.get("States") or {})
        if machine.get("StartAt") not in names:
            errors.append(
                f"MISSING_TRANSITION_TARGET: Missing 'StartAt' target: {machine.get('StartAt')} at {path}/StartAt"
            )
        for name, state in _named_states(machine):
            for field, target in _transitions(state):
                if target is not None and target not in names:
                    errors.append(
                        f"MISSING_TRANSITION_TARGET: Missing '{field.split('/')[-1]}' target: {target} "
                        f"at {path}/States/{name}/{field}"
                    )
    return errors


# (field, lowest, highest) for the numbers AWS's schema bounds; None: unbounded on that side.
_BOUNDS = (
    ("ToleratedFailurePercentage", 0, 100),
    ("ToleratedFailureCount", 0, None),
    ("MaxConcurrency", 0, None),
    ("TimeoutSeconds", 1, 99_999_999),
    ("HeartbeatSeconds", 1, 99_999_999),
    ("Seconds", 0, 99_999_999),
)


def bound_errors(definition: dict[str, Any]) -> list[str]:
    errors = []
    for path, _name, state, _language in walk_states(definition):
        fields = [(field, state.get(field), low, high) for field, low, high in _BOUNDS]
        batcher = state.get("ItemBatcher")
        if isinstance(batcher, dict):
            fields += [
                ("ItemBatcher/MaxItemsPerBatch", batcher.get("MaxItemsPerBatch"), 1, None),
                ("ItemBatcher/MaxInputBytesPerBatch", batcher.get("MaxInputBytesPerBatch"), 1, 262_144),
            ]
        for field, value, low, high in fields:
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            if value < low or (high is not None and value > high):
                allowed = f"at least {low}" if high is None else f"between {low} and {high}"
                errors.append(f"SCHEMA_VALIDATION_FAILED: {field} must be {allowed}, got {value} at {path}/{field}")
    return errors


def unsupported_features(definition: dict[str, Any]) -> list[str]:
    """What the local runtime refuses to run, each named; empty when it runs everything."""
    refusals = []
    for path, _name, state, _language in walk_states(definition):
        for feature, present in UNSUPPORTED.items():
            if present(state):
                refusals.append(
                    f"UNSUPPORTED_FEATURE: {feature} at {path} is not supported by the MediaFlow local runtime"
                )
    return refusals


def _written_batch_input(state: dict[str, Any]) -> dict[str, Any]:
    """ItemBatcher's BatchInput, when it is an object (only its `.$` fields are computed)."""
    batcher = state.get("ItemBatcher")
    batch_input = batcher.get("BatchInput") if isinstance(batcher, dict) else None
    return batch_input if isinstance(batch_input, dict) else {}


def _map_mode(state: dict[str, Any]) -> str:
    processor = state.get("ItemProcessor") or {}
    return str((processor.get("ProcessorConfig") or {}).get("Mode", "INLINE"))


# Service integrations the engine cannot run as AWS does: the ones moto itself lists as unsupported
# (it passes them to a generic SDK call with a log warning), and the HTTP Task (no implementation).
_UNRUN_SERVICES = _UNSUPPORTED_SERVICE_NAMES | {"http"}


def _integration(state: dict[str, Any]) -> str | None:
    """`lambda`, `dynamodb`, `aws-sdk`… for `arn:aws:states:::<service>:<action>` Task resources."""
    resource = state.get("Resource")
    if state.get("Type") != "Task" or not isinstance(resource, str) or not resource.startswith("arn:aws:states:::"):
        return None
    return resource.removeprefix("arn:aws:states:::").split(":")[0]


def _reader_config(state: dict[str, Any]) -> dict[str, Any]:
    reader = state.get("ItemReader")
    config = reader.get("ReaderConfig") if isinstance(reader, dict) else None
    return config if isinstance(config, dict) else {}


# feature name -> does this state use it
UNSUPPORTED: dict[str, Any] = {
    "A Task on a service integration the local runtime does not run (athena, bedrock, codebuild, eks, EMR, "
    "databrew, mediaconvert, sagemaker, HTTP)": lambda state: _integration(state) in _UNRUN_SERVICES,
    "ItemReader InputType other than CSV or JSON (MANIFEST, JSONL, PARQUET)": lambda state: (
        _reader_config(state).get("InputType", "JSON") not in ("CSV", "JSON")
    ),
    "ItemReader CSVDelimiter other than COMMA": lambda state: (
        _reader_config(state).get("CSVDelimiter", "COMMA") != "COMMA"
    ),
    "ItemBatcher together with ItemSelector": lambda state: "ItemBatcher" in state and "ItemSelector" in state,
    "ItemBatcher in an INLINE Map": lambda state: "ItemBatcher" in state and _map_mode(state) != "DISTRIBUTED",
    "ItemBatcher BatchInput with a context-object path, a variable or an intrinsic function": lambda state: any(
        key.endswith(".$") and not (value == "$" or str(value).startswith("$."))
        for key, value in _written_batch_input(state).items()
    ),
}


original_validate_definition = parser_models.StepFunctionsParserBackend._validate_definition


def _validate_definition(definition: str) -> None:
    try:
        parsed = json.loads(definition)
    except ValueError as error:
        raise InvalidDefinition(f"INVALID_JSON_DESCRIPTION: {error}") from error
    if not isinstance(parsed, dict):
        raise InvalidDefinition("SCHEMA_VALIDATION_FAILED: the definition must be a JSON object")
    errors = (
        query_language_errors(parsed) + transition_errors(parsed) + bound_errors(parsed) + unsupported_features(parsed)
    )
    if errors:
        raise InvalidDefinition("\n".join(errors))
    try:
        original_validate_definition(definition)
    except ParserInvalidDefinition as error:
        raise InvalidDefinition(str(error.message).split(" in definition '")[0]) from error


# -- The parser ---------------------------------------------------------------------------------

original_preprocessor_init = Preprocessor.__init__
original_visit_error_name = Preprocessor.visitError_name
_STATES_ERROR_NAMES = {error_type.to_name(): error_type for error_type in StatesErrorNameType}


def _preprocessor_init(self: Any, *args: Any, **kwargs: Any) -> None:
    original_preprocessor_init(self, *args, **kwargs)
    self._query_language_per_scope = []  # this parse's own, not the class's


def _visit_error_name(self: Any, ctx: Any) -> Any:
    name = ctx.getText().strip('"')
    if name in _STATES_ERROR_NAMES:
        return StatesErrorName(_STATES_ERROR_NAMES[name])
    if name.startswith("States."):
        raise ValueError(f"SCHEMA_VALIDATION_FAILED: '{name}' is not a States error name")
    return original_visit_error_name(self, ctx)


def _custom_error_name_init(self: Any, error_name: str | None) -> None:
    """A States.* name reported at run time (a branch or iteration failing with
    States.QueryEvaluationError, a Fail state's Error, a Lambda's errorType) is carried on as it is;
    moto raised a ValueError there, turning every such failure into States.Runtime."""
    ErrorName.__init__(self, error_name=error_name)


original_visit_variable_rule = Preprocessor.visitChoice_rule_comparison_variable


def _visit_variable_rule(self: Any, ctx: Any) -> Any:
    """moto builds a JSONPath Choice rule (`"Variable": …`) with its Assign dropped."""
    rule = original_visit_variable_rule(self, ctx)
    if rule.assign is None:
        for child in ctx.children:
            statement = is_production(child, ASLParser.RULE_comparison_variable_stmt)
            assign = statement is not None and is_production(statement.children[0], ASLParser.RULE_assign_decl)
            if assign:
                rule.assign = self.visit(assign)
    return rule


def _json_string(text: str | None) -> str | None:
    """A JSON string token's value: its escapes decoded as JSON decodes them."""
    if text is None or len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text[1:-1]


def _inner_string_of(parser_rule_context: Any) -> str | None:
    """moto stripped the quotes and kept the escapes: `"Assign": {"s": "a \\"q\\""}` stored
    `a \\"q\\"`, and a state or error name with an escape never matched its own name."""
    if is_terminal(parser_rule_context, ASLLexer.NULL):
        return None
    return _json_string(parser_rule_context.getText())


def _from_string_literal(parser_rule_context: Any) -> str | None:
    """moto decoded escapes as Python literals (`\\/` stayed, a bad escape kept everything)."""
    return _json_string(parser_rule_context.getText())


def _visit_intrinsic_function(self: Any, ctx: Any) -> StringIntrinsicFunction:
    """The intrinsic call as the JSON string says it (moto parsed the raw JSON text, so the
    documented `\\{`, `\\}` and `\\'` escapes reached the intrinsic parser doubled)."""
    derivation = _json_string(ctx.STRINGINTRINSICFUNC().getText())
    # The intrinsic grammar takes no raw line breaks inside a string: written as escapes again.
    derivation = derivation.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    function, _ = IntrinsicParser.parse(derivation)
    return StringIntrinsicFunction(intrinsic_function_derivation=derivation, function=function)


def apply() -> None:
    parser_models.StepFunctionsParserBackend._validate_definition = staticmethod(_validate_definition)
    Preprocessor.__init__ = _preprocessor_init
    Preprocessor.visitError_name = _visit_error_name
    Preprocessor._inner_string_of = staticmethod(_inner_string_of)
    Preprocessor.visitString_intrinsic_function = _visit_intrinsic_function
    preprocessor_module.from_string_literal = _from_string_literal
    Preprocessor.visitChoice_rule_comparison_variable = _visit_variable_rule
    CustomErrorName.__init__ = _custom_error_name_init

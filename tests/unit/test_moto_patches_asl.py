"""The Step Functions language patches (mediaflow/moto_patches/*.py): for each, the bug with
moto 5.2.5 as shipped, then the fix. tests/asl/ covers each feature in depth."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic.string_format import (
    StringFormat,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import distributed_iteration_component
from moto.stepfunctions.parser.asl.jsonata import jsonata as jsonata_module
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

from mediaflow import moto_patches
from mediaflow.moto_patches import api, definitions, intrinsics, jsonata, limits, maps, paths
from mediaflow.template import ACCOUNT_ID, REGION

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/test"


@pytest.fixture
def sfn() -> Iterator[Any]:
    previous = moto_patches.apply_all(None)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name=REGION)
    moto_patches.deliver_email_to(previous)


def _run(sfn: Any, definition: dict[str, Any], execution_input: Any = None) -> dict[str, Any]:
    arn = sfn.create_state_machine(name=f"p{uuid.uuid4().hex[:10]}", definition=json.dumps(definition), roleArn=ROLE)
    execution = sfn.start_execution(stateMachineArn=arn["stateMachineArn"], input=json.dumps(execution_input or {}))
    for _ in range(500):
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.01)
    raise TimeoutError(execution["executionArn"])


JSONATA_PASS = {
    "QueryLanguage": "JSONata",
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "End": True}},
}


def test_jsonata_is_evaluated(sfn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(string_expression.StringJSONata, "_eval_body", jsonata.original_string_jsonata_body)
    monkeypatch.setattr(jsonata_module, "_eval_jsonata", None)  # moto's own evaluator, as shipped
    broken = _run(sfn, JSONATA_PASS, {"a": 1})
    assert broken["status"] == "FAILED" and "'NoneType' object is not callable" in broken["cause"]  # the bug
    monkeypatch.undo()
    assert _run(sfn, JSONATA_PASS, {"a": 1})["output"] == "2"


def test_a_rejected_definition_leaves_nothing_behind_in_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    downgrade = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
    }
    ok = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"a.$": "$.x"}, "End": True}}}
    monkeypatch.setattr(Preprocessor, "__init__", definitions.original_preprocessor_init)
    Preprocessor._query_language_per_scope.clear()
    with pytest.raises(ValueError):
        AmazonStateLanguageParser.parse(json.dumps(downgrade))
    assert Preprocessor._query_language_per_scope  # the bug: the class-wide scope stack keeps JSONata
    with pytest.raises(ValueError, match="Unsupported declaration"):
        AmazonStateLanguageParser.parse(json.dumps(ok))  # …so a valid JSONPath definition is refused
    Preprocessor._query_language_per_scope.clear()
    monkeypatch.undo()
    with pytest.raises(ValueError):
        AmazonStateLanguageParser.parse(json.dumps(downgrade))
    AmazonStateLanguageParser.parse(json.dumps(ok))
    assert Preprocessor._query_language_per_scope == []


def test_a_definite_path_gives_the_value() -> None:
    data = {"a": [{"b": 1}, {"b": 2}]}
    assert paths.original_extract_json("$.a[0].b", data) == [1]  # the bug
    assert paths.extract_json("$.a[0].b", data) == 1
    assert paths.extract_json("$.a[*].b", data) == [1, 2]


def test_states_format_escapes(sfn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"r.$": "States.Format('\\{x\\} {}', $.v)"}, "End": True}},
    }
    monkeypatch.setattr(StringFormat, "_eval_body", intrinsics.original_format_body)
    assert _run(sfn, definition, {"v": 1})["status"] == "FAILED"  # the bug: str.format trips on the braces
    monkeypatch.undo()
    assert json.loads(_run(sfn, definition, {"v": 1})["output"]) == {"r": "{x} 1"}


DISTRIBUTED_WITH_A_FAILURE = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "C",
                "States": {
                    "C": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}],
                        "Default": "P",
                    },
                    "P": {"Type": "Pass", "End": True},
                    "F": {"Type": "Fail", "Error": "Two"},
                },
            },
            "End": True,
        }
    },
}


def test_a_distributed_map_enforces_its_failure_threshold(sfn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        distributed_iteration_component.DistributedIterationComponent, "_map_run", maps.original_map_run
    )
    broken = _run(sfn, DISTRIBUTED_WITH_A_FAILURE, [1, 2, 3])
    assert broken["status"] == "SUCCEEDED" and json.loads(broken["output"]) == [1, None, 3]  # the bug
    monkeypatch.undo()
    fixed = _run(sfn, DISTRIBUTED_WITH_A_FAILURE, [1, 2, 3])
    assert fixed["status"] == "FAILED" and fixed["error"] == "States.ExceedToleratedFailureThreshold"


def test_states_all_does_not_catch_states_runtime(sfn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "X", "States": {"X": {"Type": "Pass", "Parameters": {"v.$": "$.missing"}, "End": True}}}
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    monkeypatch.setattr(ErrorEqualsDecl, "_eval_body", limits.original_error_equals)
    assert _run(sfn, definition)["status"] == "SUCCEEDED"  # the bug: the Catch swallowed States.Runtime
    monkeypatch.undo()
    fixed = _run(sfn, definition)
    assert fixed["status"] == "FAILED" and fixed["error"] == "States.Runtime"


def test_executions_started_without_a_name_are_named_apart(sfn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = sfn.create_state_machine(
        name="unnamed",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    monkeypatch.setattr(sfn_responses.StepFunctionResponse, "start_execution", api.original_start_execution)
    assert sfn.start_execution(stateMachineArn=arn)["executionArn"].endswith(":None")  # the bug
    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        sfn.start_execution(stateMachineArn=arn, input='{"other": 1}')
    monkeypatch.undo()
    first, second = (sfn.start_execution(stateMachineArn=arn)["executionArn"] for _ in range(2))
    assert first != second and not first.endswith(":None")

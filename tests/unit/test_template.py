"""The local runtime reads template.yaml as CloudFormation would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mediaflow.deploy import function_spec, substitute_definition
from mediaflow.parameters import ParameterError, parse_overrides
from mediaflow.template import bind_template
from tests.conftest import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"


def test_globals_merge_into_each_function() -> None:
    template = bind_template(TEMPLATE, "demo")
    (transform,) = [
        r for r in template.resources_of_type("AWS::Serverless::Function") if r.logical_id == "TransformImageFunction"
    ]
    spec = function_spec(template, transform, {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    assert spec.timeout_seconds == 120 and spec.memory_mb == 1536  # function values win over Globals
    assert spec.environment["MEDIA_BUCKET"] == "demo-mediabucket-local"  # from Globals, !Ref resolved
    assert spec.environment["RENDITION_WIDTHS"] == "320,640,1280"  # from the function, parameter default
    assert spec.environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert spec.layer_dirs == ((REPO_ROOT / "lambdas" / "shared").resolve(),)
    assert spec.code_dir == (REPO_ROOT / "lambdas" / "transform_image").resolve()


def test_parameter_overrides_flow_into_function_environment() -> None:
    template = bind_template(TEMPLATE, "demo", {"RenditionWidths": "100,200", "WebpMethod": "4"})
    (transform,) = [
        r for r in template.resources_of_type("AWS::Serverless::Function") if r.logical_id == "TransformImageFunction"
    ]
    spec = function_spec(template, transform, {})
    assert spec.environment["RENDITION_WIDTHS"] == "100,200"
    assert spec.environment["WEBP_METHOD"] == "4"


def test_unknown_parameter_override_is_an_error() -> None:
    with pytest.raises(
        ParameterError, match=r"unknown parameter NoSuchParameter; the template declares: .*UploadPrefix"
    ):
        bind_template(TEMPLATE, "demo", {"NoSuchParameter": "1"})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"RenditionWidths": "abc"}, r"RenditionWidths='abc' must match \^\[0-9\]\+"),
        ({"JpegQuality": "96"}, "JpegQuality=96 is above the maximum 95"),
        ({"JpegQuality": "high"}, "JpegQuality='high' must be a number"),
        ({"WebpMethod": "-1"}, "WebpMethod=-1 is below the minimum 0"),
        (
            {"DetectionBackend": "yolo"},
            "DetectionBackend='yolo' is not one of the allowed values: nanodet, centerface, onnx",
        ),
        ({"UploadPrefix": "uploads"}, "UploadPrefix='uploads' must match"),
    ],
)
def test_overrides_are_checked_against_their_declarations(override: dict[str, str], message: str) -> None:
    """The bug: RenditionWidths=abc started the stack and the job failed as CorruptMedia."""
    with pytest.raises(ParameterError, match=message):
        bind_template(TEMPLATE, "demo", override)


def test_sam_parameter_override_forms_are_accepted() -> None:
    assert parse_overrides(["ParameterKey=JpegQuality,ParameterValue=70", "WebpMethod=4"]) == {
        "JpegQuality": "70",
        "WebpMethod": "4",
    }
    assert parse_overrides(["RenditionWidths=200,400 ImageFilters=grayscale"]) == {
        "RenditionWidths": "200,400",
        "ImageFilters": "grayscale",
    }
    with pytest.raises(ParameterError, match="expected Name=Value"):
        parse_overrides(["JpegQuality"])


def test_sub_and_getatt_resolve_to_local_arns() -> None:
    template = bind_template(TEMPLATE, "demo")
    (machine,) = template.resources_of_type("AWS::Serverless::StateMachine")
    substitutions = machine.properties["DefinitionSubstitutions"]
    assert substitutions["ValidateFunctionArn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:demo-validatefunction-local"
    )
    assert substitutions["NotificationTopicArn"] == "arn:aws:sns:us-east-1:123456789012:demo-notificationtopic-local"
    assert substitutions["ConsoleExecutionUrlPrefix"].startswith("https://us-east-1.console.aws.amazon.com/")
    pattern = machine.properties["Events"]["UploadCreated"]["Properties"]["Pattern"]
    assert pattern["detail"]["bucket"]["name"] == ["demo-mediabucket-local"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/"}]


def test_every_definition_substitution_is_defined_and_used() -> None:
    template = bind_template(TEMPLATE, "demo")
    for machine in template.resources_of_type("AWS::Serverless::StateMachine"):
        definition = (REPO_ROOT / machine.properties["DefinitionUri"]).read_text()
        used = set(re.findall(r"\$\{(\w+)\}", definition))
        defined = set(machine.properties["DefinitionSubstitutions"])
        assert used == defined
        resolved = json.loads(substitute_definition(definition, machine.properties["DefinitionSubstitutions"]))
        assert "${" not in json.dumps(resolved)


def test_upload_and_output_prefixes_cannot_overlap() -> None:
    template = bind_template(TEMPLATE, "demo")
    uploads, outputs = template.parameters["UploadPrefix"], template.parameters["OutputPrefix"]
    assert not outputs.startswith(uploads) and not uploads.startswith(outputs)


def test_template_path_is_relative_to_its_folder(tmp_path: Path) -> None:
    copy = tmp_path / "template.yaml"
    copy.write_text(TEMPLATE.read_text())
    assert bind_template(copy).root == tmp_path

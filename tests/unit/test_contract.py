"""The job contract has one owner: the package mediaflow_shared.contract.

These tests fail when a key prefix, a status or a setting's default is spelt anywhere else,
or when the state machine writes a job record attribute or status the contract does not name.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from mediaflow.template import load_template
from mediaflow_shared.contract.failures import failure_message
from mediaflow_shared.contract.job import job_from_event, job_id_for, job_step
from mediaflow_shared.contract.layout import Layout
from mediaflow_shared.contract.record import (
    FINISHED_EXECUTION_STATUSES,
    RECORD_TYPE,
    JobRecord,
    JobStatus,
    record_from_item,
)
from mediaflow_shared.contract.settings import Settings
from tests.conftest import REPO_ROOT

CONTRACT = set((REPO_ROOT / "lambdas/shared/mediaflow_shared/contract").glob("*.py"))
ASL = REPO_ROOT / "statemachines" / "media_pipeline.asl.json"
TEMPLATE = REPO_ROOT / "template.yaml"

# What the contract owns: the template's prefixes and every status a job or execution can have.
PREFIXES = {"uploads/", "outputs/", "work/"}
STATUSES = {status.value for status in JobStatus} | set(FINISHED_EXECUTION_STATUSES)


def _python_sources() -> list[Path]:
    roots = ("lambdas", "mediaflow", "bench")
    return [path for root in roots for path in (REPO_ROOT / root).rglob("*.py") if path not in CONTRACT]


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string constant in the code (docstrings and comments are prose, not literals)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_key_prefix_or_status_is_spelt_outside_the_contract() -> None:
    offenders = []
    for path in _python_sources():
        for line, value in _string_literals(path):
            if value.startswith("/"):
                continue  # an API route or URL path: the layout's keys never start with "/"
            spelt_prefix = any(re.search(rf"(^|[^A-Za-z0-9_-]){re.escape(p)}", value) for p in PREFIXES)
            if spelt_prefix or value in STATUSES:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{line}: {value!r}")
    assert offenders == []


def test_the_literal_check_can_fail(tmp_path: Path) -> None:
    """The scan above would see a prefix or status written in a handler."""
    sample = tmp_path / "handler.py"
    sample.write_text('"""Docs may say outputs/."""\nKEY = f"outputs/{job}"\nDONE = "SUCCEEDED"\n')
    literals = [value for _, value in _string_literals(sample)]
    assert "outputs/" in literals and "SUCCEEDED" in literals and "Docs may say outputs/." not in literals


def _asl_states(states: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found |= _asl_states(branch["States"])
        if "ItemProcessor" in state:
            found |= _asl_states(state["ItemProcessor"]["States"])
    return found


def test_the_state_machine_writes_only_the_contracts_record_attributes_and_statuses() -> None:
    states = _asl_states(json.loads(ASL.read_text())["States"])
    attributes: set[str] = set()
    written_strings: set[str] = set()
    for state in states.values():
        parameters = state.get("Parameters", {})
        if not state.get("Resource", "").startswith("arn:aws:states:::dynamodb:"):
            continue
        attributes |= set(parameters.get("Item", {}))
        names = parameters.get("ExpressionAttributeNames", {})
        for assignment in re.findall(r"([#\w]+) = :", parameters.get("UpdateExpression", "")):
            attributes.add(names.get(assignment, assignment))
        values = [*parameters.get("Item", {}).values(), *parameters.get("ExpressionAttributeValues", {}).values()]
        written_strings |= {value["S"] for value in values if "S" in value}
    assert attributes, "the ASL writes the job record"
    assert attributes <= set(get_type_hints(JobRecord)), attributes - set(get_type_hints(JobRecord))
    assert written_strings <= {s.value for s in JobStatus} | {RECORD_TYPE}, written_strings


def test_every_setting_default_equals_its_template_parameter_default() -> None:
    parameters = load_template(TEMPLATE)["Parameters"]
    defaults = Settings()
    checked = 0
    for setting in fields(Settings):
        parameter = setting.metadata["parameter"]
        if parameter is None:
            continue
        raw = str(parameters[parameter]["Default"])
        assert Settings.from_environment({setting.metadata["env"]: raw}) == defaults, parameter
        checked += 1
    assert checked >= 20


def test_every_environment_variable_the_template_sets_is_a_setting() -> None:
    template = load_template(TEMPLATE)
    known = {setting.metadata["env"] for setting in fields(Settings)}
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    variables = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in functions:
        variables |= set(function["Properties"].get("Environment", {}).get("Variables", {}))
    unknown = {name for name in variables - known if not name.startswith(("POWERTOOLS_", "LOG_LEVEL"))}
    assert unknown == set()


def test_settings_refuse_a_value_of_the_wrong_type() -> None:
    with pytest.raises(RuntimeError, match="MAX_IMAGE_BYTES='lots' is not a valid int"):
        Settings.from_environment({"MAX_IMAGE_BYTES": "lots"})


def test_the_layout_puts_a_jobs_files_under_its_own_prefixes() -> None:
    layout = Layout("in/", "out/", "tmp/")
    assert layout.job_prefixes("j1") == ("out/j1/", "tmp/j1/")
    owned = [
        layout.rendition("j1", 320, "webp"),
        layout.annotated_frame("j1", ["cat", "dog"], 7),
        layout.contact_sheet("j1"),
        layout.results("j1"),
        layout.frame("j1", 12),
        layout.segment_plan("j1"),
        layout.segment_manifest("j1", 2),
        layout.scene_frame("j1", 1),
        layout.image_detections("j1"),
        layout.batch_detections("j1", 3),
    ]
    assert all(key.startswith(layout.job_prefixes("j1")) for key in owned)
    assert owned[1] == "out/j1/annotated/cat_dog-000007.jpg" and owned[9] == "tmp/j1/detections/batch-00003.json"
    assert layout.upload_key("abc", "my photo.jpg") == "in/abc/my photo.jpg"


def _event(key: str, etag: str = "e1", version: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": key, "etag": etag, "size": 3, "sequencer": "1"}
    if version:
        obj["version-id"] = version
    return {"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "b"}, "object": obj}}


def test_the_job_decodes_the_events_key_once() -> None:
    job = job_from_event(_event("uploads/vacances+d%27%C3%A9t%C3%A9+%2B+amis+%231.jpg"), "arn:x", "t0")
    assert job["key"] == "uploads/vacances d'été + amis #1.jpg"
    assert job["jobId"] == job_id_for("b", "uploads/vacances d'été + amis #1.jpg", "e1")
    assert "versionId" not in job
    assert job_from_event(_event("uploads/a.jpg", version="v7"), "arn:x", "t0")["versionId"] == "v7"


def test_a_step_returns_the_document_with_its_part_added() -> None:
    @job_step("media")
    def handler(document: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"kind": "image"}

    document = {"job": {"jobId": "j"}, "failure": {"message": "m", "kind": "unknown"}}
    assert handler(document, None) == {**document, "media": {"kind": "image"}}


def test_a_record_reads_back_its_json_attributes() -> None:
    item = {"jobId": "j", "status": "SUCCEEDED", "media": '{"kind": "image"}', "results": '{"renditions": []}'}
    record = record_from_item(item)
    assert record["media"] == {"kind": "image"} and record["results"] == {"renditions": []}


def test_failure_message_prefers_the_lambda_errors_own_message() -> None:
    cause = json.dumps({"errorType": "CorruptMedia", "errorMessage": "x.jpg is truncated", "stackTrace": []})
    assert failure_message({"Error": "CorruptMedia", "Cause": cause}) == "x.jpg is truncated"
    assert failure_message({"Error": "States.Timeout", "Cause": "took too long"}) == "took too long"
    assert failure_message({"Error": "States.Timeout"}) == "States.Timeout"

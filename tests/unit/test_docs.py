"""The docs describe the template that exists."""

from __future__ import annotations

import re

from mediaflow.template import load_template
from tests.conftest import REPO_ROOT


def test_architecture_diagram_names_every_template_resource() -> None:
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    diagram = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert diagram is not None
    resources = load_template(REPO_ROOT / "template.yaml")["Resources"]
    missing = [logical_id for logical_id in resources if not re.search(rf"\b{logical_id}\b", diagram.group(1))]
    assert missing == []


def test_every_template_parameter_is_documented() -> None:
    text = (REPO_ROOT / "docs" / "deploying.md").read_text()
    parameters = load_template(REPO_ROOT / "template.yaml")["Parameters"]
    assert [name for name in parameters if f"`{name}`" not in text] == []


def test_readme_starts_with_the_two_commands() -> None:
    lines = (REPO_ROOT / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in lines[:8] if line.startswith("make ")]
    assert commands == ["make run", "make test"]
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in ci

"""Every state machine definition passes asl-validator, and the gate goes red on a broken one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.gates.tools import ASL_VALIDATOR, run_tool

DEFINITIONS = sorted((REPO_ROOT / "statemachines").glob("*.asl.json"))


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda p: p.name)
def test_definition_is_valid_asl(definition: Path) -> None:
    result = run_tool(ASL_VALIDATOR, "--json-path", str(definition))
    assert result.returncode == 0, result.output


def test_gate_catches_a_next_to_a_missing_state(tmp_path: Path) -> None:
    definition = json.loads(DEFINITIONS[0].read_text())
    definition["States"]["Validate"]["Next"] = "NoSuchState"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(definition))
    result = run_tool(ASL_VALIDATOR, "--json-path", str(broken))
    assert result.returncode != 0
    assert "NoSuchState" in result.output

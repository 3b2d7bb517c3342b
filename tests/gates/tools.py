"""Locations of the gate tools scripts/setup.sh installs, and a runner that keeps their output."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
CHECKOV = REPO_ROOT / ".tools" / "checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


@dataclass
class ToolResult:
    returncode: int
    output: str


def run_tool(tool: Path, *args: str) -> ToolResult:
    assert tool.exists(), f"{tool} is missing: run scripts/setup.sh"
    completed = subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    return ToolResult(completed.returncode, completed.stdout + completed.stderr)

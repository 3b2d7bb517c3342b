"""Where a redriven execution runs again from: read from its history, as AWS's RedriveExecution does.

Used by crash recovery (mediaflow/recovery.py: an execution RUNNING when the process died) and
by the emulator's RedriveExecution (mediaflow/moto_patches/: a FAILED, ABORTED or TIMED_OUT
one). Pure: a definition and a history in, a state name and its input out.
"""

from __future__ import annotations

import json
from typing import Any

_SUCCESS = ("Succeeded",)
_FAILURE = ("Failed", "TimedOut", "Aborted")


def _outcome_next(state: dict[str, Any], outcome: dict[str, Any] | None) -> str | None:
    """Where a top-level state that exited went next: its Catch's Next if it failed, else Next."""
    if outcome is not None and outcome["type"].endswith(_FAILURE):
        details = next((v for k, v in outcome.items() if k.endswith("EventDetails")), {})
        error = details.get("error", "States.ALL")
        for catcher in state.get("Catch", []):
            if error in catcher["ErrorEquals"] or "States.ALL" in catcher["ErrorEquals"]:
                return catcher["Next"]
    return state.get("Next")


_NESTING_STARTS = ("MapStateStarted", "ParallelStateStarted")
_NESTING_ENDS = tuple(f"{kind}State{end}" for kind in ("Map", "Parallel") for end in ("Succeeded", "Failed", "Aborted"))


def redrive_point(definition: dict[str, Any], events: list[dict[str, Any]], execution_input: Any) -> tuple[str, Any]:
    """The top-level state to run again, and its input, from an interrupted execution's history:
    the state in progress (with the input it entered with), or the one after the last that
    finished (with that one's output; its Catch's Next if it failed)."""
    states = definition["States"]
    point: tuple[str, Any] = (definition["StartAt"], execution_input)
    current: str | None = None  # the top-level state in progress
    outcome: dict[str, Any] | None = None  # its own last result event
    depth = 0  # > 0 inside a Map's or a Parallel's iterations: those events are the nested states'
    for event in events:
        kind = event["type"]
        if kind in _NESTING_STARTS:
            depth += 1
        elif kind in _NESTING_ENDS:
            depth = max(0, depth - 1)
            outcome = event if depth == 0 else outcome
        elif depth > 0:
            continue
        elif kind.endswith("StateEntered") and event["stateEnteredEventDetails"]["name"] in states:
            details = event["stateEnteredEventDetails"]
            current, outcome = details["name"], None
            point = (current, json.loads(details.get("input") or "null"))
        elif kind.endswith("StateExited") and event["stateExitedEventDetails"]["name"] == current:
            state = states[current]
            output = json.loads(event["stateExitedEventDetails"].get("output") or "null")
            following = None if state["Type"] in ("Choice", "Succeed", "Fail") else _outcome_next(state, outcome)
            point = (following, output) if following else (current, output)
            current = None
        elif current is not None and kind.endswith(_SUCCESS + _FAILURE):
            outcome = event
    return point

"""Where an interrupted execution is redriven from, read from its history (mediaflow/recovery.py)."""

from __future__ import annotations

import json
from typing import Any

from mediaflow.redrive import redrive_point

DEFINITION = {
    "StartAt": "Record",
    "States": {
        "Record": {"Type": "Task", "Next": "Route", "Catch": [{"ErrorEquals": ["Duplicate"], "Next": "Stop"}]},
        "Route": {"Type": "Choice", "Choices": [], "Default": "Fan"},
        "Fan": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Record", "States": {"Record": {"Type": "Task", "End": True}}},
            "Next": "Notify",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Discard"}],
        },
        "Notify": {"Type": "Task", "Next": "Done"},
        "Discard": {"Type": "Task", "End": True},
        "Stop": {"Type": "Succeed"},
        "Done": {"Type": "Succeed"},
    },
}


def _entered(name: str, data: Any, kind: str = "TaskStateEntered") -> dict[str, Any]:
    return {"type": kind, "stateEnteredEventDetails": {"name": name, "input": json.dumps(data)}}


def _exited(name: str, data: Any, kind: str = "TaskStateExited") -> dict[str, Any]:
    return {"type": kind, "stateExitedEventDetails": {"name": name, "output": json.dumps(data)}}


def _event(kind: str, **details: Any) -> dict[str, Any]:
    return {"type": kind, **({"taskFailedEventDetails": details} if details else {})}


def test_nothing_recorded_starts_at_the_start_with_the_execution_input() -> None:
    assert redrive_point(DEFINITION, [_event("ExecutionStarted")], {"event": 1}) == ("Record", {"event": 1})


def test_a_state_in_progress_runs_again_with_the_input_it_entered_with() -> None:
    events = [_event("ExecutionStarted"), _entered("Record", {"a": 1}), _event("TaskScheduled")]
    assert redrive_point(DEFINITION, events, {}) == ("Record", {"a": 1})


def test_after_a_finished_state_its_next_runs_with_its_output() -> None:
    events = [_entered("Record", {"a": 1}), _event("TaskSucceeded"), _exited("Record", {"a": 2})]
    assert redrive_point(DEFINITION, events, {}) == ("Route", {"a": 2})


def test_a_caught_failure_goes_to_the_catchers_next() -> None:
    events = [
        _entered("Record", {"a": 1}),
        _event("TaskFailed", error="Duplicate"),
        _exited("Record", {"a": 1, "error": {}}),
    ]
    assert redrive_point(DEFINITION, events, {}) == ("Stop", {"a": 1, "error": {}})


def test_a_retried_failure_that_then_succeeded_goes_to_next() -> None:
    events = [
        _entered("Record", {"a": 1}),
        _event("TaskFailed", error="Throttled"),
        _event("TaskSucceeded"),
        _exited("Record", {"a": 3}),
    ]
    assert redrive_point(DEFINITION, events, {}) == ("Route", {"a": 3})


def test_a_choice_is_evaluated_again() -> None:
    events = [
        _entered("Route", {"k": "image"}, "ChoiceStateEntered"),
        _exited("Route", {"k": "image"}, "ChoiceStateExited"),
    ]
    assert redrive_point(DEFINITION, events, {}) == ("Route", {"k": "image"})


def test_states_inside_a_map_are_not_mistaken_for_the_top_level_ones() -> None:
    """The Map's iterations run a state named like a top-level one: the Map itself is redriven."""
    events = [
        _entered("Fan", {"items": [1, 2]}, "MapStateEntered"),
        _event("MapStateStarted"),
        _event("MapIterationStarted"),
        _entered("Record", {"item": 1}),
        _exited("Record", {"item": 1}),
        _event("MapIterationSucceeded"),
        _event("MapIterationStarted"),
        _entered("Record", {"item": 2}),
    ]
    assert redrive_point(DEFINITION, events, {}) == ("Fan", {"items": [1, 2]})


def test_a_failed_map_goes_to_its_catcher() -> None:
    events = [
        _entered("Fan", {"items": [1]}, "MapStateEntered"),
        _event("MapStateStarted"),
        _event("MapIterationStarted"),
        _event("MapIterationFailed"),
        {"type": "MapStateFailed"},
        _exited("Fan", {"error": "x"}, "MapStateExited"),
    ]
    assert redrive_point(DEFINITION, events, {}) == ("Discard", {"error": "x"})

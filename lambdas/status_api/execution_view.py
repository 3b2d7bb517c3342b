"""Turn a Step Functions execution history and definition into what the status page draws."""

from __future__ import annotations

from typing import Any

MAX_IO_CHARS = 20_000  # a state's input or output shown on the page; the history holds all of it
MAX_CAUSE_CHARS = 1_000
MAX_EVENTS = 2_000


def _clip(text: str | None, limit: int) -> tuple[str | None, bool]:
    if text is None or len(text) <= limit:
        return text, False
    return text[:limit], True


def event_table(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The console's event table: id, type, previous id and time of each history event."""
    return [
        {
            "id": event["id"],
            "previousEventId": event.get("previousEventId"),
            "type": event["type"],
            "timestamp": event["timestamp"].isoformat()
            if hasattr(event["timestamp"], "isoformat")
            else event["timestamp"],
        }
        for event in events[:MAX_EVENTS]
    ]


def state_timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every state entered, in order, with its times, status and (if any) error.

    A state is `failed` when a failure event happened while it was open (even if a Catch then
    moved on), `succeeded` when it exited cleanly, `running` otherwise. Parallel branches and
    Map iterations interleave, so failures are matched through previousEventId links."""
    by_id = {event["id"]: event for event in events}
    states: list[dict[str, Any]] = []
    open_by_event: dict[int, dict[str, Any]] = {}

    def owning_state(event: dict[str, Any]) -> dict[str, Any] | None:
        current = event
        while current is not None:
            if current["id"] in open_by_event:
                return open_by_event[current["id"]]
            current = by_id.get(current.get("previousEventId"))
        return None

    for event in events:
        kind = event["type"]
        if kind in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
            # States still open when the execution ends (a Fail state emits no exit) end with it.
            for entry in states:
                if entry["status"] == "running":
                    entry["status"] = "succeeded" if kind == "ExecutionSucceeded" else "failed"
                    entry["exitedAt"] = event["timestamp"]
            continue
        if "stateEnteredEventDetails" in event:
            state_input, clipped = _clip(event["stateEnteredEventDetails"].get("input"), MAX_IO_CHARS)
            entry = {
                "name": event["stateEnteredEventDetails"]["name"],
                "type": kind.removesuffix("StateEntered"),
                "status": "running",
                "enteredAt": event["timestamp"],
                "exitedAt": None,
                "attempts": 0,
                "failures": [],  # each failed attempt: error and cause (retried, caught, or final)
                "input": state_input,
                "inputTruncated": clipped,
                "output": None,
                "outputTruncated": False,
            }
            states.append(entry)
            open_by_event[event["id"]] = entry
            continue
        entry = owning_state(event)
        if entry is None:
            continue
        open_by_event[event["id"]] = entry
        if kind == "TaskScheduled":
            entry["attempts"] += 1
        elif kind.endswith("Failed") and kind != "ExecutionFailed":
            details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
            entry["status"] = "failed"
            entry["error"] = details.get("error")
            cause, _ = _clip(details.get("cause"), MAX_CAUSE_CHARS)
            entry["failures"].append({"error": details.get("error"), "cause": cause, "at": event["timestamp"]})
        elif "stateExitedEventDetails" in event:
            entry["exitedAt"] = event["timestamp"]
            entry["output"], entry["outputTruncated"] = _clip(
                event["stateExitedEventDetails"].get("output"), MAX_IO_CHARS
            )
            if entry["status"] != "failed":
                entry["status"] = "succeeded"
            elif entry["failures"] and entry["attempts"] > len(entry["failures"]):
                entry["status"] = "succeeded"  # failed attempts, then one that succeeded: retried, not failed
    for entry in states:
        if entry["enteredAt"] is not None and entry["exitedAt"] is not None:
            entry["durationMs"] = round((entry["exitedAt"] - entry["enteredAt"]).total_seconds() * 1000)
        for field in ("enteredAt", "exitedAt"):
            if entry[field] is not None and not isinstance(entry[field], str):
                entry[field] = entry[field].isoformat()
        for failure in entry["failures"]:
            failure["at"] = failure["at"].isoformat() if hasattr(failure["at"], "isoformat") else failure["at"]
    return states


def graph_of(definition: dict[str, Any]) -> dict[str, Any]:
    """Nodes and edges of the state machine, nested states (Parallel branches, Map
    processors) flattened, edges marked `next`, `choice`, `catch` or `contains`."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []

    def visit(states: dict[str, Any], parent: str | None) -> None:
        for name, state in states.items():
            nodes.append({"name": name, "type": state["Type"], "parent": parent})
            targets = [("next", state.get("Next")), ("choice", state.get("Default"))]
            targets += [("choice", choice.get("Next")) for choice in state.get("Choices", [])]
            targets += [("catch", catch.get("Next")) for catch in state.get("Catch", [])]
            edges.extend({"from": name, "to": target, "kind": kind} for kind, target in targets if target)
            for branch in state.get("Branches", []):
                edges.append({"from": name, "to": branch["StartAt"], "kind": "contains"})
                visit(branch["States"], name)
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                edges.append({"from": name, "to": processor["StartAt"], "kind": "contains"})
                visit(processor["States"], name)

    visit(definition["States"], None)
    return {"startAt": definition["StartAt"], "nodes": nodes, "edges": edges}

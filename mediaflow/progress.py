"""Follow several jobs at once and show them state by state, with each state's duration.

On a terminal the view is a live table (rich.live), one row per file; elsewhere (CI logs,
pipes) it is one plain line per state that ends, so nothing is redrawn or cut.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from mediaflow.stack_client import StackClient
from mediaflow_shared.contract.record import DUPLICATE_EVENT_ERROR, EXECUTION_RUNNING, FINISHED_EXECUTION_STATUSES

POLL_SECONDS = 0.2


@dataclass
class FileJob:
    name: str  # as shown: the file name, made unique among the inputs
    key: str
    etag: str
    timeout: float
    deadline: float
    execution: dict[str, Any] | None = None
    status: str = "waiting"
    current: str = ""
    timings: list[tuple[str, float]] = field(default_factory=list)  # (state, milliseconds), in order
    _entered: dict[str, datetime] = field(default_factory=dict)
    _seen: int = 0  # the id of the last history event shown

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_EXECUTION_STATUSES or self.status == "TIMED OUT"


class ProgressView:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal

    def line(self, job: FileJob, text: str) -> None:
        if not self.live:
            self.console.print(f"  [dim]{job.name}[/] {text}")

    def table(self, jobs: list[FileJob]) -> Table:
        table = Table(box=None, pad_edge=False)
        for column in ("file", "status", "now", "states so far"):
            table.add_column(column, overflow="fold")
        for job in jobs:
            recent = " · ".join(f"{state} {ms:.0f} ms" for state, ms in job.timings[-4:])
            table.add_row(job.name, job.status, job.current, recent)
        return table


def _event_state(event: dict[str, Any]) -> str | None:
    details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
    return details.get("name") if details else None


def _apply(job: FileJob, event: dict[str, Any], view: ProgressView) -> None:
    kind, state = event["type"], _event_state(event)
    if kind.endswith("StateEntered") and state:
        job._entered[state] = event["timestamp"]
        job.current = state
    elif kind.endswith("StateExited") and state and state in job._entered:
        milliseconds = (event["timestamp"] - job._entered.pop(state)).total_seconds() * 1000
        job.timings.append((state, milliseconds))
        view.line(job, f"✓ {state} {milliseconds:.0f} ms")
    elif kind.endswith("Failed") and kind != "ExecutionFailed":
        details = next((v for k, v in event.items() if k.endswith("FailedEventDetails")), {})
        if details.get("error") == DUPLICATE_EVENT_ERROR:
            view.line(job, "= already processed: a duplicate of an earlier event")
        else:
            view.line(job, f"[red]✗ {details.get('error', kind)}[/]")


def _poll(stack: StackClient, job: FileJob, view: ProgressView) -> None:
    if job.execution is None:
        executions = stack.executions_for(job.key, job.etag)
        if not executions:
            return
        job.execution = executions[-1]
        job.status = EXECUTION_RUNNING
    described = stack.client("stepfunctions").describe_execution(executionArn=job.execution["executionArn"])
    # Read after the status, so nothing is missed; only the events since the last poll.
    for event in stack.events_after(job.execution["executionArn"], job._seen):
        _apply(job, event, view)
        job._seen = event["id"]
    if described["status"] in FINISHED_EXECUTION_STATUSES:
        job.execution, job.status, job.current = described, described["status"], ""


def follow(stack: StackClient, jobs: list[FileJob], console: Console) -> None:
    """Poll every job's execution until each has finished or passed its deadline."""
    view = ProgressView(console)

    def step() -> None:
        for job in jobs:
            if job.finished:
                continue
            if time.monotonic() > job.deadline:
                job.status, job.current = "TIMED OUT", ""
                view.line(job, f"[red]✗ not finished after {job.timeout:g} s[/] (--timeout)")
                continue
            _poll(stack, job, view)

    if not view.live:
        while not all(job.finished for job in jobs):
            step()
            time.sleep(POLL_SECONDS)
        return
    with Live(view.table(jobs), console=console, refresh_per_second=8, transient=False) as live:
        while not all(job.finished for job in jobs):
            step()
            live.update(view.table(jobs))
            time.sleep(POLL_SECONDS)

"""Ship each function's log lines to the emulated CloudWatch Logs, where the AWS CLI looks.

Workers write to `<state dir>/logs/<Function>.log` (START, the handler's own output such as
Powertools' JSON lines, END, REPORT), as Lambda's runtime writes to its log stream. This
thread follows those files and puts their new lines into the function's log group,
`/aws/lambda/<function name>` (the template creates the groups), stream
`YYYY/MM/DD/[$LATEST]local`. So `aws logs filter-log-events` (what `aws logs tail` reads),
`aws logs get-log-events` and `mediaflow logs` show them.

The lines are delivered as Lambda delivers them on AWS: by the service, not through the public
PutLogEvents API (`moto_patches.deliver_log_events`: no request built, signed and parsed per
batch, ~2 ms of the engine's CPU per job); the groups, streams, quotas and reads are moto's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediaflow.periodic import Periodic

SHIP_EVERY_SECONDS = 0.5
MAX_EVENTS_PER_PUT = 1000  # PutLogEvents' own limit


@dataclass
class _FollowedFile:
    path: Path
    group: str
    offset: int = 0
    partial: bytes = b""


def log_group_of(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def log_stream_for(now: float) -> str:
    return time.strftime("%Y/%m/%d/[$LATEST]local", time.gmtime(now))


class LogShipper:
    def __init__(self, deliver: Callable[[str, str, list[dict[str, Any]]], None], files: dict[Path, str]) -> None:
        """`deliver(group, stream, events)` puts events into a log stream, made if missing;
        `files`: function log file -> the function's name."""
        self._deliver = deliver
        # Lines already in the files belong to earlier runs (another emulator): start at their ends.
        self._files = [
            _FollowedFile(path, log_group_of(name), path.stat().st_size if path.exists() else 0)
            for path, name in files.items()
        ]
        self._rounds = Periodic("log-shipper", SHIP_EVERY_SECONDS, self.ship)

    def start(self) -> None:
        self._rounds.start()

    def stop(self) -> None:
        self._rounds.stop()
        self.ship()  # what was written since the last round

    def ship(self) -> int:
        """Put every complete new line of every file; returns how many were shipped."""
        shipped = 0
        for followed in self._files:
            lines = self._new_lines(followed)
            if lines:
                self._put(followed.group, lines)
                shipped += len(lines)
        return shipped

    @staticmethod
    def _new_lines(followed: _FollowedFile) -> list[str]:
        if not followed.path.exists():
            return []
        with followed.path.open("rb") as handle:
            handle.seek(followed.offset)
            data = handle.read()
        followed.offset += len(data)
        data = followed.partial + data
        *complete, followed.partial = data.split(b"\n")
        return [line.decode("utf-8", "replace") for line in complete if line.strip()]

    def _put(self, group: str, lines: list[str]) -> None:
        now = time.time()
        stream, stamp = log_stream_for(now), int(now * 1000)
        for start in range(0, len(lines), MAX_EVENTS_PER_PUT):
            events = [{"timestamp": stamp, "message": line} for line in lines[start : start + MAX_EVENTS_PER_PUT]]
            self._deliver(group, stream, events)

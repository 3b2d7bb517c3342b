"""CloudWatch Logs' events in the state store, not in the engine's memory (memory only).

moto keeps every log event of every stream in a list for as long as it runs: the functions'
START/END/REPORT lines and their own JSON lines, ~11 KB per image job with the objects around
them, a fifth of what the engine's memory grew by per job. A stream's `events` is now a view
of the state store's rows for it: put events are written there (one transaction per
PutLogEvents), and moto's own code reads them back when it lists, filters or describes
(already O(events) in moto: it walks the list each time). A FilterLogEvents with a time range
(what `aws logs tail` and `mediaflow logs -f` poll with) reads only that range's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.logs import models as logs_models

from mediaflow.state_store import StateStore

original_log_stream_init = logs_models.LogStream.__init__
original_filter_log_events = logs_models.LogStream.filter_log_events


class StoredLogEvents:
    """What moto's LogStream uses its `events` list for (+=, truth, len, iteration), kept in the
    store of the stack running now: a stream made by an earlier stack in this process (tests)
    finds this run's store, and without a store (moto's own mocks) the events stay in a list."""

    def __init__(self, store_of: Callable[[], StateStore | None], stream: str) -> None:
        self._store_of, self._stream = store_of, stream
        self._unstored: list[Any] = []

    def __iadd__(self, events: Iterable[Any]) -> StoredLogEvents:
        store = self._store_of()
        if store is None:
            self._unstored += events
            return self
        rows = [(event.event_id, event.ingestion_time, event.timestamp, event.message) for event in events]
        if rows:
            store.add_log_events(self._stream, rows)
        return self

    def __len__(self) -> int:
        store = self._store_of()
        return len(self._unstored) if store is None else store.log_event_count(self._stream)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[Any]:
        return self.between(None, None)

    def between(self, since: int | None, until: int | None) -> Iterator[Any]:
        """The events stamped `since`..`until` (ms; None: unbounded)."""
        store = self._store_of()
        if store is None:
            yield from list(self._unstored)
            return
        for event_id, ingestion_time, timestamp, message in store.log_events(self._stream, since, until):
            # A transient view of a row: not __init__ (it takes a new id), not BaseModel.__new__
            # (moto would track it for good).
            event = object.__new__(logs_models.LogEvent)
            event.event_id, event.ingestion_time, event.timestamp, event.message = (
                event_id,
                ingestion_time,
                timestamp,
                message,
            )
            yield event


class _StreamWindow:
    """A stream as moto's filter sees it: its attributes, and its events in a time window."""

    def __init__(self, stream: Any, events: list[Any]) -> None:
        self._stream, self.events = stream, events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _filter_log_events(self: Any, start_time: int, end_time: int, filter_pattern: str) -> list[dict[str, Any]]:
    if isinstance(self.events, StoredLogEvents):
        # moto's filter treats a 0 or missing bound as none; it still checks both itself.
        window = list(self.events.between(start_time or None, end_time or None))
        return original_filter_log_events(_StreamWindow(self, window), start_time, end_time, filter_pattern)
    return original_filter_log_events(self, start_time, end_time, filter_pattern)


def keep_log_events_in(store_of: Callable[[], StateStore | None]) -> None:
    """Every log stream keeps its events in `store_of()`, the running stack's store."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_log_stream_init(self, *args, **kwargs)
        self.events = StoredLogEvents(store_of, self.arn)

    logs_models.LogStream.__init__ = init  # type: ignore[method-assign]
    logs_models.LogStream.filter_log_events = _filter_log_events  # type: ignore[method-assign]

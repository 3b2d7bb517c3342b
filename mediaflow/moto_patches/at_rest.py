"""What S3 keys (keys_at_rest) and DynamoDB items (items_at_rest) at rest share: the marker a
resting entry holds in place of the model, and the window of entries kept awake.

A resting entry's value is its store's marker (one per store, shared by every entry resting
there); the model is rebuilt from the store's row when moto asks for it. The window is the
entries touched last (written, or woken from rest), oldest first: the one that falls out of it
is offered to rest, which puts it to rest if the store can rebuild it exactly.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from mediaflow.state_store import StateStore

_log = logging.getLogger(__name__)


class AtRest:
    """What a resting entry holds: the store to rebuild it from (one marker per store)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"<at rest in {self.store.root}>"

    def __copy__(self) -> AtRest:
        return self

    def __deepcopy__(self, memo: Any) -> AtRest:
        return self


def open_store(marker: AtRest | None) -> StateStore | None:
    """The store entries rest in under `marker`, while it is open (closed: nothing rests there)."""
    return None if marker is None or marker.store.closed else marker.store


_markers: weakref.WeakKeyDictionary[StateStore, AtRest] = weakref.WeakKeyDictionary()
_markers_lock = threading.Lock()


def marker_for(store: StateStore) -> AtRest:
    with _markers_lock:
        marker = _markers.get(store)
        if marker is None:
            marker = _markers[store] = AtRest(store)
        return marker


class AwakeWindow:
    """The entries touched last, oldest first, at most `size()` (read at each touch, so a test
    can shrink it); `rest(entry)` is offered each one that falls out. The caller holds its lock."""

    def __init__(self, size: Callable[[], int], rest: Callable[[Any], None], kind: str) -> None:
        self._entries: OrderedDict[Hashable, None] = OrderedDict()
        self._size, self._rest, self._kind = size, rest, kind

    def touch(self, entry: Hashable) -> None:
        self._entries[entry] = None
        self._entries.move_to_end(entry)
        while len(self._entries) > self._size():
            oldest, _ = self._entries.popitem(last=False)
            try:
                self._rest(oldest)
            except Exception:  # the request that touched the entry must not fail for it
                _log.exception("%s %s stays in memory: putting it to rest failed", self._kind, oldest)

    def forget(self, entry: Hashable) -> None:
        self._entries.pop(entry, None)

    def copy(self, rest: Callable[[Any], None], first: Iterable[Hashable] = ()) -> AwakeWindow:
        """The same window for a copy of its owner (`first`: entries to offer to rest first)."""
        twin = AwakeWindow(self._size, rest, self._kind)
        twin._entries = OrderedDict.fromkeys([*first, *self._entries])
        return twin

"""moto's model instances, tracked without being kept alive.

moto appends every instance of every model it ever creates to a class-level list, for its
dashboard (/moto-api/data.json) and its reset, and never removes it: every S3 key version ever
written (with its ACL, grant and grantee), every DynamoDB item built on the way to an update, a
state machine object per execution — a runtime left up for a week kept them all
(bench/bench_engine_memory.py). Tracked weakly instead, the dashboard and reset still see every
live instance, and the rest is garbage as it would be without moto.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from moto.core.common_models import BaseModel


class WeakTracked:
    """What moto's `instances_tracked` list is used as (append, iterate, len), holding weak
    references, pruned as it grows. Not a WeakSet: some models (FakeGrantee) are unhashable."""

    def __init__(self, instances: Any = ()) -> None:
        self._lock = threading.Lock()
        self._refs: list[Callable[[], Any]] = []
        self._prune_at = 64
        for instance in instances:
            self.append(instance)

    def append(self, instance: Any) -> None:
        try:
            ref: Callable[[], Any] = weakref.ref(instance)
        except TypeError:  # not weakly referenceable: kept, as moto would
            ref = lambda: instance  # noqa: E731
        with self._lock:
            self._refs.append(ref)
            if len(self._refs) >= self._prune_at:
                self._refs = [ref for ref in self._refs if ref() is not None]
                self._prune_at = max(64, 2 * len(self._refs))

    def _live(self) -> list[Any]:
        with self._lock:
            refs = list(self._refs)
        return [instance for ref in refs if (instance := ref()) is not None]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._live())

    def __len__(self) -> int:
        return len(self._live())


original_new = BaseModel.__new__


def _new(cls: type, *args: Any, **kwargs: Any) -> Any:
    instance = super(BaseModel, cls).__new__(cls)
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, WeakTracked):  # a class made (or reset) since: its list, converted once
        tracked = WeakTracked(tracked or ())
        cls.instances_tracked = tracked  # type: ignore[attr-defined]
    tracked.append(instance)
    return instance


def apply() -> None:
    BaseModel.__new__ = _new  # type: ignore[method-assign]

"""S3 listings by prefix at the cost of what they list, not of everything the bucket holds.

moto 5.2.5 answers every ListObjects/ListObjectsV2 by walking every key of the bucket (after
copying its whole key dict, `_VersionedKeyStore._self_iterable`), whatever the prefix: an
Aggregate listing its job's dozen outputs paid for every object ever stored, so each job cost
the engine more than the one before. Here a bucket keeps its key names sorted
(sortedcontainers, Apache 2.0: a well-kept sorted list, O(log n) to add or remove), a prefix
is a range of that order, and moto's own listing code runs on that range alone: delimiters,
markers, truncation and delete markers are still moto's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from moto.s3 import models as s3_models
from moto.s3.utils import _VersionedKeyStore
from sortedcontainers import SortedList

original_bucket_init = s3_models.FakeBucket.__init__
original_list_objects = s3_models.S3Backend.list_objects

# One lock for every bucket's order: a key store is deep-copied and pickled by moto, which a
# lock of its own would not survive; changes to the order are short.
_ORDER_LOCK = threading.Lock()


class IndexedKeyStore(_VersionedKeyStore):
    """moto's key store (name -> versions) that also keeps its names in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.names = SortedList(dict.keys(self))

    def _remember(self, name: str) -> None:
        with _ORDER_LOCK:
            if name not in self.names:
                self.names.add(name)

    def _forget(self, name: str) -> None:
        with _ORDER_LOCK:
            self.names.discard(name)

    def __setitem__(self, key: str, value: Any) -> Any:
        super().__setitem__(key, value)
        self._remember(key)

    def setlist(self, key: Any, list_: Any) -> Any:
        super().setlist(key, list_)
        self._remember(key)

    def pop(self, key: str) -> None:  # type: ignore[override]
        super().pop(key)
        self._forget(key)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._forget(key)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("IndexedKeyStore changes through item assignment, setlist and pop only")

    update = clear = popitem = setdefault = _refuse  # moto uses none of them; the order would drift

    def names_with_prefix(self, prefix: str) -> list[str]:
        """The names starting with `prefix`, in order (a snapshot: safe while keys change)."""
        with _ORDER_LOCK:
            names = []
            for name in self.names.irange(minimum=prefix):
                if not name.startswith(prefix):
                    break
                names.append(name)
            return names

    def items_with_prefix(self, prefix: str) -> Iterator[tuple[str, Any]]:
        """(name, latest version) for each name starting with `prefix`: `items()` for a range."""
        for name in self.names_with_prefix(prefix):
            latest = self.get(name)
            if latest is not None:  # gone since the snapshot
                yield name, latest


class _PrefixOnly:
    """What moto's list_objects reads of a bucket (`bucket.keys.items()`), for one prefix."""

    def __init__(self, keys: IndexedKeyStore, prefix: str) -> None:
        self._keys = keys
        self._prefix = prefix

    def items(self) -> Iterator[tuple[str, Any]]:
        return self._keys.items_with_prefix(self._prefix)


class _BucketRange:
    def __init__(self, keys: IndexedKeyStore, prefix: str) -> None:
        self.keys = _PrefixOnly(keys, prefix)


def _bucket_init(self: Any, *args: Any, **kwargs: Any) -> None:
    original_bucket_init(self, *args, **kwargs)
    self.keys = IndexedKeyStore()


def _list_objects(
    self: Any, bucket: Any, prefix: str | None, delimiter: str | None, marker: str | None, max_keys: int | None
) -> Any:
    keys = getattr(bucket, "keys", None)
    if not prefix or not isinstance(keys, IndexedKeyStore) or isinstance(bucket, s3_models.FakeTableStorageBucket):
        return original_list_objects(self, bucket, prefix, delimiter, marker, max_keys)
    return original_list_objects(self, _BucketRange(keys, prefix), prefix, delimiter, marker, max_keys)


def apply() -> None:
    s3_models.FakeBucket.__init__ = _bucket_init
    s3_models.S3Backend.list_objects = _list_objects

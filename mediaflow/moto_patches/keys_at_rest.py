"""S3 keys at rest in the state store: the engine keeps a bounded set of recent keys in memory.

Even slimmed (key_memory), every stored object was a moto FakeKey in the engine's memory for as
long as it existed, with its name, metadata, ETag, version id and tracking: ~2 KB per key, nine
keys per image job, the largest part of what the engine grew by per job (tracemalloc over a
run of jobs, bench/bench_engine_memory.py). The state store already holds each object's row
(bytes, ETag, version id, metadata, time), so a key the store can rebuild exactly need not stay.

A bucket's key store keeps the keys it touched last awake (`AWAKE_KEYS_PER_BUCKET`: written, or
woken from rest; a read of an awake key is not counted, which would cost a lock per GET). When one
falls out of that window it is put to rest: nothing of it stays in memory, not even its name
(names and their sorted index were ~0.1 KB per key once keys rested as markers). A name the
bucket's dict does not hold rests exactly when the store has its row, and the key is rebuilt
from that row the next time moto asks for it (a GET, a listing, an overwrite, a delete, the
janitor's expiry); listings read the store's names for their prefix, in S3's order.

Only a key the store describes whole goes to rest: its only version, its bytes in a blob, and a
key rebuilt from its row equal to it attribute for attribute (storage class, encryption, ACL,
lock, checksum, restore status...). Anything else (an older version kept, a public-read ACL, a
legal hold, a multipart's parts) stays awake as moto keeps it. Tags need nothing: moto keeps
them by the key's ARN, which a rebuilt key has too.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from moto.s3 import models as s3_models

from mediaflow.moto_patches import object_blobs, s3_index
from mediaflow.moto_patches.at_rest import AtRest, AwakeWindow, marker_for, open_store
from mediaflow.moto_patches.timestamps import iso_timestamp, naive_utc
from mediaflow.state_store import StateStore, StoredObject
from mediaflow.template import ACCOUNT_ID

_log = logging.getLogger(__name__)

# moto's own: the runtime's write-through of metadata (moto_patches' persist_to) would write the
# row back to itself for every key rebuilt from it. Taken at import, before the patches apply.
_moto_set_metadata = s3_models.FakeKey.set_metadata

AWAKE_KEYS_PER_BUCKET = 1000  # ~2 MB of keys per bucket: every key of a few hundred jobs in flight

# One lock for waking and resting every bucket's keys (a key store is deep-copied and pickled
# by moto, which a lock of its own would not survive). Held for one row read and one key built.
_LOCK = threading.RLock()

_current_store: Callable[[], StateStore | None] = lambda: None  # noqa: E731


# -- A key rebuilt from its row ------------------------------------------------------------


def key_from_row(row: StoredObject, store: StateStore) -> Any:
    """The FakeKey moto would hold for `row`, made as moto's PutObject makes one in its bucket
    (default encryption included), reading its bytes from the row's blob."""
    backend = s3_models.s3_backends[ACCOUNT_ID]["aws"]
    bucket = backend.get_bucket(row.bucket)
    encryption: dict[str, Any] = {}
    if bucket.encryption:  # as moto's put_object applies the bucket's default
        rule = bucket.encryption["Rule"]
        default = rule["ApplyServerSideEncryptionByDefault"]
        encryption = {
            "encryption": default["SSEAlgorithm"],
            "kms_key_id": default.get("KMSMasterKeyID"),
            "bucket_key_enabled": rule.get("BucketKeyEnabled", False),
        }
    key = s3_models.FakeKey(
        name=row.key,
        value=b"",
        account_id=backend.account_id,
        region_name=backend.region_name,
        etag=row.etag,
        is_versioned=bucket.is_versioned,
        version_id=row.version_id or "null",
        bucket_name=row.bucket,
        checksum_value=row.checksum_value,
        **encryption,
    )
    key.checksum_algorithm = row.checksum_algorithm
    object_blobs.read_from_blob(key, store, row.path.name)
    key.contentsize = row.path.stat().st_size
    _moto_set_metadata(key, dict(row.metadata))
    key.last_modified = naive_utc(row.last_modified)
    return key


# Compared apart: the buffer (the blob it reads), the ACL (by its grants: PutObject gives each
# key a private ACL of its own), metadata (by items) and the time (at the store's milliseconds).
# Never compared: the key's own lock, and the restore-status clock (moto's ManagedState ticks it
# at each read; a key being restored differs in `_status` anyway).
_COMPARED_APART = ("lock", "_value_buffer", "last_modified", "_metadata", "acl", "_tick", "_time_progressed")


def _grants(acl: Any) -> Any:
    if acl is None:
        return None
    return [(tuple(grant.permissions), [(g.id, g.uri, g.display_name) for g in grant.grantees]) for grant in acl.grants]


def _rebuilt_alike(live: Any, row: StoredObject, store: StateStore) -> bool:
    """Would a key rebuilt from `row` be `live`, to everything moto answers from it?"""
    buffer = live._value_buffer
    if not isinstance(buffer, object_blobs.BlobBuffer) or buffer.digest != row.path.name:
        return False
    rebuilt = key_from_row(row, store)
    try:
        ours, theirs = dict(vars(live)), dict(vars(rebuilt))
        for name in _COMPARED_APART:
            ours.pop(name, None)
            theirs.pop(name, None)
        return (
            ours == theirs
            and _grants(live.acl) == _grants(rebuilt.acl)
            and dict(live.metadata) == dict(rebuilt.metadata)
            and iso_timestamp(live.last_modified) == iso_timestamp(rebuilt.last_modified)
        )
    finally:
        rebuilt.dispose()


# -- The key store ---------------------------------------------------------------------------


class RestingKeyStore(s3_index.IndexedKeyStore):
    """A bucket's key store (name -> versions, names in order) whose keys rest in the state
    store once they are not among the bucket's last `AWAKE_KEYS_PER_BUCKET` touched.

    A resting key keeps nothing in memory, not even its name: the store's row for it is the
    entry. A name the dict does not hold is at rest exactly when the store the bucket rests in
    (`_resting`) has a row for it; every lookup, membership test, listing and iteration asks it.
    """

    def __init__(self, bucket_name: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bucket_name = bucket_name
        self._awake = AwakeWindow(lambda: AWAKE_KEYS_PER_BUCKET, self._rest, "S3 key")
        self._resting: AtRest | None = None  # the store this bucket's resting keys are rows of

    # moto reaches every version list through __sgetitem__ (get, getlist, [], setitem).
    def __sgetitem__(self, key: str) -> list[Any]:
        try:
            return dict.__getitem__(self, key)
        except KeyError:
            return self._wake(key)

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        store = open_store(self._resting)
        return isinstance(key, str) and store is not None and store.has_object(self.bucket_name, key)

    def __len__(self) -> int:  # DeleteBucket's "is it empty?" and CloudWatch's object count
        return len(self._self_iterable())

    def __setitem__(self, key: str, value: Any) -> Any:
        super().__setitem__(key, value)
        self._touch(key)

    def setlist(self, key: Any, list_: Any) -> Any:
        super().setlist(key, list_)
        self._touch(key)

    def pop(self, key: str) -> None:  # type: ignore[override]
        super().pop(key)  # wakes a resting key first (moto disposes of its versions)
        self._drop_row(key)

    def __delitem__(self, key: str) -> None:
        if not dict.__contains__(self, key):
            self._wake(key)
        super().__delitem__(key)
        self._drop_row(key)

    def _drop_row(self, name: str) -> None:
        """A key gone from moto is gone from the store at once: its row would otherwise say it
        rests (the write-through's own delete comes after moto's, and is then a no-op)."""
        store = open_store(self._resting)
        if store is not None:
            store.delete_object(self.bucket_name, name)

    def _forget(self, name: str) -> None:  # the index's hook for a name gone (pop, del)
        super()._forget(name)
        with _LOCK:
            self._awake.forget(name)

    def _self_iterable(self) -> dict[str, Any]:
        """Every name, awake (with its versions) or resting (with the store's marker)."""
        awake = dict(self)
        store, marker = open_store(self._resting), self._resting
        if store is None or marker is None:
            return awake
        every = dict.fromkeys(store.object_names(self.bucket_name), marker)
        every.update(awake)
        return every

    def names_with_prefix(self, prefix: str) -> list[str]:
        awake = super().names_with_prefix(prefix)
        store = open_store(self._resting)
        if store is None:
            return awake
        return sorted(set(awake).union(store.object_names(self.bucket_name, prefix)))

    # moto's iterations copy the names first; one that went since (or whose store closed) is skipped.
    def _iteritems(self) -> Iterator[tuple[str, Any]]:
        for name in self._self_iterable():
            latest = self.get(name)
            if latest is not None:
                yield name, latest

    def _itervalues(self) -> Iterator[Any]:
        for _, latest in self._iteritems():
            yield latest

    def _iterlists(self) -> Iterator[tuple[str, list[Any]]]:
        for name in self._self_iterable():
            versions = self.getlist(name)
            if versions is not None:
                yield name, versions

    items = iteritems = _iteritems  # type: ignore[assignment]
    values = itervalues = _itervalues  # type: ignore[assignment]
    lists = iterlists = _iterlists

    def at_rest_name(self, name: str) -> bool:
        return not dict.__contains__(self, name) and name in self

    def rest_in(self, store: StateStore) -> None:
        """Every row `store` holds for this bucket is a resting key of it (a restart restoring
        the bucket): nothing is read or built until moto asks for one."""
        with _LOCK:
            self._resting = marker_for(store)

    def _touch(self, name: str) -> None:
        with _LOCK:
            self._awake.touch(name)

    def _rest(self, name: str) -> None:
        store = _current_store()
        versions = dict.get(self, name)
        if store is None or not isinstance(versions, list) or len(versions) != 1:
            return
        if self._resting is not None and self._resting.store is not store:
            return  # this bucket's keys rest in another store (which a test switched from)
        (key,) = versions
        if type(key) is not s3_models.FakeKey:
            return
        row = store.object(self.bucket_name, name)
        if row is None:
            return
        checksum = (key.checksum_algorithm, key.checksum_value)
        if (row.checksum_algorithm, row.checksum_value) != checksum:
            # moto names a PUT's checksum algorithm only after the key is stored: recorded now.
            store.set_object_checksum(self.bucket_name, name, *checksum)
            row = dataclasses.replace(row, checksum_algorithm=checksum[0], checksum_value=checksum[1])
        if not _rebuilt_alike(key, row, store):
            return
        self._resting = marker_for(store)
        dict.__delitem__(self, name)
        s3_index.IndexedKeyStore._forget(self, name)  # the order of awake names only
        # Whoever still reads the key (a GET in flight) keeps it: it is not disposed here, and
        # its buffer closes when it is collected (marked disposed: no "not disposed" warning).
        key.disposed = True

    def _wake(self, name: str) -> list[Any]:
        with _LOCK:
            if dict.__contains__(self, name):  # woken by another thread meanwhile
                return dict.__getitem__(self, name)
            store = open_store(self._resting)
            row = None if store is None else store.object(self.bucket_name, name)
            if store is None or row is None:
                raise KeyError(name)
            if not row.path.exists():  # its bytes are gone (a state dir tampered with): so is the key
                store.delete_object(self.bucket_name, name)
                raise KeyError(name)
            awake = [key_from_row(row, store)]
            dict.__setitem__(self, name, awake)
            self._remember(name)
            self._awake.touch(name)
            return awake


def _bucket_init(self: Any, *args: Any, **kwargs: Any) -> None:
    s3_index.original_bucket_init(self, *args, **kwargs)
    self.keys = RestingKeyStore(self.name)


def keep_keys_in(store_of: Callable[[], StateStore | None]) -> None:
    """Keys go to rest in the store `store_of()` answers at the time (none: they stay awake)."""
    global _current_store
    _current_store = store_of


def apply() -> None:
    s3_models.FakeBucket.__init__ = _bucket_init

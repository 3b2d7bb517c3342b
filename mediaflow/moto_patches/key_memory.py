"""An S3 key's metadata in the engine's memory at a third of moto's size (memory only).

Each stored object version is a moto FakeKey held for as long as the object exists: ~3.3 KB
of Python objects before its bytes, the largest part of what the engine's memory grows by
per job (bench/bench_engine_memory.py, tracemalloc). Two parts of that are the same for
almost every key:

- 35 instance attributes, more than a split ("key-sharing") instance dict can hold, so each
  key has a dict of its own of ~1.6 KB, and 18 of them hold the same default (None, False,
  "STANDARD"…). Those 18 become sparse: a class-level descriptor answers the default, and the
  key's dict holds the attribute only while its value differs (a lock mode, a storage class,
  a restore status), whenever it is set: in the constructor or later.
- the "private" canned ACL, three model objects made anew for every key. moto replaces a key's
  ACL (PutObjectAcl) and never changes one in place, so every key starts with one shared
  private ACL.

Together 3.3 → 1.2 KB per key whose bytes are in a blob (the engine), 3.5 → 2.3 KB with moto's
own value buffer. Only immutable defaults are shared; lists and dicts stay per key.
"""

from __future__ import annotations

from typing import Any

from moto.s3 import models as s3_models

original_key_init = s3_models.FakeKey.__init__

# What FakeKey.__init__ (and ManagedState's) set when nothing else is asked for.
_DEFAULTS: dict[str, Any] = {
    "website_redirect_location": None,
    "checksum_algorithm": None,
    "checksum_value": None,
    "checksum_type": None,
    "checksum_parts": None,
    "_expiry": None,
    "_storage_class": "STANDARD",
    "multipart": None,
    "disposed": False,
    "encryption": None,
    "kms_key_id": None,
    "bucket_key_enabled": None,
    "lock_mode": None,
    "lock_legal_status": None,
    "lock_until": None,
    "_status": None,
    "_tick": 0,
    "_time_progressed": False,
}

_SHARED_PRIVATE_ACL = s3_models.get_canned_acl("private")


class SparseAttribute:
    """An instance attribute kept in the instance's dict only while it differs from `default`."""

    def __init__(self, name: str, default: Any) -> None:
        self.name, self.default = name, default

    def _is_default(self, value: Any) -> bool:
        # The type too: 0 == False, but a key whose attribute is 0 must keep its 0.
        return type(value) is type(self.default) and value == self.default

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance.__dict__.get(self.name, self.default)

    def __set__(self, instance: Any, value: Any) -> None:
        if self._is_default(value):
            instance.__dict__.pop(self.name, None)
        else:
            instance.__dict__[self.name] = value

    def __delete__(self, instance: Any) -> None:
        del instance.__dict__[self.name]


SPARSE_ATTRIBUTES = {name: SparseAttribute(name, default) for name, default in _DEFAULTS.items()}


def _slim_key_init(self: Any, *args: Any, **kwargs: Any) -> None:
    original_key_init(self, *args, **kwargs)
    self.acl = _SHARED_PRIVATE_ACL  # the constructor always starts a key "private"


def apply() -> None:
    for name, attribute in SPARSE_ATTRIBUTES.items():
        setattr(s3_models.FakeKey, name, attribute)
    s3_models.FakeKey.__init__ = _slim_key_init  # type: ignore[method-assign]

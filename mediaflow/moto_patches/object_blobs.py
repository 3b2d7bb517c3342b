"""S3 object bytes read from the state store's blob files, not held in the engine's memory.

moto keeps every object under 8 MB in memory (a SpooledTemporaryFile per object and version),
and larger ones in a temporary file of their own: a runtime left up for a week grew by the
bytes of every rendition, contact sheet and results file it ever wrote, though the state store
already had each of them on disk. Once an object is stored, its FakeKey reads from the store's
blob file instead, opened for each read (thousands of objects must not hold thousands of file
descriptors).

The store drops a blob no object row uses; a FakeKey that still reads one (an older version in
a versioned bucket, a GET in flight during an overwrite) holds it until moto disposes the key.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

from moto.s3 import models as s3_models

from mediaflow.state_store import StateStore

SPILL_IN_MEMORY_BYTES = 8 * 1024 * 1024  # what moto's own buffer keeps in memory before a file


class BlobBuffer:
    """The file-like object a FakeKey reads its value through (seek, tell, read), backed by a
    blob. Writing to it (moto rewriting a key's value in place) moves it to a buffer of its own."""

    def __init__(self, store: StateStore, digest: str) -> None:
        self._store, self._digest = store, digest
        self._position = 0
        self._written: Any = None  # a SpooledTemporaryFile once written to
        self._closed = False
        store.hold_blob(digest)

    @property
    def digest(self) -> str | None:
        """The blob it reads, while it reads one (not once written to, or closed)."""
        return None if self._written is not None or self._closed else self._digest

    def _blob_path(self) -> Path:
        # Made when read, not kept: a Path per stored object was ~1.6 KB of the engine's memory per job.
        return self._store.blob_path(self._digest)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if self._written is not None:
            return self._written.seek(offset, whence)
        self._check_open()
        if whence == os.SEEK_SET:
            base = 0
        elif whence == os.SEEK_CUR:
            base = self._position
        else:  # SEEK_END: the only one that needs the file's size
            base = self._blob_path().stat().st_size
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._written.tell() if self._written is not None else self._position

    def read(self, size: int = -1) -> bytes:
        if self._written is not None:
            return self._written.read(size)
        self._check_open()
        with open(self._blob_path(), "rb") as blob:
            blob.seek(self._position)
            data = blob.read(size if size is not None and size >= 0 else -1)
        self._position += len(data)
        return data

    def truncate(self, size: int | None = None) -> int:
        return self._writable().truncate(size)

    def write(self, data: bytes) -> int:
        return self._writable().write(data)

    def _writable(self) -> Any:
        if self._written is None:
            self._check_open()
            spill = tempfile.SpooledTemporaryFile(SPILL_IN_MEMORY_BYTES)  # noqa: SIM115 - closed with this buffer
            with open(self._blob_path(), "rb") as blob:
                spill.write(blob.read())
            spill.seek(self._position)
            self._written = spill
            self._release()
        return self._written

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on closed file.")  # what moto expects of a disposed key

    def _release(self) -> None:
        if self._digest is not None:
            digest, self._digest = self._digest, None
            self._store.release_blob(digest)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._written is not None:
            self._written.close()
        self._release()

    def __del__(self) -> None:
        self.close()


def read_from_blob(key: Any, store: StateStore, digest: str) -> None:
    """From now on `key` (a moto FakeKey) reads its bytes from the blob `digest`."""
    with key.lock:
        previous, key._value_buffer = key._value_buffer, BlobBuffer(store, digest)
    previous.close()


# -- ListObjectVersions without copying every object's bytes -----------------------------------
#
# moto deep-copies every version of every key in the bucket at each ListObjectVersions call (to
# mark its copies IsLatest), and a FakeKey's copy reads its whole value into a new buffer: one
# listing of a bucket holding 1 GB copied 1 GB, whatever the prefix. A listed version needs the
# key's attributes and an IsLatest of its own, not its bytes.


class _ListedVersion(s3_models.FakeKey):
    """A version as a listing shows it: the key's attributes (its buffer shared, never closed by
    this view) and its own `is_latest`."""

    def __init__(self) -> None:  # made by _listed_version only
        raise TypeError("use _listed_version")

    def dispose(self, garbage: bool = False) -> None:
        """The key it shows owns the buffer."""

    def __del__(self) -> None:
        pass


def _listed_version(version: Any) -> Any:
    """A key's view, or a delete marker's shallow copy (its deep copy would copy the key it
    points at, bytes and all). Made with object.__new__: moto must not track them as models."""
    view = object.__new__(_ListedVersion if isinstance(version, s3_models.FakeKey) else type(version))
    view.__dict__.update(version.__dict__)
    return view


class _CopyForListings:
    """What moto.s3.models sees as its `copy` module: deepcopy of a key's version list makes
    views; everything else is the real thing."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, list) and all(
            isinstance(item, s3_models.FakeKey | s3_models.FakeDeleteMarker) for item in value
        ):
            return [_listed_version(item) for item in value]
        return copy.deepcopy(value, memo)


def list_versions_without_copying_bytes() -> None:
    s3_models.copy = _CopyForListings  # type: ignore[assignment]

"""The local runtime's durable state: one SQLite database and a folder of object bytes.

What survives a restart (or a kill -9): S3 objects (bytes, ETag, version id, metadata), every
DynamoDB item, and every Step Functions execution with its history, each written through as
moto changes it (mediaflow/moto_patches/'s `persist_to`). SQLite (stdlib) in WAL mode: a
committed write survives the process dying at any instant. Object bytes live in
`objects/<sha256>` files, written whole and renamed into place, shared by equal contents.

Everything is relative to the state dir, so the folder can be moved and reopened. The format
has a version; a state dir written by another version is refused with a clear message rather
than half-read.

Layout (FORMAT_VERSION 2):
    state.sqlite3   meta(name, value), objects, items, executions, events, log_events
    objects/        object bytes by SHA-256

Format 2 added each object's checksum (algorithm and value, as S3 keeps them); a format-1 dir is
upgraded in place when opened (its objects have no checksum, as before).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT_VERSION = 2
DATABASE = "state.sqlite3"
BLOBS = "objects"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, sha256 TEXT NOT NULL, etag TEXT NOT NULL,
    version_id TEXT, metadata TEXT NOT NULL, last_modified TEXT NOT NULL,
    checksum_algorithm TEXT, checksum_value TEXT,
    PRIMARY KEY (bucket, key));
CREATE INDEX IF NOT EXISTS objects_by_blob ON objects (sha256);
CREATE TABLE IF NOT EXISTS items (
    table_name TEXT NOT NULL, item_key TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (table_name, item_key));
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY, state_machine_arn TEXT NOT NULL, name TEXT NOT NULL, input TEXT NOT NULL,
    start_date TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'RUNNING', stop_date TEXT, output TEXT,
    error TEXT, cause TEXT);
-- ListExecutions (newest first) and StartExecution's name check for executions at rest.
CREATE INDEX IF NOT EXISTS executions_by_start ON executions (state_machine_arn, start_date);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (state_machine_arn, status, start_date);
CREATE INDEX IF NOT EXISTS executions_by_name ON executions (state_machine_arn, name);
CREATE TABLE IF NOT EXISTS events (
    arn TEXT NOT NULL, id INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (arn, id));
CREATE TABLE IF NOT EXISTS log_events (
    stream TEXT NOT NULL, event_id INTEGER NOT NULL, ingestion_time INTEGER NOT NULL,
    timestamp INTEGER NOT NULL, message TEXT NOT NULL, PRIMARY KEY (stream, event_id));
CREATE INDEX IF NOT EXISTS log_events_by_time ON log_events (stream, timestamp);
"""


_PLAIN_ATTRIBUTE = re.compile(r"[A-Za-z0-9_.:-]{1,255}")


@dataclass(frozen=True)
class ItemOrder:
    """A global secondary index's order over one table's rows: (hash, range, table hash), all
    string attributes (a number's order is not its text's). `plain()` says whether the
    attribute names can be written into SQL as they are."""

    table: str
    hash_attr: str
    range_attr: str
    table_hash_attr: str

    def plain(self) -> bool:
        names = (self.hash_attr, self.range_attr, self.table_hash_attr)
        return all(_PLAIN_ATTRIBUTE.fullmatch(name) for name in names)

    def expressions(self) -> tuple[str, str, str]:
        if not self.plain():
            raise ValueError(f"{self} cannot be read from SQL")
        return tuple(  # type: ignore[return-value]
            f"json_extract(item, '$.\"{name}\".S')" for name in (self.hash_attr, self.range_attr, self.table_hash_attr)
        )

    def index_name(self) -> str:
        digest = hashlib.sha256(repr(self).encode()).hexdigest()[:16]
        return f"items_order_{digest}"


def _names_above(prefix: str) -> str | None:
    """The first string after every string starting with `prefix` (None: no bound, for "" or a
    prefix of U+10FFFF only). Code point order is UTF-8 byte order, the order S3 lists in."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if last == 0xD800:  # surrogates cannot be stored: the next character is U+E000
            last = 0xE000
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


# Asked at every release of a blob (an overwrite, a delete, a read finished): by the index on
# sha256, not a scan of every object (which made each job cost more than the one before).
BLOB_IN_USE = "SELECT 1 FROM objects WHERE sha256 = ? LIMIT 1"

_OBJECT_COLUMNS = "bucket, key, sha256, etag, version_id, metadata, last_modified, checksum_algorithm, checksum_value"

# What opening a state dir of an earlier format does to it, by the format it was written in.
_UPGRADES: dict[str, tuple[str, ...]] = {
    "1": (
        "ALTER TABLE objects ADD COLUMN checksum_algorithm TEXT",
        "ALTER TABLE objects ADD COLUMN checksum_value TEXT",
    ),
}


def _wire_blob(value: Any) -> str:
    """A binary attribute's bytes as DynamoDB's JSON carries them: base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not an attribute value")


class IncompatibleStateDir(RuntimeError):
    """The state dir was written by a format this version cannot read."""


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    path: Path
    etag: str
    version_id: str | None
    metadata: dict[str, Any]
    last_modified: str
    checksum_algorithm: str | None = None
    checksum_value: str | None = None


@dataclass(frozen=True)
class StoredExecution:
    arn: str
    state_machine_arn: str
    name: str
    input: str
    start_date: str
    status: str
    stop_date: str | None
    output: str | None
    error: str | None
    cause: str | None


@dataclass(frozen=True)
class ListedExecution:
    """What ListExecutions shows of an execution."""

    arn: str
    name: str
    start_date: str
    status: str
    stop_date: str | None


# An execution's row as a StoredExecution, without its output (a job's results, ~12 KB): neither
# a restart nor waking an execution at rest needs it, and DescribeExecution reads it when asked
# (`execution_data`).
_EXECUTION_COLUMNS = "arn, state_machine_arn, name, input, start_date, status, stop_date, NULL, error, cause"


class StateStore:
    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir
        self.blobs = state_dir / BLOBS
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.closed = False
        self._item_watchers: list[Callable[[str, dict[str, Any]], None]] = []
        self._blob_lock = threading.RLock()
        self._holds: Counter[str] = Counter()  # blob digest -> readers (object_blobs.BlobBuffer)
        self._db = sqlite3.connect(state_dir / DATABASE, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # in WAL: durable across a process crash
        self._check_version()
        self._drop_orphan_blobs()
        # CloudWatch Logs' events are this run's, as they were when they lived in moto's memory
        # (the functions' log files in <state dir>/logs keep every run's lines).
        self._write("DELETE FROM log_events")

    def _check_version(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = self._db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        if row is not None and row[0] in _UPGRADES:
            with self._db:  # one transaction: upgraded whole or not at all
                self._db.execute("BEGIN")
                for statement in _UPGRADES[row[0]]:
                    self._db.execute(statement)
                self._db.execute("UPDATE meta SET value = ? WHERE name = 'format'", (str(FORMAT_VERSION),))
            row = (str(FORMAT_VERSION),)
        self._db.executescript(_SCHEMA)
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT_VERSION),))
        elif row[0] != str(FORMAT_VERSION):
            raise IncompatibleStateDir(
                f"{self.root} holds MediaFlow local state in format {row[0]}; this version reads format "
                f"{FORMAT_VERSION}. Move it aside, or start empty with `mediaflow up --fresh`."
            )

    @staticmethod
    def wipe(state_dir: Path) -> None:
        """What --fresh removes: the durable state (logs and emails already sent stay)."""
        for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm"):
            (state_dir / name).unlink(missing_ok=True)
        shutil.rmtree(state_dir / BLOBS, ignore_errors=True)

    def _write(self, sql: str, *params: Any) -> int:
        """Run one statement; returns the number of rows it changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self.closed = True

    # -- S3 ----------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        return self.blobs / digest

    def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes,
        etag: str,
        version_id: str | None,
        metadata: dict[str, Any],
        when: str,
        checksum: tuple[str | None, str | None] = (None, None),
    ) -> str:
        """Store an object's bytes and record; returns the blob's digest (its file name)."""
        digest = hashlib.sha256(data).hexdigest()
        blob = self.blobs / digest
        partial = None
        if not blob.exists():
            partial = self.blobs / f".{digest}.{threading.get_ident()}.partial"
            partial.write_bytes(data)
        with self._blob_lock:  # the blob and the row that uses it appear together
            if partial is not None:
                os.replace(partial, blob)  # whole or not at all
            elif not blob.exists():  # dropped since we looked
                blob.write_bytes(data)
            old = self._rows("SELECT sha256 FROM objects WHERE bucket = ? AND key = ?", bucket, key)
            self._write(
                f"INSERT OR REPLACE INTO objects ({_OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                bucket,
                key,
                digest,
                etag,
                version_id,
                json.dumps(metadata),
                when,
                *checksum,
            )
        if old and old[0][0] != digest:
            self._drop_blob_if_unused(old[0][0])
        return digest

    def set_object_metadata(self, bucket: str, key: str, metadata: dict[str, Any]) -> None:
        self._write("UPDATE objects SET metadata = ? WHERE bucket = ? AND key = ?", json.dumps(metadata), bucket, key)

    def set_object_checksum(self, bucket: str, key: str, algorithm: str | None, value: str | None) -> None:
        self._write(
            "UPDATE objects SET checksum_algorithm = ?, checksum_value = ? WHERE bucket = ? AND key = ?",
            algorithm,
            value,
            bucket,
            key,
        )

    def delete_object(self, bucket: str, key: str) -> None:
        old = self._rows("SELECT sha256 FROM objects WHERE bucket = ? AND key = ?", bucket, key)
        self._write("DELETE FROM objects WHERE bucket = ? AND key = ?", bucket, key)
        if old:
            self._drop_blob_if_unused(old[0][0])

    def _drop_blob_if_unused(self, digest: str) -> None:
        with self._blob_lock:
            if self._holds[digest] or self._rows(BLOB_IN_USE, digest):
                return
            (self.blobs / digest).unlink(missing_ok=True)

    def hold_blob(self, digest: str) -> None:
        """Keep a blob while something reads from it, even once no object row uses it."""
        with self._blob_lock:
            self._holds[digest] += 1

    def release_blob(self, digest: str) -> None:
        with self._blob_lock:
            self._holds[digest] -= 1
            if self._holds[digest] <= 0:
                del self._holds[digest]
        self._drop_blob_if_unused(digest)

    def _drop_orphan_blobs(self) -> None:
        """Blobs no row uses: held by an older version when the process died, or half written."""
        used = {digest for (digest,) in self._rows("SELECT DISTINCT sha256 FROM objects")}
        for blob in self.blobs.iterdir():
            if blob.name not in used:
                blob.unlink(missing_ok=True)

    def objects(self) -> Iterator[StoredObject]:
        for row in self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects ORDER BY bucket, key"):
            yield self._stored_object(*row)

    def object(self, bucket: str, key: str) -> StoredObject | None:
        rows = self._rows(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?", bucket, key)
        return self._stored_object(*rows[0]) if rows else None

    def has_object(self, bucket: str, key: str) -> bool:
        return bool(self._rows("SELECT 1 FROM objects WHERE bucket = ? AND key = ?", bucket, key))

    def object_names(self, bucket: str, prefix: str = "") -> list[str]:
        """The keys of `bucket` starting with `prefix`, in S3's order (UTF-8 bytes, which SQLite's
        BINARY collation compares): a range of the primary key's index, not a scan."""
        above = _names_above(prefix)
        if above is None:
            rows = self._rows("SELECT key FROM objects WHERE bucket = ? AND key >= ? ORDER BY key", bucket, prefix)
        else:
            rows = self._rows(
                "SELECT key FROM objects WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key", bucket, prefix, above
            )
        return [key for (key,) in rows]

    def _stored_object(
        self,
        bucket: str,
        key: str,
        digest: str,
        etag: str,
        version_id: str | None,
        metadata: str,
        when: str,
        *checksum: str | None,
    ) -> StoredObject:
        return StoredObject(bucket, key, self.blobs / digest, etag, version_id, json.loads(metadata), when, *checksum)

    # -- DynamoDB ----------------------------------------------------------------------

    def put_item(self, table: str, key: dict[str, Any], item: dict[str, Any]) -> None:
        self._write(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?)",
            table,
            json.dumps(key, sort_keys=True),
            json.dumps(item, default=_wire_blob),
        )
        for watcher in self._item_watchers:
            watcher(table, item)

    def watch_items(self, watcher: Callable[[str, dict[str, Any]], None]) -> None:
        """Call `watcher(table, item)` after each item written from now on (the item in
        DynamoDB's typed JSON), so a reader follows changes instead of scanning tables."""
        self._item_watchers.append(watcher)

    def delete_item(self, table: str, key: dict[str, Any]) -> None:
        self._write("DELETE FROM items WHERE table_name = ? AND item_key = ?", table, json.dumps(key, sort_keys=True))

    def item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        """One item (DynamoDB's typed JSON) by its key, as last written."""
        rows = self._rows(
            "SELECT item FROM items WHERE table_name = ? AND item_key = ?", table, json.dumps(key, sort_keys=True)
        )
        return json.loads(rows[0][0]) if rows else None

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for table, item in self._rows("SELECT table_name, item FROM items ORDER BY table_name, item_key"):
            yield table, json.loads(item)

    def has_item(self, table: str, key: dict[str, Any]) -> bool:
        return bool(
            self._rows(
                "SELECT 1 FROM items WHERE table_name = ? AND item_key = ?", table, json.dumps(key, sort_keys=True)
            )
        )

    def item_keys(self, table: str) -> list[dict[str, Any]]:
        return [json.loads(key) for (key,) in self._rows("SELECT item_key FROM items WHERE table_name = ?", table)]

    def table_items(self, table: str) -> Iterator[dict[str, Any]]:
        """Every item of one table (a Scan), in the order of their keys."""
        for (item,) in self._rows("SELECT item FROM items WHERE table_name = ? ORDER BY item_key", table):
            yield json.loads(item)

    def index_page(
        self, order: ItemOrder, index_hash: str, start: tuple[str, str] | None, forward: bool, count: int
    ) -> list[str]:
        """The table hash values of `count` items of `order.table` whose `order.hash_attr` is
        `index_hash`, in (range, table hash) order from `start` (included) in the direction
        asked: a range of the order's expression index (`index_items_by`), not a scan."""
        hash_at, range_at, table_at = order.expressions()
        where = f"table_name = ? AND {hash_at} = ? AND {range_at} IS NOT NULL"  # a sparse index
        params: list[Any] = [order.table, index_hash]
        if start is not None:
            where += f" AND ({range_at}, {table_at}) {'>=' if forward else '<='} (?, ?)"
            params += list(start)
        direction = "ASC" if forward else "DESC"
        ordered = f"ORDER BY {range_at} {direction}, {table_at} {direction}"
        return [
            value
            for (value,) in self._rows(f"SELECT {table_at} FROM items WHERE {where} {ordered} LIMIT ?", *params, count)
        ]

    def index_items_by(self, order: ItemOrder) -> None:
        """The expression index `index_page` reads (made once per order, in any format-2 dir)."""
        hash_at, range_at, table_at = order.expressions()
        with self._lock:
            columns = f"table_name, {hash_at}, {range_at}, {table_at}"
            self._db.execute(f'CREATE INDEX IF NOT EXISTS "{order.index_name()}" ON items ({columns})')

    # -- Step Functions ----------------------------------------------------------------

    def start_execution(self, arn: str, state_machine_arn: str, name: str, execution_input: str, start: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO executions (arn, state_machine_arn, name, input, start_date) VALUES (?, ?, ?, ?, ?)",
            arn,
            state_machine_arn,
            name,
            execution_input,
            start,
        )

    def add_event(self, arn: str, event: dict[str, Any]) -> None:
        self._write(
            "INSERT OR REPLACE INTO events VALUES (?, ?, ?)", arn, int(event["id"]), json.dumps(event, default=str)
        )

    def finish_execution(
        self, arn: str, status: str, stop: str, output: str | None, error: str | None, cause: str | None
    ) -> bool:
        """Record how an execution ended; False if it was never recorded (a Map's child)."""
        changed = self._write(
            "UPDATE executions SET status = ?, stop_date = ?, output = ?, error = ?, cause = ? WHERE arn = ?",
            status,
            stop,
            output,
            error,
            cause,
            arn,
        )
        return changed > 0

    def execution_data(self, arn: str) -> tuple[str, str | None]:
        """An execution's input and output (JSON text), as recorded."""
        ((execution_input, output),) = self._rows("SELECT input, output FROM executions WHERE arn = ?", arn)
        return execution_input, output

    def reopen_execution(self, arn: str) -> None:
        """A redriven execution runs again: RUNNING, no stop date, output or error."""
        self._write(
            "UPDATE executions SET status = 'RUNNING', stop_date = NULL, output = NULL, error = NULL, cause = NULL "
            "WHERE arn = ?",
            arn,
        )

    def execution(self, arn: str) -> StoredExecution | None:
        """One execution's row, without its output (`_EXECUTION_COLUMNS`)."""
        rows = self._rows(f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE arn = ?", arn)
        return StoredExecution(*rows[0]) if rows else None

    def execution_named(self, state_machine_arn: str, name: str) -> StoredExecution | None:
        rows = self._rows(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE state_machine_arn = ? AND name = ?",
            state_machine_arn,
            name,
        )
        return StoredExecution(*rows[0]) if rows else None

    def execution_page(
        self, state_machine_arn: str, status: str | None, from_arn: str | None, limit: int
    ) -> list[ListedExecution] | None:
        """Up to `limit` executions of the state machine, newest first (of equal start dates, the
        last recorded first: the order the index holds, no sort), from `from_arn`'s on (itself
        included): None if it has no row."""
        where, params = ["state_machine_arn = ?"], [state_machine_arn]
        if status:
            where.append("status = ?")
            params.append(status)
        if from_arn is not None:
            place = self._rows("SELECT start_date, rowid FROM executions WHERE arn = ?", from_arn)
            if not place:
                return None
            where.append("(start_date < ? OR (start_date = ? AND rowid <= ?))")
            params += [place[0][0], place[0][0], place[0][1]]
        rows = self._rows(
            "SELECT arn, name, start_date, status, stop_date FROM executions "
            f"WHERE {' AND '.join(where)} ORDER BY start_date DESC, rowid DESC LIMIT ?",
            *params,
            limit,
        )
        return [ListedExecution(*row) for row in rows]

    def executions(self) -> list[StoredExecution]:
        """Every execution, oldest first, without its output (`_EXECUTION_COLUMNS`)."""
        rows = self._rows(f"SELECT {_EXECUTION_COLUMNS} FROM executions ORDER BY start_date")
        return [StoredExecution(*row) for row in rows]

    def events(self, arn: str) -> list[dict[str, Any]]:
        return self.events_window(arn, 0, -1, newest_first=False)  # LIMIT -1: all of them

    def event_count(self, arn: str) -> int:
        ((count,),) = self._rows("SELECT COUNT(*) FROM events WHERE arn = ?", arn)
        return int(count)

    def events_window(self, arn: str, offset: int, size: int, newest_first: bool) -> list[dict[str, Any]]:
        """`size` events (-1: all) from the `offset`-th, oldest or newest first: one page of a
        history, decoding that page only."""
        order = "DESC" if newest_first else "ASC"
        rows = self._rows(
            f"SELECT event FROM events WHERE arn = ? ORDER BY id {order} LIMIT ? OFFSET ?", arn, size, offset
        )
        return [json.loads(event) for (event,) in rows]

    # -- CloudWatch Logs -----------------------------------------------------------------

    def add_log_events(self, stream: str, events: list[tuple[int, int, int, str]]) -> None:
        """(event id, ingestion time, timestamp, message) of each event put into `stream`."""
        with self._lock, self._db:  # one transaction for the batch, not one per event
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO log_events VALUES (?, ?, ?, ?, ?)", [(stream, *event) for event in events]
            )

    def log_events(
        self, stream: str, since: int | None = None, until: int | None = None
    ) -> list[tuple[int, int, int, str]]:
        """A stream's events in the order they were put, those stamped `since`..`until` (ms,
        both included) when given."""
        where, bounds = "stream = ?", [stream]
        if since is not None:
            where, bounds = where + " AND timestamp >= ?", [*bounds, since]
        if until is not None:
            where, bounds = where + " AND timestamp <= ?", [*bounds, until]
        rows = self._rows(
            f"SELECT event_id, ingestion_time, timestamp, message FROM log_events WHERE {where} ORDER BY event_id",
            *bounds,
        )
        return [
            (int(event_id), int(ingestion), int(timestamp), message) for event_id, ingestion, timestamp, message in rows
        ]

    def log_event_count(self, stream: str) -> int:
        ((count,),) = self._rows("SELECT COUNT(*) FROM log_events WHERE stream = ?", stream)
        return int(count)

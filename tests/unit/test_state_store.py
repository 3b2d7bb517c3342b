"""The local runtime's durable store: format version, moving, object bytes shared and dropped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mediaflow.state_store import (
    BLOB_IN_USE,
    FORMAT_VERSION,
    IncompatibleStateDir,
    ItemOrder,
    ListedExecution,
    StateStore,
)


def test_objects_items_and_executions_survive_reopening_from_another_place(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "a")
    store.put_object(
        "b", "uploads/x.jpg", b"bytes", "etag1", None, {"Content-Type": "image/jpeg"}, "2026-11-30T12:00:00.000Z"
    )
    store.put_item("jobs", {"jobId": {"S": "1"}}, {"jobId": {"S": "1"}, "status": {"S": "RUNNING"}})
    store.start_execution("arn:x", "arn:sm", "x", '{"a": 1}', "2026-11-30T12:00:00.000Z")
    store.add_event("arn:x", {"id": 1, "type": "ExecutionStarted"})
    store.close()
    (tmp_path / "a").rename(tmp_path / "moved")

    reopened = StateStore(tmp_path / "moved")
    (obj,) = reopened.objects()
    assert (obj.key, obj.etag, obj.metadata, obj.path.read_bytes()) == (
        "uploads/x.jpg",
        "etag1",
        {"Content-Type": "image/jpeg"},
        b"bytes",
    )
    assert list(reopened.items()) == [("jobs", {"jobId": {"S": "1"}, "status": {"S": "RUNNING"}})]
    (execution,) = reopened.executions()
    assert (execution.status, execution.input) == ("RUNNING", '{"a": 1}')
    assert reopened.events("arn:x") == [{"id": 1, "type": "ExecutionStarted"}]


def test_equal_bytes_are_stored_once_and_dropped_with_their_last_object(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    for key in ("one", "two"):
        store.put_object("b", key, b"same", "e", None, {}, "t")
    assert len(list(store.blobs.iterdir())) == 1
    store.delete_object("b", "one")
    assert len(list(store.blobs.iterdir())) == 1
    store.put_object("b", "two", b"other", "e2", None, {}, "t")  # overwritten: the old bytes go
    assert [p.read_bytes() for p in store.blobs.iterdir()] == [b"other"]


def test_another_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    StateStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "state.sqlite3") as database:
        database.execute("UPDATE meta SET value = ? WHERE name = 'format'", (str(FORMAT_VERSION + 1),))
    with pytest.raises(
        IncompatibleStateDir, match=f"format {FORMAT_VERSION + 1}.*reads format {FORMAT_VERSION}.*--fresh"
    ):
        StateStore(tmp_path)


# Format 1's objects table, as MediaFlow wrote it before objects kept their checksum.
_FORMAT_1_OBJECTS = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('format', '1');
CREATE TABLE objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, sha256 TEXT NOT NULL, etag TEXT NOT NULL,
    version_id TEXT, metadata TEXT NOT NULL, last_modified TEXT NOT NULL, PRIMARY KEY (bucket, key));
"""


def test_a_format_1_dir_is_upgraded_in_place_and_keeps_its_objects(tmp_path: Path) -> None:
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "d1").write_bytes(b"old bytes")
    with sqlite3.connect(tmp_path / "state.sqlite3") as database:
        database.executescript(_FORMAT_1_OBJECTS)
        database.execute(
            "INSERT INTO objects VALUES ('b', 'uploads/old.jpg', 'd1', 'e1', 'v1', '{}', '2026-11-30T12:00:00.000Z')"
        )
    store = StateStore(tmp_path)
    (old,) = store.objects()
    assert (old.key, old.version_id, old.path.read_bytes(), old.checksum_algorithm) == (
        "uploads/old.jpg",
        "v1",
        b"old bytes",
        None,
    )
    store.put_object("b", "new.jpg", b"new", "e2", None, {}, "2026-12-01T00:00:00.000Z", ("SHA256", "c2hh"))
    store.set_object_checksum("b", "uploads/old.jpg", "CRC32", "Y3Jj")
    store.close()
    reopened = StateStore(tmp_path)  # format 2 now: opened as it is
    assert [(o.key, o.checksum_algorithm, o.checksum_value) for o in reopened.objects()] == [
        ("new.jpg", "SHA256", "c2hh"),
        ("uploads/old.jpg", "CRC32", "Y3Jj"),
    ]
    assert reopened._rows("SELECT value FROM meta WHERE name = 'format'") == [(str(FORMAT_VERSION),)]


def test_wipe_removes_the_state_but_not_the_emails(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.put_object("b", "k", b"x", "e", None, {}, "t")
    store.close()
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "sent.eml").write_text("x")
    StateStore.wipe(tmp_path)
    assert list(StateStore(tmp_path).objects()) == [] and (tmp_path / "outbox" / "sent.eml").exists()


def test_a_held_blob_outlives_its_object_and_orphans_go_at_the_next_open(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    when = "2026-12-01T00:00:00.000Z"
    digest = store.put_object("b", "k", b"old", "e1", None, {}, when)
    store.hold_blob(digest)  # a reader (an older version's key) still uses it
    store.put_object("b", "k", b"new", "e2", None, {}, when)
    assert store.blob_path(digest).read_bytes() == b"old"
    store.release_blob(digest)
    assert not store.blob_path(digest).exists()

    held = store.put_object("b", "k", b"newer", "e3", None, {}, when)
    store.hold_blob(held)
    store.delete_object("b", "k")
    (tmp_path / "objects" / ".half-written.partial").write_bytes(b"x")
    store.close()  # the process ends while the blob is held: nobody releases it

    StateStore(tmp_path)
    assert list((tmp_path / "objects").iterdir()) == [], "orphans are removed when the dir is opened"


def test_a_history_is_read_a_window_at_a_time(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.start_execution("arn:e", "arn:sm", "e", "{}", "2026-12-01T00:00:00+00:00")
    store.start_execution("arn:other", "arn:sm", "other", "{}", "2026-12-01T00:00:00+00:00")
    for number in range(1, 8):
        store.add_event("arn:e", {"id": number, "type": f"T{number}", "timestamp": "2026-12-01T00:00:00+00:00"})
    store.add_event("arn:other", {"id": 1, "type": "Other", "timestamp": "2026-12-01T00:00:00+00:00"})
    assert store.event_count("arn:e") == 7 and store.event_count("arn:nothing") == 0
    assert [e["id"] for e in store.events_window("arn:e", 0, 3, newest_first=False)] == [1, 2, 3]
    assert [e["id"] for e in store.events_window("arn:e", 6, 3, newest_first=False)] == [7]
    assert [e["id"] for e in store.events_window("arn:e", 2, 2, newest_first=True)] == [5, 4]
    assert store.events_window("arn:e", 7, 3, newest_first=False) == []
    assert [e["id"] for e in store.events("arn:e")] == list(range(1, 8))


def test_whether_a_blob_is_in_use_is_read_from_an_index_not_every_object(tmp_path: Path) -> None:
    """The bug: releasing a blob (every overwrite, delete, finished read, key put to rest) asked
    SQLite for any object using it with a scan of the whole objects table, so each job cost more
    than the one before. The fix indexes objects by blob, also in a state dir made before it."""
    store = StateStore(tmp_path)
    for number in range(3):
        store.put_object("b", f"k{number}", f"{number}".encode(), "e", None, {}, "2026-01-01T00:00:00Z")
    store.close()
    database = sqlite3.connect(tmp_path / "state.sqlite3")
    database.execute("DROP INDEX objects_by_blob")  # a dir written before the index
    plan = " ".join(row[-1] for row in database.execute(f"EXPLAIN QUERY PLAN {BLOB_IN_USE}", ("x",)))
    assert "SCAN objects" in plan, "the bug: a scan of every object"
    database.close()

    reopened = StateStore(tmp_path)
    plan = " ".join(row[-1] for row in reopened._rows(f"EXPLAIN QUERY PLAN {BLOB_IN_USE}", "x"))
    assert "USING COVERING INDEX objects_by_blob" in plan
    reopened.delete_object("b", "k0")  # its blob goes, the others' stay
    assert sorted(p.read_bytes() for p in reopened.blobs.iterdir()) == [b"1", b"2"]
    reopened.close()


def test_executions_are_found_by_arn_name_and_page_newest_first_without_their_outputs(tmp_path: Path) -> None:
    """What ListExecutions and the lookups of executions at rest read: a page newest first (of equal
    start dates, the last recorded first) from a token's execution on, filtered by status; and a
    restart's list of every execution, which leaves each output (a job's results) in the store."""
    store = StateStore(tmp_path)
    starts = ["2026-12-02T10:00:00.000Z", "2026-12-02T10:00:01.000Z", "2026-12-02T10:00:01.000Z"]
    for number, start in enumerate(starts):
        store.start_execution(f"arn:e{number}", "arn:sm", f"e{number}", "{}", start)
    store.start_execution("arn:other", "arn:sm2", "e0", "{}", "2026-12-02T11:00:00.000Z")
    store.finish_execution("arn:e0", "SUCCEEDED", "2026-12-02T10:00:02.000Z", '{"big": "results"}', None, None)

    def arns(page: list[ListedExecution] | None) -> list[str] | None:
        return None if page is None else [listed.arn for listed in page]

    assert arns(store.execution_page("arn:sm", None, None, 10)) == ["arn:e2", "arn:e1", "arn:e0"]
    assert arns(store.execution_page("arn:sm", None, "arn:e1", 10)) == ["arn:e1", "arn:e0"]
    assert arns(store.execution_page("arn:sm", "RUNNING", None, 1)) == ["arn:e2"]
    assert arns(store.execution_page("arn:sm", "SUCCEEDED", None, 10)) == ["arn:e0"]
    assert store.execution_page("arn:sm", None, "arn:missing", 10) is None
    (first,) = store.execution_page("arn:sm", "SUCCEEDED", None, 10) or []
    assert (first.name, first.status, first.stop_date) == ("e0", "SUCCEEDED", "2026-12-02T10:00:02.000Z")
    named = store.execution_named("arn:sm2", "e0")
    assert named is not None and named.arn == "arn:other"
    assert store.execution("arn:nothing") is None and store.execution_named("arn:sm", "nothing") is None
    assert [execution.output for execution in store.executions()] == [None] * 4
    at_rest = store.execution("arn:e0")
    assert at_rest is not None and (at_rest.status, at_rest.output) == ("SUCCEEDED", None), "read when asked"
    assert store.execution_data("arn:e0") == ("{}", '{"big": "results"}')


def test_object_names_are_a_prefix_range_in_s3_order_read_from_the_index(tmp_path: Path) -> None:
    """S3 lists keys in UTF-8 byte order; the store's names for a bucket or a prefix come back
    in that order, read as a range of the primary key (keys_at_rest lists resting keys so)."""
    store = StateStore(tmp_path)
    names = ["a", "a/", "a/b", "a/b\U0010ffff", "a/c", "a0", "a\ud7ffz", "a\ue000", "b", "é", "😀", "\U0010ffff"]
    for name in reversed(names):
        store.put_object("bkt", name, b"x", "etag", None, {}, "2026-12-02T00:00:00.000Z")
    store.put_object("other", "a/b", b"x", "etag", None, {}, "2026-12-02T00:00:00.000Z")

    assert store.object_names("bkt") == sorted(names, key=lambda name: name.encode())
    assert store.object_names("bkt") == sorted(names)  # code point order is UTF-8 byte order
    for prefix in ("a", "a/", "a/b", "a\ud7ff", "é", "\U0010ffff", "zz", ""):
        assert store.object_names("bkt", prefix) == [name for name in sorted(names) if name.startswith(prefix)]
    assert store.has_object("bkt", "a/b") and not store.has_object("bkt", "a/d")
    plan = store._rows(
        "EXPLAIN QUERY PLAN SELECT key FROM objects WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key",
        "b",
        "a",
        "b",
    )
    assert any("SEARCH objects USING COVERING INDEX" in str(step) and "key>? AND key<?" in str(step) for step in plan)


def test_an_index_page_is_read_from_an_expression_index_over_the_rows(tmp_path: Path) -> None:
    """items_at_rest reads a GSI page of resting items from the rows: (hash, range, table hash)
    order, the start item included, items without the range key left out (a sparse index)."""
    store = StateStore(tmp_path)
    order = ItemOrder("jobs", "recordType", "startedAt", "jobId")
    store.index_items_by(order)
    started = {"a": "t1", "b": "t2", "c": "t2", "d": "t3", "e": None, "f": "t0"}
    for job, at in started.items():
        item = {"jobId": {"S": job}, "recordType": {"S": "other" if job == "f" else "job"}}
        if at is not None:
            item["startedAt"] = {"S": at}
        store.put_item("jobs", {"jobId": {"S": job}}, item)
    store.put_item(
        "others", {"jobId": {"S": "z"}}, {"jobId": {"S": "z"}, "recordType": {"S": "job"}, "startedAt": {"S": "t1"}}
    )

    assert store.index_page(order, "job", None, True, 10) == ["a", "b", "c", "d"]
    assert store.index_page(order, "job", None, False, 2) == ["d", "c"]
    assert store.index_page(order, "job", ("t2", "b"), True, 2) == ["b", "c"]
    assert store.index_page(order, "job", ("t2", "c"), False, 3) == ["c", "b", "a"]
    plan = " ".join(
        str(step)
        for step in store._rows(
            "EXPLAIN QUERY PLAN SELECT 1 FROM items WHERE table_name = ? AND "
            + " = ? AND ".join(order.expressions()[:1])
            + " = ? ORDER BY "
            + ", ".join(order.expressions()[1:]),
            "jobs",
            "job",
        )
    )
    assert f"USING INDEX {order.index_name()}" in plan and "TEMP B-TREE" not in plan, plan
    assert not ItemOrder("jobs", 'a"b', "startedAt", "jobId").plain()

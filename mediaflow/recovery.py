"""After a restart: put the durable state back into the emulator, then finish what a crash cut short.

1. Objects and items go back into moto as they were (ETag, version id, metadata), with no
   "Object Created" events: restoring is not uploading.
2. Finished executions go back with their histories (the console, the page and the AWS CLI
   show them as before).
3. An execution that was RUNNING when the process died is **redriven**, as AWS's
   RedriveExecution does it: the same execution (ARN, input, start time) runs again from the
   top-level state that had not finished, with that state's recorded input, its history kept
   and continued after an ExecutionRedriven event. Each state re-run is one MediaFlow already
   makes safe to repeat (Lambda tasks retry; RecordJob lets the same execution through).
4. An upload with no job record whose execution never started (the crash came between the
   object landing and its event) gets its "Object Created" event again.

The idempotency record decides duplicates either way: a second delivery ends in DuplicateEvent.
Each recovered job is said in one line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from moto.dynamodb.models import dynamodb_backends
from moto.s3 import notifications as s3_notifications
from moto.s3.models import s3_backends

from mediaflow import moto_patches
from mediaflow.moto_patches import items_at_rest, keys_at_rest
from mediaflow.state_store import StateStore
from mediaflow.template import ACCOUNT_ID, REGION
from mediaflow_shared.contract.job import job_from_event, job_id_for
from mediaflow_shared.contract.record import EXECUTION_RUNNING

_log = logging.getLogger(__name__)


@dataclass
class Recovered:
    objects: int = 0
    items: int = 0
    executions: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return len(self.lines)


def restore_objects(store: StateStore) -> int:
    """Every stored object back in its bucket, at rest: the bucket's key store reads its names
    and rows from the store when asked (moto_patches/keys_at_rest.py), so a restart reads no
    bytes and builds no key. A row whose bytes are gone (a state dir tampered with) is dropped,
    said in the log: it could not be read anyway."""
    backend = s3_backends[ACCOUNT_ID]["aws"]
    count = 0
    resting_in: set[str] = set()
    for stored in store.objects():
        if stored.bucket not in backend.buckets:
            continue
        if not stored.path.exists():
            _log.warning("s3://%s/%s lost its bytes (%s is missing): dropped", stored.bucket, stored.key, stored.path)
            store.delete_object(stored.bucket, stored.key)
            continue
        if stored.bucket not in resting_in:
            keys: keys_at_rest.RestingKeyStore = backend.buckets[stored.bucket].keys  # every bucket, once patched
            keys.rest_in(store)
            resting_in.add(stored.bucket)
        count += 1
    return count


def restore_items(store: StateStore) -> int:
    """Every item back in its table: at rest where the table keeps items at rest (nothing built,
    not even its key: the table reads its rows when asked), else put as moto holds it."""
    backend = dynamodb_backends[ACCOUNT_ID][REGION]
    count = 0
    resting_in: set[str] = set()
    for table_name, item in store.items():
        table = backend.get_table(table_name)
        if isinstance(table.items, items_at_rest.RestingItems) and table.items.can_rest:
            table.items.restored(item)
            if table_name not in resting_in:
                table.items.rest_in(store)
                resting_in.add(table_name)
        else:
            backend.put_item(table_name, item)
        count += 1
    return count


def _upload_of(execution_input: str) -> tuple[str, str, str] | None:
    """(bucket, key, etag) of the upload an execution's input event names, as the job contract reads it."""
    try:
        job = job_from_event(json.loads(execution_input), "", "")
    except (KeyError, TypeError, AttributeError):  # not an S3 "Object Created" event
        return None
    return job["bucket"], job["key"], job["etag"]


def restart_unstarted_uploads(
    store: StateStore, jobs_table: str, upload_prefix: str, started: set[tuple[str, str, str]]
) -> list[str]:
    """Uploads whose event never reached Step Functions: their "Object Created" event again."""
    recorded = {item["jobId"]["S"] for table, item in store.items() if table == jobs_table and "jobId" in item}
    backend = s3_backends[ACCOUNT_ID]["aws"]
    lines = []
    for stored in store.objects():
        upload = (stored.bucket, stored.key, stored.etag)
        if not stored.key.startswith(upload_prefix) or upload in started:
            continue
        if job_id_for(*upload) in recorded or stored.bucket not in backend.buckets:
            continue
        bucket = backend.get_bucket(stored.bucket)
        key = bucket.keys.get(stored.key)
        if key is None:
            continue
        s3_notifications.send_event(
            ACCOUNT_ID, s3_notifications.S3NotificationEvent.OBJECT_CREATED_PUT_EVENT, bucket, key
        )
        lines.append(
            f"recovered upload s3://{stored.bucket}/{stored.key}: its event is sent again (no execution had started)"
        )
    return lines


def restore_and_recover(store: StateStore, jobs_table: str, upload_prefix: str) -> Recovered:
    """Steps 1 to 4 above; the emulator and the Lambda workers must already be serving."""
    recovered = Recovered()
    moto_patches.persist_to(None)  # what is put back is already stored
    try:
        recovered.objects = restore_objects(store)
        recovered.items = restore_items(store)
        interrupted = []
        executions = store.executions()
        for stored in executions:
            if stored.status == EXECUTION_RUNNING:
                interrupted.append((stored, store.events(stored.arn)))
            else:  # its history is read from the store when asked for, not held in memory
                moto_patches.restore_execution(stored, store)
                recovered.executions += 1
    finally:
        moto_patches.persist_to(store)
    for stored, events in interrupted:
        upload = _upload_of(stored.input)
        state = moto_patches.run_again(
            stored.arn,
            stored.state_machine_arn,
            stored.name,
            stored.input,
            datetime.fromisoformat(stored.start_date),
            events,
        )
        what = f"s3://{upload[0]}/{upload[1]}" if upload else stored.name
        recovered.lines.append(f"recovered job for {what}: execution {stored.name} redriven from {state}")
    started = {upload for stored in executions if (upload := _upload_of(stored.input))}
    recovered.lines += restart_unstarted_uploads(store, jobs_table, upload_prefix, started)
    return recovered

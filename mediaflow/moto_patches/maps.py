"""Distributed Map as AWS runs it (AWS: "Using Map state in Distributed mode").

moto 5.2.5's Distributed Map differs where it matters most to MediaFlow:
- ToleratedFailureCount/ToleratedFailurePercentage are not enforced: children fail, their
  results become null and the Map succeeds, so a Catch on the Map never fires. Here a Map Run
  whose failures exceed the threshold (0 unless set) fails with
  States.ExceedToleratedFailureThreshold.
- An integer ToleratedFailurePercentage (`20`) is a parse error; AWS takes any number 0-100.
- ItemBatcher is not in moto's grammar (a parse error). Here its MaxItemsPerBatch,
  MaxInputBytesPerBatch and BatchInput group the items, each child's input being
  `{"BatchInput": …, "Items": [...]}`.
- ResultWriter writes only an empty manifest. Here it writes AWS's result files
  (SUCCEEDED_n.json, FAILED_n.json: one record per child execution) and lists them in the
  manifest with their sizes.
- An S3 listing (ItemReader `s3:listObjectsV2`) yields boto3's object shape; AWS gives
  `{"Etag", "Key", "LastModified" (epoch seconds), "Size", "StorageClass"}`.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
    ResourceEvalS3 as ReaderEvalS3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import distributed_iteration_component
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from mediaflow.moto_patches.definitions import walk_states
from mediaflow.moto_patches.failures import state_failure
from mediaflow.moto_patches.limits import drop_finished_threads

BATCH_LIMIT_BYTES = 256 * 1024
# A child's status, as Step Functions spells it in result files (moto's enum: these are AWS's words).
SUCCEEDED = ExecutionStatus.SUCCEEDED.value
FAILED = ExecutionStatus.FAILED.value
_records_lock = threading.Lock()


# -- The definition: what moto's grammar cannot read is taken out before parsing -------------


def normalise(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rewrites `definition` in place for moto's parser; returns each Map state's ItemBatcher by name."""
    batchers: dict[str, dict[str, Any]] = {}
    for _path, name, state, _language in walk_states(definition):
        if state.get("Type") != "Map":
            continue
        percentage = state.get("ToleratedFailurePercentage")
        if isinstance(percentage, int) and not isinstance(percentage, bool):
            state["ToleratedFailurePercentage"] = float(percentage)
        if "ItemBatcher" in state:
            batchers[name] = state.pop("ItemBatcher")
    return batchers


original_parse = asl_parser.AmazonStateLanguageParser.parse


def _parse(definition: str) -> Any:
    try:
        parsed = json.loads(definition)
    except ValueError:
        return original_parse(definition)
    batchers = normalise(parsed) if isinstance(parsed, dict) else {}
    program, tree = original_parse(json.dumps(parsed))
    for state_map in _state_maps(program):
        if state_map.name in batchers:
            state_map.iteration_component.item_batcher = batchers[state_map.name]
        # Each child's record is kept only for a ResultWriter's files (10,000 records are ~50 MB).
        state_map.iteration_component.writes_results = state_map.result_writer is not None
    return program, tree


def _state_maps(component: Any, seen: set[int] | None = None) -> list[StateMap]:
    """Every Map state in a parsed program."""
    seen = seen if seen is not None else set()
    if id(component) in seen:
        return []
    seen.add(id(component))
    found = [component] if isinstance(component, StateMap) else []
    children = component.values() if isinstance(component, dict) else component if isinstance(component, list) else None
    if children is None:
        children = vars(component).values() if isinstance(component, Component) else []
    for child in children:
        if isinstance(child, Component | list | dict):
            found += _state_maps(child, seen)
    return found


# -- Batching, tolerance and per-child records ----------------------------------------------


def batches(items: list[Any], batcher: dict[str, Any], batch_input: Any) -> list[dict[str, Any]]:
    """Items grouped as ItemBatcher says: at most MaxItemsPerBatch items and MaxInputBytesPerBatch
    bytes (of the child's input, as compact JSON) each."""
    max_items = batcher.get("MaxItemsPerBatch") or len(items) or 1
    max_bytes = min(batcher.get("MaxInputBytesPerBatch") or BATCH_LIMIT_BYTES, BATCH_LIMIT_BYTES)

    def child_input(group: list[Any]) -> dict[str, Any]:
        return {"BatchInput": batch_input, "Items": group} if batch_input is not None else {"Items": group}

    # The child's input is its empty shape plus each item's JSON and a comma between items:
    # summed as items are added, not serialised again for every item.
    empty = len(json.dumps(child_input([]), separators=(",", ":")).encode())
    grouped: list[dict[str, Any]] = []
    current: list[Any] = []
    size = empty
    for item in items:
        item_size = len(json.dumps(item, separators=(",", ":")).encode())
        grown = size + item_size + (1 if current else 0)
        if current and (len(current) + 1 > max_items or grown > max_bytes):
            grouped.append(child_input(current))
            current, grown = [], empty + item_size
        current.append(item)
        size = grown
    if current:
        grouped.append(child_input(current))
    return grouped


def threshold_exceeded(failed: int, total: int, count: int, percentage: float) -> bool:
    """AWS fails the Map Run when failures pass either threshold that is set (both unset: any failure)."""
    if failed == 0:
        return False
    if count == 0 and percentage == 0:
        return True
    over_count = count > 0 and failed > count
    over_percentage = percentage > 0 and failed * 100.0 / max(total, 1) > percentage
    return over_count or over_percentage


def _exceeded(env: Any) -> FailureEventException:
    return state_failure(
        env,
        StatesErrorNameType.StatesExceedToleratedFailureThreshold,
        "The specified tolerated failure threshold was exceeded",
        HistoryEventType.MapStateFailed,
    )


original_map_run = distributed_iteration_component.DistributedIterationComponent._map_run


def _map_run(self: Any, env: Any, eval_input: Any) -> None:
    batcher = getattr(self, "item_batcher", None)
    if batcher is not None:
        items = env.stack.pop()
        batch_input = _batch_input(env, batcher)
        env.stack.append(batches(items, batcher, batch_input))
    record = eval_input.map_run_record
    record.child_results = [] if getattr(self, "writes_results", False) else None
    total = len(env.stack[-1])
    try:
        original_map_run(self, env, eval_input)
    finally:
        drop_finished_threads()  # a Map Run's thousands of child threads, not at the execution's end

    failed = record.item_counter.failed.get()
    if threshold_exceeded(failed, total, record.tolerated_failure_count, record.tolerated_failure_percentage):
        env.stack.pop()
        raise _exceeded(env)


def _batch_input(env: Any, batcher: dict[str, Any]) -> Any:
    """BatchInput as written; `"key.$"` fields are taken from the state input (JSONPath; anything
    else in a `.$` field is refused at CreateStateMachine: definitions.UNSUPPORTED)."""
    written = batcher.get("BatchInput")
    if not isinstance(written, dict):
        return written
    state_input = env.states.get_input()
    return {
        (key[:-2] if key.endswith(".$") else key): (
            json_path.extract_json(value, state_input) if key.endswith(".$") else value
        )
        for key, value in written.items()
    }


original_eval_job = distributed_item_processor_worker.DistributedItemProcessorWorker._eval_job


def _eval_job(self: Any, env: Any, job: Any) -> None:
    """moto's child run, recording what AWS's result files list for each child."""
    started = datetime.now(UTC)
    original_eval_job(self, env, job)
    if job.job_index % 256 == 255:
        drop_finished_threads()  # a big Map Run's finished children, as it goes
    results = getattr(self._map_run_record, "child_results", None)
    if results is None:
        return
    state = env.program_state()
    record: dict[str, Any] = {"index": job.job_index, "input": copy.deepcopy(job.job_input), "start": started}
    if isinstance(state, ProgramError):
        details = state.error or {}
        record.update(status=FAILED, error=details.get("error"), cause=details.get("cause"))
    elif isinstance(state, ProgramStopped):
        record.update(status=ExecutionStatus.ABORTED.value)
    else:
        record.update(status=SUCCEEDED, output=copy.deepcopy(env.states.get_input()))
    record["stop"] = datetime.now(UTC)
    with _records_lock:
        results.append(record)


# -- ResultWriter -----------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def child_record(map_run_arn: str, result: dict[str, Any]) -> dict[str, Any]:
    """One child execution as AWS's SUCCEEDED_n.json / FAILED_n.json list it."""
    run_id = map_run_arn.split(":")[-1]
    state_machine = map_run_arn.replace(":mapRun:", ":stateMachine:").rsplit(":", 1)[0]
    name = f"{run_id[:8]}-{result['index']:05d}"
    record: dict[str, Any] = {
        "ExecutionArn": f"{state_machine.replace(':stateMachine:', ':execution:')}:{name}",
        "Input": json.dumps(result["input"], separators=(",", ":")),
        "InputDetails": {"Included": True},
        "Name": name,
        "RedriveCount": 0,
        "StartDate": _iso(result["start"]),
        "StateMachineArn": state_machine,
        "Status": result["status"],
        "StopDate": _iso(result["stop"]),
    }
    if result["status"] == SUCCEEDED:
        record["Output"] = json.dumps(result["output"], separators=(",", ":"))
        record["OutputDetails"] = {"Included": True}
        record["RedriveStatus"] = "NOT_REDRIVABLE"
        record["RedriveStatusReason"] = f"Execution is {SUCCEEDED} and cannot be redriven"
    else:
        record["Error"] = result.get("error")
        record["Cause"] = result.get("cause")
        record["RedriveStatus"] = "REDRIVABLE"
    return record


def _handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    parameters = env.stack.pop()
    env.stack.pop()  # the Map's own results: the files below replace them
    s3 = boto_client_for(service="s3", region=resource_runtime_part.region, state_credentials=state_credentials)
    record = env.map_run_record_pool_manager.get_all().pop()
    run_id = record.map_run_arn.split(":")[-1]
    prefix = parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    bucket = parameters["Bucket"]
    results = sorted(getattr(record, "child_results", None) or [], key=lambda result: result["index"])
    files: dict[str, list[dict[str, Any]]] = {FAILED: [], "PENDING": [], SUCCEEDED: []}
    for status in (SUCCEEDED, FAILED):
        records = [child_record(record.map_run_arn, result) for result in results if result["status"] == status]
        if not records:
            continue
        key = f"{prefix}{run_id}/{status}_0.json"
        body = json.dumps(records, separators=(",", ":")).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        files[status].append({"Key": key, "Size": len(body)})
    manifest_key = f"{prefix}{run_id}/manifest.json"
    manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": files}
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}})


# -- S3 listings --------------------------------------------------------------------------------


def listed_object(content: dict[str, Any]) -> dict[str, Any]:
    modified = content.get("LastModified")
    if isinstance(modified, datetime):
        modified = int(modified.timestamp())
    return {
        "Etag": content.get("ETag"),
        "Key": content.get("Key"),
        "LastModified": modified,
        "Size": content.get("Size"),
        "StorageClass": content.get("StorageClass", "STANDARD"),
    }


def apply() -> None:
    asl_parser.AmazonStateLanguageParser.parse = staticmethod(_parse)
    distributed_iteration_component.DistributedIterationComponent._map_run = _map_run
    distributed_item_processor_worker.DistributedItemProcessorWorker._eval_job = _eval_job
    ResourceEvalS3._handle_put_object = staticmethod(_handle_put_object)
    ReaderEvalS3._handle_list_objects_v2 = staticmethod(_handle_list_objects_v2)


def _handle_list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """Every page of the listing (moto read the first 1,000 keys, and failed on an empty prefix)."""
    s3 = boto_client_for(service="s3", region=resource_runtime_part.region, state_credentials=state_credentials)
    parameters = env.stack.pop()
    listed: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(**parameters):
        listed += [listed_object(content) for content in page.get("Contents", [])]
    env.stack.append(listed)

"""What one job cost, from its own execution history: one price table, one calculation.

Aggregate (success) and DiscardPartialOutputs (failure) call it at the end of a job, so the
figure lands on the job record, in the email and on the page; bench/cost_model.py prints the
same calculation over sample media. Counted from the history: every state entered (Standard
workflows bill each transition), every Lambda task (a request, and its duration as Step
Functions saw it times the function's memory at its architecture's price: an upper bound of
the billed duration, which only CloudWatch Logs' REPORT lines know). Counted from the job's
shape: the Distributed Map's child executions, the states still to come after the caller, S3
requests (each object the job writes or reads), DynamoDB writes and SNS publishes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import boto3

# US East (N. Virginia) list prices in USD, read 2026-11-30 from the pages docs/cost-model.md cites.
PRICES_AS_OF = "2026-11-30"
PRICE_STATE_TRANSITION = 0.025 / 1000  # Step Functions Standard
PRICE_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_LAMBDA_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
PRICE_S3_PUT = 0.005 / 1000  # PUT, COPY, POST, LIST
PRICE_S3_GET = 0.0004 / 1000  # GET, HEAD
PRICE_DYNAMODB_WRITE = 0.625 / 1_000_000  # on-demand write request unit
PRICE_SNS_PUBLISH = 0.50 / 1_000_000
# The peer the offline detector replaces (bench/cost_model.py compares): Rekognition Image
# DetectLabels and DetectText, first million images a month, per image.
PRICE_REKOGNITION_IMAGE = 1.00 / 1000

FunctionMemory = Callable[[str], tuple[int, str]]  # function name or ARN -> (MemorySize MB, architecture)


@dataclass(frozen=True)
class JobCost:
    transitions: int
    lambda_requests: int
    lambda_gb_seconds: float
    s3_puts: int
    s3_gets: int
    dynamodb_writes: int
    sns_publishes: int
    architecture: str = "arm64"

    @property
    def usd(self) -> float:
        return (
            self.transitions * PRICE_STATE_TRANSITION
            + self.lambda_requests * PRICE_LAMBDA_REQUEST
            + self.lambda_gb_seconds * PRICE_LAMBDA_GB_SECOND[self.architecture]
            + self.s3_puts * PRICE_S3_PUT
            + self.s3_gets * PRICE_S3_GET
            + self.dynamodb_writes * PRICE_DYNAMODB_WRITE
            + self.sns_publishes * PRICE_SNS_PUBLISH
        )

    @property
    def recorded_usd(self) -> float:
        """What the job record keeps: the summary people read is written from this figure, so the
        two never differ in the last digit shown (rounding `usd` twice could)."""
        return round(self.usd, 8)

    @property
    def summary(self) -> str:
        return describe_usd(self.recorded_usd)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "lambdaGbSeconds": round(self.lambda_gb_seconds, 4),
            "usd": self.recorded_usd,
            "pricesAsOf": PRICES_AS_OF,
        }


def describe_usd(usd: float) -> str:
    """ "$0.000312 ($0.31 per 1,000 jobs like it)": small figures people can compare."""
    return f"${usd:.6f} (${usd * 1000:.2f} per 1,000 jobs like it)"


def _lambda_tasks(events: list[Mapping[str, Any]]) -> Iterable[tuple[str, float]]:
    """(function, seconds from scheduled to finished) for every Lambda task in the history."""
    scheduled: dict[int, tuple[str, Any]] = {}
    by_id = {event["id"]: event for event in events}
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details and details.get("resourceType") == "lambda":
            function = json.loads(details.get("parameters") or "{}").get("FunctionName", "")
            scheduled[event["id"]] = (function, event["timestamp"])
            continue
        if event["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
            current = by_id.get(event.get("previousEventId"))
            while current is not None and current["id"] not in scheduled:
                current = by_id.get(current.get("previousEventId"))
            if current is not None:
                function, started = scheduled.pop(current["id"])
                yield function, max(0.001, (event["timestamp"] - started).total_seconds())


def job_cost(
    events: list[Mapping[str, Any]],
    memory_of: FunctionMemory,
    *,
    states_to_come: int,
    child_transitions: int,
    s3_puts: int,
    s3_gets: int,
    dynamodb_writes: int,
    sns_publishes: int,
) -> JobCost:
    """The job's cost: its history so far, plus what its shape says comes after it."""
    transitions = sum(1 for event in events if event["type"].endswith("StateEntered"))
    requests, gb_seconds, architecture = 0, 0.0, "arm64"
    for function, seconds in _lambda_tasks(events):
        memory_mb, architecture = memory_of(function)
        requests += 1
        gb_seconds += seconds * memory_mb / 1024
    return JobCost(
        transitions=transitions + states_to_come + child_transitions,
        lambda_requests=requests + 1,  # the caller's own invocation, still running
        lambda_gb_seconds=gb_seconds,
        s3_puts=s3_puts,
        s3_gets=s3_gets,
        dynamodb_writes=dynamodb_writes,
        sns_publishes=sns_publishes,
        architecture=architecture,
    )


# -- the job's own figures, at its end ----------------------------------------------------------

STATES_AFTER_AGGREGATE = 3  # RecordSuccess, NotifySuccess, Done
STATES_AFTER_DISCARD = 3  # RecordFailure, NotifyFailure, JobFailed
ARTEFACT_FRAMES_READ = 24  # at most: the contact sheet's tiles (annotated frames are among them)


@cache
def _client(service: str) -> Any:
    return boto3.client(service)


@cache
def _function_memory(function: str) -> tuple[int, str]:
    configuration = _client("lambda").get_function_configuration(FunctionName=function)
    return int(configuration["MemorySize"]), (configuration.get("Architectures") or ["x86_64"])[0]


def _history(execution_arn: str) -> list[dict[str, Any]]:
    pages = _client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def cost_at_success(document: Mapping[str, Any], results: Mapping[str, Any]) -> JobCost:
    """Called by Aggregate: the job so far, plus recording and notifying its success."""
    renditions, annotated = len(results["renditions"]), len(results["annotated"])
    if document["media"]["kind"] == "video":
        plan = document["frames"]
        frames, batches, segments = int(plan["frameCount"]), int(plan["batchCount"]), int(plan["segmentCount"])
        distributed = plan["mode"] == "distributed"
        # frames, the plan, segment manifests, detections, artefacts, scene copies, results, and
        # three LISTs (segment manifests, detections, earlier scene frames)
        sheet, scenes = (1 if results.get("contactSheet") else 0), int(results.get("scenes", 0))
        puts = frames + 1 + segments + batches + annotated + sheet + scenes + 1 + 3
        # Validate's probe, the ranged reads, manifests (each batch's, Aggregate's), frames, detections
        reads = int(results.get("readRequests", 0))
        gets = 2 + reads + segments + batches + frames + batches + min(frames, ARTEFACT_FRAMES_READ)
        gets += 1 if distributed else 0  # the ItemReader
        # A child execution per segment: SampleSegment, the batch Map and one DetectBatch per batch.
        children = 2 * segments + batches if distributed else 0
    else:
        puts, gets, children = renditions + 1 + annotated + 1, 5 + (1 if annotated else 0), 0
    return job_cost(
        _history(document["job"]["executionArn"]),
        _function_memory,
        states_to_come=STATES_AFTER_AGGREGATE,
        child_transitions=children,
        s3_puts=puts,
        s3_gets=gets,
        dynamodb_writes=3,  # RecordJob, the kind, RecordSuccess
        sns_publishes=1,
    )


def cost_at_failure(document: Mapping[str, Any]) -> JobCost:
    """Called by DiscardPartialOutputs: the job so far, plus recording and notifying its failure."""
    validated = "media" in document
    return job_cost(
        _history(document["job"]["executionArn"]),
        _function_memory,
        states_to_come=STATES_AFTER_DISCARD,
        child_transitions=0,
        s3_puts=2,  # the two LISTs of the discarded prefixes (deletes are free)
        s3_gets=2 if validated else 1,
        dynamodb_writes=3 if validated else 2,
        sns_publishes=1,
    )

"""Cost per image from a real local execution history.

Runs sample photographs through the local stack, then counts what AWS bills for: state
transitions (Standard workflows bill each state entered), Lambda GB-seconds (task duration x
the template's MemorySize), Lambda requests, S3 PUTs, DynamoDB writes and SNS publishes.
Durations are local wall-clock task times, a rough stand-in for Lambda's billed duration on
the template's architecture.

    python bench/cost_model.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from mediaflow.samples import write_samples
from mediaflow.stack import LocalStack, StackSettings

# us-east-1 list prices (USD) used for the estimate; check the AWS pricing pages before relying on them.
PRICE_STATE_TRANSITION = 0.025 / 1000
PRICE_LAMBDA_GB_SECOND_ARM = 0.0000133334
PRICE_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_S3_PUT = 0.005 / 1000
PRICE_DYNAMODB_WRITE = 0.625 / 1_000_000
PRICE_SNS_PUBLISH = 0.50 / 1_000_000
LAMBDA_STATES = {"Validate": "ValidateFunction", "TransformImage": "TransformImageFunction"}


def measure(stack: LocalStack, path: Path) -> dict[str, float]:
    key, etag = stack.upload(path)
    execution = stack.wait_for_execution(key, etag)
    events = stack.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"], maxResults=1000
    )["events"]
    transitions = sum(1 for e in events if e["type"].endswith("StateEntered"))
    gb_seconds, requests, state, scheduled = 0.0, 0, None, None
    for event in events:
        if "stateEnteredEventDetails" in event:
            state = event["stateEnteredEventDetails"]["name"]
        if event["type"] == "TaskScheduled":
            scheduled = event["timestamp"]
        if event["type"] == "TaskSucceeded" and state in LAMBDA_STATES:
            memory_mb = int(stack.template.raw["Resources"][LAMBDA_STATES[state]]["Properties"]["MemorySize"])
            seconds = (event["timestamp"] - scheduled).total_seconds()
            gb_seconds += seconds * memory_mb / 1024
            requests += 1
    job = stack.job_for_execution(execution["executionArn"]) or {}
    puts = 1 + len(json.loads(job.get("outputs", "[]")))  # the upload + each rendition
    return {
        "transitions": transitions,
        "gb_seconds": gb_seconds,
        "lambda_requests": requests,
        "s3_puts": puts,
        "dynamodb_writes": 2,
        "sns_publishes": 1,
        "status": execution["status"] == "SUCCEEDED",
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_samples(Path(tmp) / "samples")
        with LocalStack(StackSettings(state_dir=Path(tmp) / "state")) as stack:
            stack.upload(paths[0], "uploads/warm-up.jpg")  # start the worker processes (cold start)
            stack.wait_for_execution("uploads/warm-up.jpg")
            runs = [measure(stack, path) for path in paths]
    median = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
    cost = (
        median["transitions"] * PRICE_STATE_TRANSITION
        + median["gb_seconds"] * PRICE_LAMBDA_GB_SECOND_ARM
        + median["lambda_requests"] * PRICE_LAMBDA_REQUEST
        + median["s3_puts"] * PRICE_S3_PUT
        + median["dynamodb_writes"] * PRICE_DYNAMODB_WRITE
        + median["sns_publishes"] * PRICE_SNS_PUBLISH
    )
    print(f"{len(runs)} sample images, all succeeded: {all(r['status'] for r in runs)}")
    for name in ("transitions", "gb_seconds", "lambda_requests", "s3_puts", "dynamodb_writes", "sns_publishes"):
        print(f"  median {name:<16} {median[name]:.3f}")
    print(f"  estimated cost per image      ${cost:.6f}  (${cost * 1000:.3f} per 1,000 images)")
    print(f"  of which state transitions    ${median['transitions'] * PRICE_STATE_TRANSITION * 1000:.3f} per 1,000")


if __name__ == "__main__":
    main()

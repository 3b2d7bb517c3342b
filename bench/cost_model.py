"""Cost per image from a real local execution history.

Runs sample photographs through the local stack, then counts what AWS bills for: state
transitions (Standard workflows bill each state entered), Lambda GB-seconds (task duration x
the template's MemorySize), Lambda requests, S3 PUTs, DynamoDB writes and SNS publishes.
GB-seconds are the handlers' own run time (send to reply, without queueing; a cold start's
INIT included, as Lambda's REPORT line bills it since August 2025) times each function's
MemorySize from the template; local x86 times stand in for arm64 Lambda.

    python bench/cost_model.py
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from mediaflow.samples import pan_zoom_video, write_samples
from mediaflow.stack import LocalStack, StackSettings
from mediaflow_shared.contract.record import EXECUTION_SUCCEEDED

# us-east-1 list prices (USD) used for the estimate; check the AWS pricing pages before relying on them.
PRICE_STATE_TRANSITION = 0.025 / 1000
PRICE_LAMBDA_GB_SECOND_ARM = 0.0000133334
PRICE_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_S3_PUT = 0.005 / 1000
PRICE_DYNAMODB_WRITE = 0.625 / 1_000_000
PRICE_SNS_PUBLISH = 0.50 / 1_000_000


def measure(stack: LocalStack, path: Path) -> dict[str, float]:
    assert stack.runtime is not None
    billed_before = stack.runtime.gb_seconds()
    key, etag = stack.upload(path)
    execution = stack.wait_for_execution(key, etag)
    events = stack.execution_history(execution["executionArn"])
    transitions = sum(1 for e in events if e["type"].endswith("StateEntered"))
    requests = sum(
        1
        for e in events
        if e["type"] == "TaskScheduled" and "lambda" in e.get("taskScheduledEventDetails", {}).get("resourceType", "")
    )
    gb_seconds = stack.runtime.gb_seconds() - billed_before
    job = stack.job_for_execution(execution["executionArn"]) or {}
    frames = job.get("results", {}).get("frameCount", 0)
    # the upload, renditions, annotated frames, results.json, contact sheet; video: frames,
    # manifest, batch list and one detections file per batch
    puts = 1 + len(stack.list_outputs(job["jobId"])) + (frames + 2 + -(-frames // 10) if frames else 1)
    return {
        "transitions": transitions,
        "gb_seconds": gb_seconds,
        "lambda_requests": requests,
        "s3_puts": puts,
        "dynamodb_writes": 2,
        "sns_publishes": 1,
        "status": execution["status"] == EXECUTION_SUCCEEDED,
    }


def report(title: str, runs: list[dict[str, float]], scale: float = 1.0) -> None:
    median = {name: statistics.median(r[name] for r in runs) * scale for name in runs[0]}
    cost = (
        median["transitions"] * PRICE_STATE_TRANSITION
        + median["gb_seconds"] * PRICE_LAMBDA_GB_SECOND_ARM
        + median["lambda_requests"] * PRICE_LAMBDA_REQUEST
        + median["s3_puts"] * PRICE_S3_PUT
        + median["dynamodb_writes"] * PRICE_DYNAMODB_WRITE
        + median["sns_publishes"] * PRICE_SNS_PUBLISH
    )
    print(f"{title}: {len(runs)} run(s), all succeeded: {all(r['status'] for r in runs)}")
    for name in ("transitions", "gb_seconds", "lambda_requests", "s3_puts", "dynamodb_writes", "sns_publishes"):
        print(f"  median {name:<16} {median[name]:.3f}")
    print(f"  estimated cost                ${cost:.6f}  (${cost * 1000:.3f} per 1,000)")
    print(f"  of which state transitions    ${median['transitions'] * PRICE_STATE_TRANSITION * 1000:.3f} per 1,000")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_samples(Path(tmp) / "samples")
        images = [p for p in paths if p.suffix != ".mp4"]
        minute = pan_zoom_video(Path(tmp) / "minute.mp4", seconds=60)
        with LocalStack(StackSettings(state_dir=Path(tmp) / "state")) as stack:
            warm_up, _ = stack.upload(images[0])  # start the worker processes (cold start)
            stack.wait_for_execution(warm_up)
            image_runs = [measure(stack, path) for path in images]
            video_runs = [measure(stack, minute)]
            per_function = stack.runtime.billed_by_function() if stack.runtime else {}
    report("per image (sample photographs)", image_runs)
    report("per video minute (640x360 H.264, 1 frame/s, 10 frames per batch)", video_runs)
    print("handler time by function over the whole run (invocations, total ms):")
    for name, (count, total_ms) in sorted(per_function.items()):
        print(f"  {name:<28}{count:>4}{total_ms:>10.0f} ms")


if __name__ == "__main__":
    main()

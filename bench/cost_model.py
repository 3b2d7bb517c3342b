"""Cost per image and per video minute, from real local executions, with the code every job uses.

Runs sample photographs and a 60-second video through the local stack. Each job computes its own
cost at its end (mediaflow_shared/cost.py: its execution history, its shape, one dated price
table); this prints the medians of those figures, and beside them the GB-seconds the local
workers actually billed (handler time x MemorySize, as Lambda's REPORT line bills it; a cold
start's INIT included since August 2025), so the job's own estimate (Lambda time as Step
Functions saw it) can be checked against it. Local x86 times stand in for arm64 Lambda.

    python bench/cost_model.py
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from mediaflow.samples import pan_zoom_video, write_samples
from mediaflow.stack import LocalStack, StackSettings
from mediaflow_shared.contract.record import EXECUTION_SUCCEEDED
from mediaflow_shared.cost import (
    PRICE_LAMBDA_GB_SECOND,
    PRICE_LAMBDA_REQUEST,
    PRICE_REKOGNITION_IMAGE,
    PRICE_STATE_TRANSITION,
    PRICES_AS_OF,
    JobCost,
)

COUNTS = ("transitions", "lambda_requests", "s3_puts", "s3_gets", "dynamodb_writes", "sns_publishes")


def measure(stack: LocalStack, path: Path) -> dict[str, Any]:
    assert stack.runtime is not None
    billed_before = stack.runtime.gb_seconds()
    key, etag = stack.upload(path)
    execution = stack.wait_for_execution(key, etag)
    job = stack.job_for_execution(execution["executionArn"]) or {}
    return {
        "cost": job.get("results", {}).get("cost") or job.get("failure", {}).get("cost"),
        "worker_gb_seconds": stack.runtime.gb_seconds() - billed_before,
        "succeeded": execution["status"] == EXECUTION_SUCCEEDED,
    }


def report(title: str, runs: list[dict[str, Any]]) -> None:
    costs = [run["cost"] for run in runs if run["cost"]]
    median = JobCost(
        **{name: int(statistics.median(c[name] for c in costs)) for name in COUNTS},
        lambda_gb_seconds=statistics.median(c["lambdaGbSeconds"] for c in costs),
        architecture=costs[0]["architecture"],
    )
    print(f"{title}: {len(runs)} run(s), all succeeded: {all(r['succeeded'] for r in runs)}")
    for name in COUNTS:
        print(f"  median {name:<18} {getattr(median, name)}")
    worker = statistics.median(run["worker_gb_seconds"] for run in runs)
    print(f"  median lambda GB-s      {median.lambda_gb_seconds:.3f} (job's estimate) / {worker:.3f} (workers billed)")
    print(f"  estimated cost          ${median.usd:.6f}  (${median.usd * 1000:.3f} per 1,000)")
    print(f"  of which transitions    ${median.transitions * PRICE_STATE_TRANSITION * 1000:.3f} per 1,000")


def _detect_usage(
    before: dict[str, tuple[int, float]], after: dict[str, tuple[int, float]], jobs: int
) -> tuple[float, float]:
    """DetectObjects' (invocations, handler seconds) per job between two readings."""
    start, end = before.get("DetectObjectsFunction", (0, 0.0)), after.get("DetectObjectsFunction", (0, 0.0))
    return (end[0] - start[0]) / jobs, (end[1] - start[1]) / 1000 / jobs


def detection_against_rekognition(image: tuple[float, float], minute: tuple[float, float], memory_gb: float) -> None:
    """The offline detector (objects and text) priced as Lambda time, beside Rekognition's
    DetectLabels + DetectText on the same images and frames."""
    price = PRICE_LAMBDA_GB_SECOND["arm64"]
    print("detection (NanoDet + PP-OCRv4 text) against Rekognition (DetectLabels + DetectText per image or frame):")
    for title, (invocations, seconds), images in (("per 1,000 images", image, 1), ("per video minute", minute, 60)):
        scale = 1000 if images == 1 else 1
        offline = (seconds * memory_gb * price + invocations * PRICE_LAMBDA_REQUEST) * scale
        rekognition = 2 * PRICE_REKOGNITION_IMAGE * images * scale
        print(
            f"  {title:<18} offline ${offline:.4f} ({seconds:.2f} s of DetectObjects at {memory_gb:g} GB)"
            f"  Rekognition ${rekognition:.4f}  ({rekognition / max(offline, 1e-12):.0f}x)"
        )


def main() -> None:
    print(f"prices: US East list prices as of {PRICES_AS_OF} (docs/cost-model.md)")
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_samples(Path(tmp) / "samples")
        images = [p for p in paths if p.suffix != ".mp4"]
        minute = pan_zoom_video(Path(tmp) / "minute.mp4", seconds=60)
        with LocalStack(StackSettings(state_dir=Path(tmp) / "state")) as stack:
            warm_up, _ = stack.upload(images[0])  # start the worker processes (cold start)
            stack.wait_for_execution(warm_up)
            assert stack.runtime is not None
            before_images = stack.runtime.billed_by_function()
            image_runs = [measure(stack, path) for path in images]
            before_video = stack.runtime.billed_by_function()
            video_runs = [measure(stack, minute)]
            per_function = stack.runtime.billed_by_function()
            (detect,) = [
                r
                for r in stack.template.resources_of_type("AWS::Serverless::Function")
                if r.logical_id == "DetectObjectsFunction"
            ]
            memory_gb = int(detect.properties["MemorySize"]) / 1024
    report("per image (sample photographs)", image_runs)
    report("per video minute (640x360 H.264, 1 frame/s, 10 frames per batch)", video_runs)
    detection_against_rekognition(
        _detect_usage(before_images, before_video, len(images)),
        _detect_usage(before_video, per_function, 1),
        memory_gb,
    )
    print("handler time by function over the whole run (invocations, total ms):")
    for name, (count, total_ms) in sorted(per_function.items()):
        print(f"  {name:<32}{count:>4}{total_ms:>10.0f} ms")


if __name__ == "__main__":
    main()

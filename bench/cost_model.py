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
from mediaflow_shared.cost import PRICE_STATE_TRANSITION, PRICES_AS_OF, JobCost

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


def main() -> None:
    print(f"prices: US East list prices as of {PRICES_AS_OF} (docs/cost-model.md)")
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
        print(f"  {name:<32}{count:>4}{total_ms:>10.0f} ms")


if __name__ == "__main__":
    main()

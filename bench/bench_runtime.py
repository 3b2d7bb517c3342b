"""The local runtime under load: N small real-photo jobs at once, for several N, in one run.

For each N a fresh local stack (its own state dir, so durability is measured too) gets N
uploads at once: small JPEGs made from scikit-image's photographs, each one different (so each
is its own job). It prints:

- jobs per minute, first upload to last job finished;
- the runtime's overhead per state: each execution's wall time minus the time a Lambda
  invocation of it was running (from its history, parallel branches counted once), over the
  states entered. With N jobs sharing a few workers this also counts waiting for a free
  worker, so it is an upper bound at large N; jobs one after another (`--sequential`)
  isolate the engine;
- the engine's CPU seconds per job (this process: moto, the routing, the store; not the
  bench's own client thread, which plays the user uploading and polling) against the
  workers' (the handlers), and the engine's share;
- peak RSS of the engine and of every worker, and the engine's memory per job.

    python bench/bench_runtime.py [--jobs 20,100,300] [--sequential 10]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mediaflow.samples import skimage_data  # noqa: E402
from mediaflow.stack import LocalStack, StackSettings  # noqa: E402
from mediaflow_shared.contract.record import EXECUTION_RUNNING, FINISHED_EXECUTION_STATUSES  # noqa: E402

PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "camera.png")


def small_photos(count: int) -> list[bytes]:
    """`count` distinct 320-pixel JPEGs: real photographs, each with its number drawn on it."""
    photos = []
    for number in range(count):
        with Image.open(skimage_data() / PHOTOS[number % len(PHOTOS)]) as source:
            image = source.convert("RGB")
        image.thumbnail((320, 320))
        ImageDraw.Draw(image).text((4, 4), f"#{number}", fill=(255, 255, 0))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        photos.append(out.getvalue())
    return photos


def _engine_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _seconds(start: Any, stop: Any) -> float:
    def parse(value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    return (parse(stop) - parse(start)).total_seconds()


def lambda_intervals(history: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """(start, end) of each Lambda invocation in a history: a `lambda:invoke` Task's TaskStarted to
    the TaskSucceeded/Failed/TimedOut that follows it (paired by previousEventId, so parallel
    branches pair up), or the older LambdaFunctionStarted/… events."""
    started = {
        event["id"]: event["timestamp"]
        for event in history
        if (event["type"] == "TaskStarted" and event["taskStartedEventDetails"].get("resourceType") == "lambda")
        or event["type"] == "LambdaFunctionStarted"
    }
    ends = {"TaskSucceeded", "TaskFailed", "TaskTimedOut", "LambdaFunctionSucceeded", "LambdaFunctionFailed"}
    return [
        (started[event["previousEventId"]], event["timestamp"])
        for event in history
        if event["type"] in ends and event.get("previousEventId") in started
    ]


def _covered_seconds(history: list[dict[str, Any]]) -> float:
    """Wall time during which at least one Lambda invocation of the execution was running:
    parallel branches counted once."""
    covered, end = 0.0, None
    for start, stop in sorted(lambda_intervals(history)):
        if end is None or start > end:
            covered += _seconds(start, stop)
            end = stop
        elif stop > end:
            covered += _seconds(end, stop)
            end = stop
    return covered


def run(count: int, sequential: bool = False) -> dict[str, Any]:
    photos = small_photos(count)
    with tempfile.TemporaryDirectory() as tmp, LocalStack(StackSettings(state_dir=Path(tmp) / "state")) as stack:
        assert stack.runtime is not None
        s3, sfn = stack.client("s3"), stack.client("stepfunctions")
        warm = small_photos(1)[0]  # one job first: the workers' cold starts are not the engine's
        uploads = stack.layout.upload_prefix
        s3.put_object(Bucket=stack.bucket, Key=f"{uploads}warm-up.jpg", Body=warm)
        stack.wait_for_execution(f"{uploads}warm-up.jpg")
        billed_before = {k: v[1] for k, v in stack.runtime.billed_by_function().items()}
        cpu_before, workers_before = _engine_cpu(), sum(stack.runtime.cpu_seconds().values())
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started, client_before = time.monotonic(), time.thread_time()
        for number, photo in enumerate(photos):
            s3.put_object(Bucket=stack.bucket, Key=f"{uploads}bench-{number:04d}.jpg", Body=photo)
            if sequential:
                stack.wait_for_execution(f"{uploads}bench-{number:04d}.jpg")
        arns: list[str] = []
        listing = sfn.get_paginator("list_executions")
        while True:
            # Is any still running (one item asked for); the whole list once nothing runs.
            running = sfn.list_executions(
                stateMachineArn=stack.state_machine_arn, statusFilter=EXECUTION_RUNNING, maxResults=1
            )["executions"]
            if not running:
                executions = [
                    e for page in listing.paginate(stateMachineArn=stack.state_machine_arn) for e in page["executions"]
                ]
                if sum(1 for e in executions if e["status"] in FINISHED_EXECUTION_STATUSES) >= count + 1:
                    arns = [e["executionArn"] for e in executions]
                    break
            time.sleep(0.5)
        wall = time.monotonic() - started
        # This thread is the user's client (uploads, polls): its own CPU is not the engine's.
        client_cpu = time.thread_time() - client_before
        engine_cpu = _engine_cpu() - cpu_before - client_cpu
        worker_cpu = sum(stack.runtime.cpu_seconds().values()) - workers_before
        handler_seconds = (
            sum(v[1] for v in stack.runtime.billed_by_function().values()) - sum(billed_before.values())
        ) / 1000
        execution_seconds, lambda_seconds, states, invocations, invocation_seconds = 0.0, 0.0, 0, 0, 0.0
        for arn in arns:
            described = sfn.describe_execution(executionArn=arn)
            if "warm-up" in described["input"]:
                continue
            execution_seconds += _seconds(described["startDate"], described["stopDate"])
            history = stack.execution_history(arn)
            states += sum(1 for event in history if event["type"].endswith("StateEntered"))
            lambda_seconds += _covered_seconds(history)
            intervals = lambda_intervals(history)
            invocations += len(intervals)
            invocation_seconds += sum(_seconds(start, stop) for start, stop in intervals)
        peaks = stack.runtime.peak_rss_mb()
        engine_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "jobs": count,
        "jobs_per_minute": count / wall * 60,
        "overhead_ms_per_state": (execution_seconds - lambda_seconds) / max(1, states) * 1000,
        # Inside each Lambda Task: the gateway, the pipe to the worker and back, beyond the handler's own time.
        "dispatch_ms_per_invocation": (invocation_seconds - handler_seconds) / max(1, invocations) * 1000,
        "handler_seconds_per_job": handler_seconds / count,
        "states_per_job": states / count,
        "engine_cpu_per_job": engine_cpu / count,
        "worker_cpu_per_job": worker_cpu / count,
        "engine_share": engine_cpu / max(1e-9, engine_cpu + worker_cpu),
        "client_cpu_per_job": client_cpu / count,
        "engine_peak_mb": engine_peak,
        "engine_mb_per_job": (engine_peak - rss_before) / count,
        "worker_peaks_mb": {name: round(max(values), 0) for name, values in peaks.items() if values},
    }


def run_in_subprocess(count: int, sequential: bool = False) -> dict[str, Any]:
    """Each N in its own process: moto's backends are per process, and so is the engine's CPU and RSS."""
    command = [sys.executable, __file__, "--one", str(count), *(["--one-at-a-time"] if sequential else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="20,100,300")
    parser.add_argument("--sequential", type=int, default=10, help="also N jobs one at a time (0: skip)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one N, JSON out
    parser.add_argument("--one-at-a-time", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.one, args.one_at_a_time)))
        return
    rows = [run_in_subprocess(int(n)) for n in args.jobs.split(",")]
    if args.sequential:
        rows.append({**run_in_subprocess(args.sequential, True), "jobs": f"{args.sequential} one at a time"})
    cores = len(os.sched_getaffinity(0))
    print("Local runtime under load (small real photos; targets from issue 13 in brackets)")
    columns = ("N", "jobs/min", "overhead/state", "states/job", "engine CPU/job", "workers CPU/job", "engine share")
    header = " ".join(f"{c:>15}" for c in columns) + f" {'engine peak':>12} {'MB/job':>7}"
    print(header)
    for row in rows:
        print(
            f"{row['jobs']!s:>15} {row['jobs_per_minute']:15.1f} {row['overhead_ms_per_state']:12.1f} ms"
            f" {row['states_per_job']:15.1f} {row['engine_cpu_per_job']:13.3f} s {row['worker_cpu_per_job']:13.3f} s"
            f" {row['engine_share']:15.0%} {row['engine_peak_mb']:9.0f} MB {row['engine_mb_per_job']:7.2f}"
        )
    print("  [targets: overhead <= 5 ms per state; >= 300 jobs/min at N=300; engine <= 25 % of CPU; flat memory]")
    print(f"  against peers measured in the same run ({cores} cores):")
    for row in rows:
        # The handlers alone, on every core, could do no better than this: the peer for jobs/min.
        bound = cores * 60 / max(1e-9, row["worker_cpu_per_job"])
        per_state_handler = row["handler_seconds_per_job"] / max(1, row["states_per_job"]) * 1000
        print(
            f"    N={row['jobs']}: {row['jobs_per_minute'] / bound:.0%} of the handlers' CPU bound"
            f" ({bound:.0f} jobs/min);"
            f" engine CPU {row['engine_cpu_per_job'] / max(1e-9, row['worker_cpu_per_job']):.2f}x the handlers';"
            f" overhead per state {row['overhead_ms_per_state'] / max(1e-9, per_state_handler):.2f}x the handler time"
            " per state"
        )
    print(f"  worker peak RSS (MB), last run: {rows[-1]['worker_peaks_mb']}")
    median = statistics.median(row["engine_share"] for row in rows)
    print(f"  median engine share of CPU: {median:.0%}")
    dispatch = ", ".join(f"N={row['jobs']}: {row['dispatch_ms_per_invocation']:.1f} ms" for row in rows)
    print(f"  Lambda dispatch beyond the handler, per invocation (inside the Task, not in overhead/state): {dispatch}")


if __name__ == "__main__":
    main()

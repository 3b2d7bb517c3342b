"""Does the engine stay flat over many jobs: its memory, and its CPU per job?

One local stack gets `--jobs` real-photo jobs in rounds of `--round` (each round uploaded at
once, then waited for, by a process of its own playing the user: the photos it makes and its SDK
clients stay out of the engine's memory). After each round the engine's resident memory (VmRSS) is read, with the
bytes the jobs stored so far (the state dir's object blobs). It prints the growth per job after
the first round (which fills caches and sets the allocator's high-water mark) and, as the peer
measured in the same run, the bytes each job stored: flat memory keeps none of them.

Each round also reads the engine's CPU per job (this process) against the handlers' (the
workers', the same work in every round): the engine's share of the two should not grow with the
jobs before it, whatever the machine's speed does.

The engine gives its freed heap back to the system every 30 s (mediaflow/memory_trim.py), so RSS
read at a random moment carries up to 30 s of freed pages: each round also reads it right after
such a trim (`release_free_memory`, the engine's own call), the memory it holds, and how many
heaps glibc's malloc has (the engine caps them at 2: `limit_thread_heaps`).

`--peer` runs the same jobs a second time, in a fresh engine where moto keeps the objects' bytes
in memory as it ships (mediaflow/moto_patches/object_blobs.py switched off).

    python bench/bench_engine_memory.py [--jobs 1000] [--round 100] [--peer]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mediaflow.memory_trim import malloc_heaps, release_free_memory  # noqa: E402
from mediaflow.samples import skimage_data  # noqa: E402
from mediaflow.stack import LocalStack, StackSettings  # noqa: E402
from mediaflow.stack_client import LOCAL_CREDENTIALS  # noqa: E402
from mediaflow.template import REGION  # noqa: E402
from mediaflow_shared.contract.record import EXECUTION_RUNNING  # noqa: E402

PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "camera.png")
PHOTO_WIDTH = 1280  # a web-sized photo: renditions and annotated copies of a few hundred KB per job


def photo(number: int) -> bytes:
    with Image.open(skimage_data() / PHOTOS[number % len(PHOTOS)]) as source:
        image = source.convert("RGB")
    image = image.resize((PHOTO_WIDTH, PHOTO_WIDTH * image.height // image.width))
    ImageDraw.Draw(image).text((8, 8), f"#{number}", fill=(255, 255, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024


def engine_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stored_mb(state_dir: Path) -> float:
    total = 0
    for blob in (state_dir / "objects").iterdir():
        with contextlib.suppress(FileNotFoundError):  # expired by the janitor meanwhile
            total += blob.stat().st_size
    return total / 1024 / 1024


def upload_round(spec: dict[str, Any]) -> None:
    """The user, in a process of its own: makes one round's photos, uploads them, and waits until
    no execution runs. Pillow's image buffers and the SDK's own objects stay out of the engine's
    heap, so the engine's RSS is the engine's alone."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(region_name=REGION, **LOCAL_CREDENTIALS)
    config = Config(retries={"max_attempts": 2})
    s3 = session.client("s3", endpoint_url=spec["endpoint"], config=config)
    sfn = session.client("stepfunctions", endpoint_url=spec["endpoint"], config=config)
    for number in range(spec["first"], spec["first"] + spec["count"]):
        s3.put_object(Bucket=spec["bucket"], Key=f"{spec['uploads']}memory-{number:05d}.jpg", Body=photo(number))
    time.sleep(1)
    while sfn.list_executions(stateMachineArn=spec["state_machine"], statusFilter=EXECUTION_RUNNING, maxResults=1)[
        "executions"
    ]:
        time.sleep(1)


def run(jobs: int, round_size: int, moto_memory: bool) -> dict[str, Any]:
    if moto_memory:
        from mediaflow.moto_patches import object_blobs

        object_blobs.read_from_blob = lambda *_: None  # moto as shipped: the bytes stay in its buffers
    with tempfile.TemporaryDirectory() as tmp, LocalStack(StackSettings(state_dir=Path(tmp) / "state")) as stack:
        rounds = []
        for first in range(0, jobs, round_size):
            assert stack.runtime is not None
            count = min(jobs, first + round_size) - first
            spec = {
                "endpoint": stack.endpoint,
                "bucket": stack.bucket,
                "uploads": stack.layout.upload_prefix,
                "state_machine": stack.state_machine_arn,
                "first": first,
                "count": count,
            }
            cpu_before, workers_before = engine_cpu(), sum(stack.runtime.cpu_seconds().values())
            subprocess.run([sys.executable, __file__, "--upload-round", json.dumps(spec)], check=True)
            time.sleep(1.5)  # the janitor's and the log shipper's rounds
            engine = engine_cpu() - cpu_before  # the user's uploads and polls are another process's
            workers = sum(stack.runtime.cpu_seconds().values()) - workers_before
            gc.collect()
            as_read = rss_mb()
            release_free_memory()
            rounds.append(
                {
                    "jobs": first + count,
                    "rss_read_mb": as_read,
                    "rss_mb": rss_mb(),
                    "malloc_heaps": malloc_heaps(),
                    "stored_mb": stored_mb(stack.store.root),
                    "engine_ms_per_job": engine / count * 1000,
                    "workers_ms_per_job": workers / count * 1000,
                }
            )
            print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
    return {"rounds": rounds}


def in_subprocess(jobs: int, round_size: int, moto_memory: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--jobs", str(jobs), "--round", str(round_size), "--one"]
    done = subprocess.run(command + (["--moto-memory"] if moto_memory else []), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(label: str, rounds: list[dict[str, Any]]) -> float:
    print(f"{label}:")
    for row in rounds:
        rss, stored = row["rss_mb"], row["stored_mb"]
        engine, workers = row["engine_ms_per_job"], row["workers_ms_per_job"]
        print(
            f"  after {row['jobs']:>5} jobs: engine RSS {rss:7.1f} MB ({row['rss_read_mb']:.1f} before the trim), "
            f"{row['malloc_heaps']} malloc heaps, objects stored {stored:8.1f} MB; "
            f"this round's CPU per job: engine {engine:5.1f} ms, handlers {workers:5.1f} ms, "
            f"engine's share {engine / max(engine + workers, 1e-9):.1%}"
        )
    first, last = rounds[0], rounds[-1]
    if len(rounds) > 2:  # the first round holds the workers' cold starts

        def share(row: dict[str, Any]) -> float:
            return row["engine_ms_per_job"] / max(row["engine_ms_per_job"] + row["workers_ms_per_job"], 1e-9)

        print(f"  engine's share of the CPU, second round -> last: {share(rounds[1]):.1%} -> {share(last):.1%}")
    jobs = last["jobs"] - first["jobs"]
    growth_kb = (last["rss_mb"] - first["rss_mb"]) * 1024 / max(1, jobs)
    stored_kb = (last["stored_mb"] - first["stored_mb"]) * 1024 / max(1, jobs)
    print(
        f"  after the first round: {growth_kb:.1f} KB of engine memory per job, against {stored_kb:.1f} KB stored "
        f"per job ({growth_kb / max(stored_kb, 1e-9):.0%} of the bytes kept in memory)"
    )
    return growth_kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--round", type=int, default=100)
    parser.add_argument("--peer", action="store_true", help="also the same jobs with moto keeping the bytes")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one engine, JSON out
    parser.add_argument("--moto-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--upload-round", help=argparse.SUPPRESS)  # a child: the user's uploads for one round
    args = parser.parse_args()
    if args.upload_round:
        upload_round(json.loads(args.upload_round))
        return
    if args.one:
        print(json.dumps(run(args.jobs, args.round, args.moto_memory)))
        return
    ours = report(
        "objects read from the state dir (the runtime)", in_subprocess(args.jobs, args.round, False)["rounds"]
    )
    if args.peer:
        theirs = report("peer: moto keeping the bytes in memory", in_subprocess(args.jobs, args.round, True)["rounds"])
        print(f"engine memory growth per job: {ours / max(theirs, 1e-9):.2f}x the peer's")


if __name__ == "__main__":
    main()

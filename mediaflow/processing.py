"""`mediaflow process`'s work: put local files through a stack, follow them, copy out what they made.

Inputs are uploaded at once (boto3's managed transfer) under names made unique among them, so
equal file names in different folders never overwrite each other's upload or output folder.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mediaflow.progress import FileJob, follow
from mediaflow.stack_client import StackClient
from mediaflow_shared.contract.record import EXECUTION_SUCCEEDED, JobRecord


def _copy_outputs(stack: StackClient, job: JobRecord, destination: Path) -> list[Path]:
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    s3 = stack.client("s3")
    copied = []
    prefix = stack.layout.outputs(job["jobId"])
    for key in stack.list_outputs(job["jobId"]):
        target = destination / key.removeprefix(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(stack.bucket, key, str(target))
        copied.append(target)
    (destination / "job.json").write_text(json.dumps(job, indent=2, ensure_ascii=False))
    return copied


def _timeline_lines(destination: Path) -> list[str]:
    """A video's scenes and timeline from its copied results.json: its shots, and when each
    label was in view."""
    path = destination / "results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())
    scenes = [
        f"scene {scene['scene']} from {scene['start']:g} s to {scene['end']:g} s"
        + (f" ({', '.join(scene['labels'])})" if scene["labels"] else "")
        for scene in results.get("scenes", [])
    ]
    return scenes + [
        f"{segment['label']} from {segment['start']:g} s to {segment['end']:g} s "
        f"({segment['frames']} frames, best {segment['bestConfidence']:.0%})"
        for segment in results.get("timeline", [])
    ]


def _unique_names(files: tuple[Path, ...]) -> list[str]:
    """Each input's name, made unique (`x.jpg`, `x (2).jpg`) so no upload or output folder overwrites another."""
    names: list[str] = []
    for path in files:
        name, number = path.name, 1
        while name in names:
            number += 1
            name = f"{path.stem} ({number}){path.suffix}"
        names.append(name)
    return names


def _cost(record: JobRecord | None) -> str:
    """The job's cost in USD, as the workflow computed it from its own history."""
    return (record or {}).get("costSummary", "").split(" ")[0]


def _summary(stack: StackClient, jobs: list[FileJob], output: Path, seconds: float, console: Console) -> int:
    """Copy each job's outputs, print the table and the videos' timelines; returns how many failed."""
    table = Table(title=f"MediaFlow: {len(jobs)} file(s) in {seconds:.1f} s")
    for column in ("file", "status", "outputs", "detections", "cost", "result / reason"):
        table.add_column(column, overflow="fold")  # wrap, never cut: names and paths must stay whole
    failed, timelines = 0, []
    for job in jobs:
        record = stack.job_for_execution(job.execution["executionArn"]) if job.execution else None
        destination = output / job.name
        copied = _copy_outputs(stack, record, destination) if record else []
        if job.status == EXECUTION_SUCCEEDED:
            renditions = record.get("results", {}).get("renditions", []) if record else []
            sizes = sorted({f"{r['width']}x{r['height']}" for r in renditions}, key=lambda s: int(s.split("x")[0]))
            detail = f"{destination}" + (f"  ({', '.join(sizes)})" if sizes else "")
            if record and record.get("executionArn") != job.execution["executionArn"]:
                # The state dir keeps jobs across runs: the same file again is a duplicate event.
                detail += "  (processed before, the same file: shown from then; --fresh runs it again)"
            labels = record.get("topLabels", "") if record else ""
            table.add_row(job.name, f"[green]{job.status}[/]", str(len(copied)), labels, _cost(record), detail)
            timelines += [f"{job.name}: {line}" for line in _timeline_lines(destination)]
            continue
        failed += 1
        if job.execution is None or job.status == "TIMED OUT":
            reason = "not finished in time (--timeout)"
        else:  # the job record has the cause in words (RecordFailure); the execution's is a Lambda error document
            cause = (record or {}).get("failureMessage") or job.execution.get("cause", "")
            reason = f"{job.execution.get('error')}: {cause}"
        table.add_row(job.name, f"[red]{job.status}[/]", "0", "", _cost(record), reason)
    console.print(table)
    for line in timelines:
        console.print(line)
    return failed


def run_files(
    stack: StackClient, files: tuple[Path, ...], output: Path, timeout: int, started: float, console: Console
) -> int:
    """Upload every file at once, follow the jobs, copy out their outputs; returns how many failed."""
    jobs = []
    try:
        for path, name in zip(files, _unique_names(files), strict=True):
            key, etag = stack.upload(path, f"{stack.layout.upload_prefix}{name}")
            console.print(f"[bold]{name}[/] → s3://{stack.bucket}/{key}")
            jobs.append(FileJob(name, key, etag, timeout, time.monotonic() + timeout))
        follow(stack, jobs, console)
        return _summary(stack, jobs, output, time.monotonic() - started, console)
    except KeyboardInterrupt:  # while following, or while copying the outputs out
        console.print("Interrupted: the jobs still running were left to the stack.")
        raise SystemExit(130) from None

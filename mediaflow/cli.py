"""The `mediaflow` command: `up` runs the local stack, `process` runs files through it once."""

from __future__ import annotations

import json
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from mediaflow.samples import write_samples
from mediaflow.stack import DEFAULT_TEMPLATE, LocalStack, StackSettings
from mediaflow.web import StatusPageServer
from mediaflow_shared.contract.record import DUPLICATE_EVENT_ERROR, EXECUTION_SUCCEEDED, JobRecord

console = Console(highlight=False, soft_wrap=True)  # commands must stay copy-pasteable

_STATE_EVENTS = {
    "StateEntered": "→",
    "StateExited": "✓",
}


def _parse_overrides(values: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep:
            raise click.BadParameter(f"expected Name=Value, got {value!r}", param_hint="--parameter")
        overrides[name] = setting
    return overrides


def _settings(
    template: Path,
    state_dir: Path,
    host: str,
    port: int,
    parameters: tuple[str, ...],
    smtp: str | None,
    keep_work_files: bool,
    dev_api: bool = False,
) -> StackSettings:
    smtp_address = None
    if smtp:
        smtp_host, _, smtp_port = smtp.rpartition(":")
        smtp_address = (smtp_host or "127.0.0.1", int(smtp_port))
    return StackSettings(
        template_path=template,
        state_dir=state_dir,
        host=host,
        port=port,
        parameter_overrides=_parse_overrides(parameters),
        smtp=smtp_address,
        keep_work_files=keep_work_files,
        dev_api=dev_api,
    )


_common_options = [
    click.option(
        "--template",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=DEFAULT_TEMPLATE,
        show_default=True,
        help="SAM template to run.",
    ),
    click.option(
        "--state-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".mediaflow"),
        show_default=True,
        help="Where logs and the email outbox go.",
    ),
    click.option(
        "--parameter",
        "parameters",
        multiple=True,
        metavar="NAME=VALUE",
        help="Template parameter override (repeatable), as sam deploy --parameter-overrides.",
    ),
    click.option("--smtp", metavar="HOST:PORT", help="Also relay notification emails to this SMTP server."),
    click.option(
        "--keep-work-files",
        is_flag=True,
        help="Keep each job's work files (sampled frames, per-batch detections) after it finishes.",
    ),
]


def common_options(function: Any) -> Any:
    for option in reversed(_common_options):
        function = option(function)
    return function


@click.group()
def main() -> None:
    """MediaFlow: the SAM media workflow on this machine, no AWS account and no Docker."""


@main.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4566, show_default=True, help="AWS endpoint port (0 picks a free one).")
@click.option("--web-port", default=8080, show_default=True, help="Status page port (0 picks a free one).")
@click.option(
    "--dev-api", is_flag=True, help="Also serve moto's /moto-api/ (reset, config) on the AWS endpoint, for debugging."
)
def up(
    template: Path,
    state_dir: Path,
    parameters: tuple[str, ...],
    smtp: str | None,
    keep_work_files: bool,
    host: str,
    port: int,
    web_port: int,
    dev_api: bool,
) -> None:
    """Start the local stack and the status page, and keep them running until Ctrl-C."""
    settings = _settings(template, state_dir, host, port, parameters, smtp, keep_work_files, dev_api)
    stack = LocalStack(settings).start()
    page = StatusPageServer(stack, host, web_port).start()
    endpoint = stack.endpoint
    console.print(f"[bold green]MediaFlow is up.[/] Status page: [bold]{page.url}[/]")
    console.print(f"  AWS endpoint  {endpoint}")
    console.print(f"  bucket        {stack.bucket}  (uploads under {stack.layout.upload_prefix})")
    console.print(f"  state machine {stack.state_machine_arn}")
    console.print(f"  jobs table    {stack.table}")
    console.print(f"  email outbox  {stack.outbox.folder}")
    console.print(f"  lambda logs   {stack.log_dir}")
    console.print("\nTry it with the AWS CLI (any credentials work locally):")
    console.print("  export AWS_ACCESS_KEY_ID=mediaflow AWS_SECRET_ACCESS_KEY=mediaflow AWS_DEFAULT_REGION=us-east-1")
    console.print(
        f"  aws --endpoint-url {endpoint} s3 cp photo.jpg s3://{stack.bucket}/{stack.layout.upload_prefix}photo.jpg"
    )
    console.print(
        f"  aws --endpoint-url {endpoint} stepfunctions list-executions --state-machine-arn {stack.state_machine_arn}"
    )
    console.print(f"  aws --endpoint-url {endpoint} stepfunctions get-execution-history --execution-arn ARN")
    console.print(f"  aws --endpoint-url {endpoint} s3 ls s3://{stack.bucket}/{stack.layout.output_prefix} --recursive")
    console.print("\nPress Ctrl-C to stop.")
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started in the background (SIGINT ignored)
        signal.signal(signum, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        console.print("Stopping…")
        page.stop()
        stack.stop()


def _print_event(name: str, event: dict[str, Any]) -> None:
    kind = event["type"]
    for suffix, mark in _STATE_EVENTS.items():
        if kind.endswith(suffix):
            details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
            if suffix == "StateEntered":
                console.print(f"  [dim]{name}[/] {mark} {details.get('name', '')}")
            return
    if kind.endswith("Failed") and kind != "ExecutionFailed":
        details = next((v for k, v in event.items() if k.endswith("FailedEventDetails")), {})
        if details.get("error") == DUPLICATE_EVENT_ERROR:
            console.print(f"  [dim]{name} = already processed: a duplicate of an earlier event[/]")
        else:
            console.print(f"  [dim]{name}[/] [red]✗ {details.get('error', kind)}[/]")


def _copy_outputs(stack: LocalStack, job: JobRecord, destination: Path) -> list[Path]:
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
    """A video's timeline from its copied results.json: when each label was in view."""
    results = destination / "results.json"
    if not results.exists():
        return []
    return [
        f"{segment['label']} from {segment['start']:g} s to {segment['end']:g} s "
        f"({segment['frames']} frames, best {segment['bestConfidence']:.0%})"
        for segment in json.loads(results.read_text()).get("timeline", [])
    ]


@main.command()
@common_options
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("mediaflow-output"),
    show_default=True,
    help="Results go to OUTPUT/<file>/.",
)
@click.option("--timeout", default=300, show_default=True, help="Seconds to wait for each job.")
def process(
    template: Path,
    state_dir: Path,
    parameters: tuple[str, ...],
    smtp: str | None,
    keep_work_files: bool,
    files: tuple[Path, ...],
    output: Path,
    timeout: int,
) -> None:
    """Upload FILES, follow each execution state by state, and copy the outputs to OUTPUT."""
    settings = _settings(template, state_dir, "127.0.0.1", 0, parameters, smtp, keep_work_files)
    started = time.monotonic()
    rows = []
    with LocalStack(settings) as stack:
        for path in files:
            key, etag = stack.upload(path)
            console.print(f"[bold]{path.name}[/] → s3://{stack.bucket}/{key}")
            try:
                execution = stack.wait_for_execution(
                    key, etag, timeout=timeout, on_event=lambda event, name=path.name: _print_event(name, event)
                )
            except TimeoutError:
                console.print(f"  [dim]{path.name}[/] [red]✗ not finished after {timeout} s[/] (--timeout)")
                rows.append(
                    (
                        path.name,
                        "TIMED OUT",
                        None,
                        [],
                        output / path.name,
                        {"error": "Timeout", "cause": f"no result within {timeout} s"},
                    )
                )
                continue
            job = stack.job_for_execution(execution["executionArn"])
            destination = output / path.name
            copied = _copy_outputs(stack, job, destination) if job else []
            rows.append((path.name, execution["status"], job, copied, destination, execution))
    table = Table(title=f"MediaFlow: {len(rows)} file(s) in {time.monotonic() - started:.1f} s")
    for column in ("file", "status", "outputs", "detections", "result / reason"):
        table.add_column(column, overflow="fold")  # wrap, never cut: names and paths must stay whole
    failed = 0
    for name, status, job, copied, destination, execution in rows:
        if status == EXECUTION_SUCCEEDED:
            renditions = job.get("results", {}).get("renditions", []) if job else []
            sizes = sorted({f"{r['width']}x{r['height']}" for r in renditions}, key=lambda s: int(s.split("x")[0]))
            detail = f"{destination}" + (f"  ({', '.join(sizes)})" if sizes else "")
            table.add_row(
                name, f"[green]{status}[/]", str(len(copied)), job.get("topLabels", "") if job else "", detail
            )
        else:
            failed += 1
            # The job record has the cause in words (RecordFailure); the execution's is a Lambda error document.
            reason = (job or {}).get("failureMessage") or execution.get("cause", "")
            table.add_row(name, f"[red]{status}[/]", "0", "", f"{execution.get('error')}: {reason}")
    console.print(table)
    for name, status, _job, _copied, destination, _execution in rows:
        for line in _timeline_lines(destination) if status == EXECUTION_SUCCEEDED else []:
            console.print(f"{name}: {line}")
    console.print(f"Emails: {stack.outbox.folder}")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=Path("samples"))
def samples(folder: Path) -> None:
    """Write the sample photographs (public domain / CC0, see mediaflow/samples.py) to FOLDER."""
    for path in write_samples(folder):
        console.print(str(path))


if __name__ == "__main__":
    main()

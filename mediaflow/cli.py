"""The `mediaflow` command: `up` runs the local stack, `process` runs files through it once."""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import EndpointConnectionError
from rich.console import Console

from mediaflow.emulator import PortInUse, ensure_port_free
from mediaflow.log_shipper import log_group_of
from mediaflow.moto_patches import clock
from mediaflow.parameters import ParameterError, check_parameter, parse_overrides
from mediaflow.processing import run_files
from mediaflow.samples import write_samples
from mediaflow.stack import DEFAULT_TEMPLATE, LocalStack, StackSettings
from mediaflow.stack_client import StackClient
from mediaflow.state_store import IncompatibleStateDir
from mediaflow.template import bind_template
from mediaflow.web import StatusPageServer
from mediaflow_shared.contract.job import REPROCESS_OVERRIDABLE, next_attempt
from mediaflow_shared.contract.record import FINISHED_JOB_STATUSES

# Commands and paths must stay whole and copy-pasteable: without a terminal (CI logs, pipes)
# nothing is wrapped at 80 columns.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 10_000)
UP_STATE_DIR = Path(".mediaflow")
PROCESS_STATE_DIR = Path(".mediaflow/process")  # its own outbox: process's emails never mix with up's


class CommandError(click.ClickException):
    """A problem the user can fix, shown as one line: `error: ...`, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        console.print(f"[red]error:[/] {self.message}", highlight=False)


def _settings(
    template: Path,
    state_dir: Path,
    host: str,
    port: int,
    parameters: tuple[str, ...],
    smtp: str | None,
    keep_work_files: bool,
    dev_api: bool = False,
    fresh: bool = False,
) -> StackSettings:
    smtp_address = None
    if smtp:
        smtp_host, _, smtp_port = smtp.rpartition(":")
        smtp_address = (smtp_host or "127.0.0.1", int(smtp_port))
    try:
        overrides = parse_overrides(parameters)
    except ParameterError as err:
        raise CommandError(f"--parameter {err}") from err
    return StackSettings(
        template_path=template,
        state_dir=state_dir,
        host=host,
        port=port,
        parameter_overrides=overrides,
        smtp=smtp_address,
        keep_work_files=keep_work_files,
        dev_api=dev_api,
        fresh=fresh,
    )


def _local_stack(settings: StackSettings) -> LocalStack:
    """The stack for these settings, or a one-line error for a bad parameter or a busy port."""
    try:
        return LocalStack(settings)
    except ParameterError as err:
        raise CommandError(f"--parameter {err}") from err
    except PortInUse as err:
        raise CommandError(str(err)) from err
    except IncompatibleStateDir as err:
        raise CommandError(str(err)) from err


def _report_recovery(stack: LocalStack) -> None:
    """One line per job a crash interrupted; a line on what was restored otherwise."""
    recovered = stack.recovered
    if recovered.lines:
        console.print(f"[bold yellow]recovered {recovered.jobs} job(s) interrupted by a crash[/]")
        for line in recovered.lines:
            console.print(f"  {line}", highlight=False)
    elif recovered.objects or recovered.executions:
        console.print(
            f"restored {recovered.objects} objects, {recovered.items} items and {recovered.executions} executions "
            f"from {stack.settings.state_dir}; nothing was interrupted",
            highlight=False,
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
        default=None,
        help="Where logs and the email outbox go [default: .mediaflow for up, .mediaflow/process for process].",
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
    click.option(
        "--fresh",
        is_flag=True,
        help="Start empty: remove the state dir's objects, job records and executions (else kept across restarts).",
    ),
]


def common_options(function: Any) -> Any:
    for option in reversed(_common_options):
        function = option(function)
    return function


def running_stack_options(function: Any) -> Any:
    """--endpoint and --template: the commands that talk to a stack `mediaflow up` runs."""
    function = click.option(
        "--template",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=DEFAULT_TEMPLATE,
        show_default=True,
        help="SAM template the stack runs.",
    )(function)
    return click.option(
        "--endpoint", default="http://127.0.0.1:4566", show_default=True, help="The running stack's AWS endpoint."
    )(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mediaflow", prog_name="mediaflow")
def main() -> None:
    """MediaFlow: the SAM media workflow on this machine, no AWS account and no Docker."""


@main.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4566, show_default=True, help="AWS endpoint port (0 picks a free one).")
@click.option(
    "--web-port", type=int, default=None, help="Status page port (0 picks a free one) [default: 8080; 0 with --port 0]."
)
@click.option(
    "--dev-api", is_flag=True, help="Also serve moto's /moto-api/ (reset, config) on the AWS endpoint, for debugging."
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=None,
    help="Wait only this share of each Wait state and Retry interval (e.g. 0.01); histories show the full delays.",
)
def up(
    template: Path,
    state_dir: Path | None,
    parameters: tuple[str, ...],
    smtp: str | None,
    keep_work_files: bool,
    fresh: bool,
    host: str,
    port: int,
    web_port: int | None,
    dev_api: bool,
    time_scale: float | None,
) -> None:
    """Start the local stack and the status page, and keep them running until Ctrl-C."""
    if time_scale is not None:
        clock.set_time_scale(time_scale)
    web_port = (0 if port == 0 else 8080) if web_port is None else web_port
    try:
        port, web_port = ensure_port_free(host, port, "--port"), ensure_port_free(host, web_port, "--web-port")
    except PortInUse as err:
        raise CommandError(str(err)) from err
    settings = _settings(
        template, state_dir or UP_STATE_DIR, host, port, parameters, smtp, keep_work_files, dev_api, fresh
    )
    settings = replace(settings, page_url=f"http://{host}:{web_port}/")
    stack = _local_stack(settings)
    console.print("Starting the local stack…")
    stack.start()
    _report_recovery(stack)
    page = StatusPageServer(stack, host, web_port).start()
    endpoint = stack.endpoint
    console.print(f"[bold green]MediaFlow is up.[/] Status page: [bold]{page.url}[/]")
    console.print(f"  AWS endpoint  {endpoint}")
    console.print(f"  bucket        {stack.bucket}  (uploads under {stack.layout.upload_prefix})")
    console.print(f"  state machine {stack.state_machine_arn}")
    console.print(f"  jobs table    {stack.table}")
    console.print(f"  email outbox  {stack.outbox.folder}")
    console.print(f"  lambda logs   {stack.log_dir}  (and CloudWatch Logs: mediaflow logs FUNCTION -f)")
    console.print("\nTry it with the AWS CLI (any credentials work locally):")
    console.print("  export AWS_ACCESS_KEY_ID=mediaflow AWS_SECRET_ACCESS_KEY=mediaflow AWS_DEFAULT_REGION=us-east-1")
    console.print(
        f"  aws --endpoint-url {endpoint} s3 cp photo.jpg s3://{stack.bucket}/{stack.layout.upload_prefix}photo.jpg"
    )
    console.print(
        f"  aws --endpoint-url {endpoint} stepfunctions list-executions --state-machine-arn {stack.state_machine_arn}"
    )
    console.print(f"  aws --endpoint-url {endpoint} stepfunctions get-execution-history --execution-arn ARN")
    console.print(f"  aws --endpoint-url {endpoint} lambda list-functions")
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
@click.option(
    "--endpoint",
    metavar="URL",
    help="Use the stack a running `mediaflow up` serves at URL (its AWS endpoint) instead of starting one.",
)
def process(
    template: Path,
    state_dir: Path | None,
    parameters: tuple[str, ...],
    smtp: str | None,
    keep_work_files: bool,
    fresh: bool,
    files: tuple[Path, ...],
    output: Path,
    timeout: int,
    endpoint: str | None,
) -> None:
    """Upload FILES, follow each execution state by state, and copy the outputs to OUTPUT.

    The files are uploaded at once and run side by side; exits 1 if any job failed."""
    settings = _settings(
        template, state_dir or PROCESS_STATE_DIR, "127.0.0.1", 0, parameters, smtp, keep_work_files, fresh=fresh
    )
    started = time.monotonic()
    if endpoint:
        try:
            stack: StackClient = StackClient(bind_template(template, overrides=settings.parameter_overrides), endpoint)
            stack.client("s3").head_bucket(Bucket=stack.bucket)
        except ParameterError as err:
            raise CommandError(f"--parameter {err}") from err
        except Exception as err:
            raise CommandError(f"no MediaFlow stack answers at {endpoint}: {type(err).__name__}") from err
        failed = run_files(stack, files, output, timeout, started, console)
        console.print(f"Emails: in the outbox of the `mediaflow up` serving {endpoint}")
    else:
        local = _local_stack(settings)  # a bad parameter is refused here, before anything starts
        console.print("Starting the local stack…")
        try:
            with local:
                _report_recovery(local)
                failed = run_files(local, files, output, timeout, started, console)
                console.print(f"Emails: {local.outbox.folder}")
        except KeyboardInterrupt:  # while the stack starts or stops: the state dir keeps every upload
            console.print("Interrupted: the jobs still running were left to the stack.")
            sys.exit(130)
    sys.exit(1 if failed else 0)


def _log_groups(stack: StackClient, function: str | None) -> list[str]:
    functions = {
        resource.logical_id: stack.template.physical_ids[resource.logical_id]
        for resource in stack.template.resources_of_type("AWS::Serverless::Function")
    }
    if function is None:
        return [log_group_of(name) for name in functions.values()]
    for logical_id, name in functions.items():
        if function in (logical_id, logical_id.removesuffix("Function"), name):
            return [log_group_of(name)]
    known = ", ".join(sorted(logical.removesuffix("Function") for logical in functions))
    raise CommandError(f"no function {function!r}; the template has: {known}")


@main.command()
@click.argument("function", required=False)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("--since", default=600, show_default=True, help="Start this many seconds ago.")
@running_stack_options
def logs(function: str | None, follow: bool, since: int, endpoint: str, template: Path) -> None:
    """Print a function's log lines (all functions without FUNCTION), as `aws logs tail` does.

    FUNCTION is a template function (Validate, ValidateFunction) or its deployed name."""
    stack = StackClient(bind_template(template), endpoint)
    groups = _log_groups(stack, function)
    client, start = stack.client("logs"), int((time.time() - since) * 1000)
    seen: set[str] = set()
    try:
        while True:
            found = []
            for group in groups:
                pages = client.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=start)
                try:
                    found += [(event, group) for page in pages for event in page["events"]]
                except client.exceptions.ResourceNotFoundException:
                    continue
            for event, group in sorted(found, key=lambda item: (item[0]["timestamp"], item[0]["eventId"])):
                if event["eventId"] not in seen:
                    seen.add(event["eventId"])
                    stamp = time.strftime("%H:%M:%S", time.localtime(event["timestamp"] / 1000))
                    console.print(f"[dim]{stamp} {group.removeprefix('/aws/lambda/')}[/] {event['message']}")
            if not follow:
                return
            time.sleep(1)
    except KeyboardInterrupt:
        return
    except EndpointConnectionError as err:
        raise CommandError(f"no MediaFlow stack answers at {endpoint} (start one with `mediaflow up`)") from err


@main.command()
@click.argument("job")
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help=f"Run this attempt with another value ({', '.join(REPROCESS_OVERRIDABLE)}).",
)
@running_stack_options
def reprocess(job: str, parameters: tuple[str, ...], endpoint: str, template: Path) -> None:
    """Run a finished job again (JOB is its id or its upload's key), as a new attempt.

    The job keeps its id; its record counts the attempts, and its outputs become what this
    attempt makes. A duplicate of the upload's original event stays a harmless duplicate."""
    stack = StackClient(bind_template(template), endpoint)
    try:
        overrides = parse_overrides(parameters)
        declarations = stack.template.raw.get("Parameters", {})
        for name, value in overrides.items():
            if name not in REPROCESS_OVERRIDABLE:
                raise ParameterError(f"{name} cannot change per run; these can: {', '.join(REPROCESS_OVERRIDABLE)}")
            check_parameter(name, declarations[name], value)
    except ParameterError as err:
        raise CommandError(f"--parameter {err}") from err
    try:
        record = stack.find_job(job)
    except EndpointConnectionError as err:
        raise CommandError(f"no MediaFlow stack answers at {endpoint} (start one with `mediaflow up`)") from err
    if record is None:
        raise CommandError(f"no job with the id or upload key {job!r}")
    if record.get("status") not in FINISHED_JOB_STATUSES:
        raise CommandError(f"job {record['jobId']} is still {record.get('status')}: reprocess it once it has finished")
    execution_arn = stack.reprocess(record, overrides)
    console.print(f"{record['key']}: attempt {next_attempt(record)} → {execution_arn}")


@main.command()
@running_stack_options
def replay(endpoint: str, template: Path) -> None:
    """Start the workflow for every upload event in the intake's dead-letter queue.

    Each event is deleted from the queue once its execution has started; a replay of an upload
    that was already processed ends as a harmless DuplicateEvent."""
    stack = StackClient(bind_template(template), endpoint)
    try:
        replayed = stack.replay_dead_letters()
    except EndpointConnectionError as err:
        raise CommandError(f"no MediaFlow stack answers at {endpoint} (start one with `mediaflow up`)") from err
    for event, execution_arn in replayed:
        console.print(f"{event['detail']['object']['key']} → {execution_arn}")
    console.print(f"Replayed {len(replayed)} event(s) from the dead-letter queue.")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=Path("samples"))
def samples(folder: Path) -> None:
    """Write the sample photographs (public domain / CC0, see mediaflow/samples.py) to FOLDER."""
    for path in write_samples(folder):
        console.print(str(path))


if __name__ == "__main__":
    main()

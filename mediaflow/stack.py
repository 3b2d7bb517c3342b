"""The local stack: emulator + moto patches + template deployment + Lambda workers.

`LocalStack` is what `mediaflow up`, `mediaflow process` and the integration tests run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from mediaflow import moto_patches
from mediaflow.deploy import DeployedStack, Deployer
from mediaflow.emulator import Emulator
from mediaflow.janitor import WorkFileJanitor
from mediaflow.lambda_gateway import LambdaGateway
from mediaflow.lambda_workers import LambdaRuntime
from mediaflow.outbox import EmailOutbox
from mediaflow.runtime_log import route_runtime_logs
from mediaflow.template import REGION, bind_template
from mediaflow_shared.contract.job import job_from_event
from mediaflow_shared.contract.layout import Layout
from mediaflow_shared.contract.record import FINISHED_EXECUTION_STATUSES, JobRecord, plain_item, record_from_item

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
LOCAL_CREDENTIALS = {"aws_access_key_id": "mediaflow", "aws_secret_access_key": "mediaflow"}


@dataclass(frozen=True)
class StackSettings:
    template_path: Path = DEFAULT_TEMPLATE
    state_dir: Path = Path(".mediaflow")
    host: str = "127.0.0.1"
    port: int = 0
    stack_name: str = "mediaflow"
    parameter_overrides: dict[str, str] | None = None
    workers_per_function: int = 2
    smtp: tuple[str, int] | None = None
    keep_work_files: bool = False
    dev_api: bool = False  # expose moto's /moto-api/ (reset, config): only for debugging the emulator


class LocalStack:
    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings()
        self.emulator = Emulator(self.settings.host, self.settings.port, self.settings.dev_api)
        self.template = bind_template(
            self.settings.template_path, self.settings.stack_name, self.settings.parameter_overrides
        )
        state_dir = self.settings.state_dir.resolve()
        self.outbox = EmailOutbox(state_dir / "outbox", self.settings.smtp)
        self.log_dir = state_dir / "logs"
        self.runtime: LambdaRuntime | None = None
        self.gateway: LambdaGateway | None = None
        self.deployed = DeployedStack()
        parameters = self.template.parameters
        self.layout = Layout(parameters["UploadPrefix"], parameters["OutputPrefix"], parameters["WorkPrefix"])
        self.janitor: WorkFileJanitor | None = None
        self._session = boto3.Session(region_name=REGION, **LOCAL_CREDENTIALS)
        self._clients: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LocalStack:
        route_runtime_logs(self.log_dir / "runtime.log")
        moto_patches.apply_all(self.outbox.deliver)
        self.emulator.start()
        deployer = Deployer(self.template, self.client, self.lambda_environment())
        self.deployed = deployer.deploy()
        self.runtime = LambdaRuntime(self.deployed.functions, self.log_dir, self.settings.workers_per_function)
        self.gateway = LambdaGateway(self.runtime)
        self.gateway.install()
        if not self.settings.keep_work_files:
            self.janitor = WorkFileJanitor(self.jobs, self.discard_work_files)
            self.janitor.start()
        return self

    def stop(self) -> None:
        if self.janitor:
            self.janitor.stop()
        if self.gateway:
            self.gateway.uninstall()
        if self.runtime:
            self.runtime.close()
        self.emulator.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def lambda_environment(self) -> dict[str, str]:
        """What every local function sees besides the template's own variables."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            # No X-Ray daemon locally; Tracer becomes a no-op, as Powertools documents.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
            "PATH": os.environ.get("PATH", ""),
        }

    # -- access ------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return self.emulator.endpoint

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, endpoint_url=self.endpoint, config=Config(retries={"max_attempts": 2})
            )
        return self._clients[service]

    @property
    def bucket(self) -> str:
        return self.deployed.buckets["MediaBucket"]

    @property
    def table(self) -> str:
        return self.deployed.tables["JobsTable"]

    @property
    def state_machine_arn(self) -> str:
        return self.deployed.state_machines["MediaPipelineStateMachine"]

    def _keys_under(self, prefix: str) -> list[str]:
        pages = self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def list_work_files(self, job_id: str) -> list[str]:
        return self._keys_under(self.layout.work(job_id))

    def discard_work_files(self, job_id: str) -> None:
        keys = self.list_work_files(job_id)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.client("s3").delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    # -- jobs --------------------------------------------------------------------------

    def upload(self, path: Path, key: str | None = None) -> tuple[str, str]:
        """Upload a file under the upload prefix; returns (key, etag)."""
        key = key or f"{self.layout.upload_prefix}{path.name}"
        response = self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
        return key, response["ETag"].strip('"')

    def executions_for(self, key: str, etag: str | None = None) -> list[dict[str, Any]]:
        """Executions whose input event names this object, oldest first."""
        sfn = self.client("stepfunctions")
        found = []
        paginator = sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=self.state_machine_arn):
            for execution in page["executions"]:
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                job = self._job_of(described)
                if job["key"] == key and (etag is None or job["etag"] == etag):
                    found.append(described)
        return sorted(found, key=lambda e: e["startDate"])

    def wait_for_execution(
        self,
        key: str,
        etag: str | None = None,
        timeout: float = 120,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Wait for the newest execution started for `key` to finish; stream its history events."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        execution_arn = None
        seen = 0
        while time.monotonic() < deadline:
            if execution_arn is None:
                executions = self.executions_for(key, etag)
                execution_arn = executions[-1]["executionArn"] if executions else None
            if execution_arn:
                described = sfn.describe_execution(executionArn=execution_arn)
                # Read the history after the status, so a finished execution's last events are included.
                history = self.execution_history(execution_arn)
                if on_event:
                    for event in history[seen:]:
                        on_event(event)
                seen = len(history)
                if described["status"] in FINISHED_EXECUTION_STATUSES:
                    return described
            time.sleep(0.1)
        raise TimeoutError(f"no finished execution for {key} within {timeout} s")

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every history event of an execution (all pages)."""
        paginator = self.client("stepfunctions").get_paginator("get_execution_history")
        return [event for page in paginator.paginate(executionArn=execution_arn) for event in page["events"]]

    def _job_of(self, execution: dict[str, Any]) -> dict[str, Any]:
        """The job an execution's input event starts (its key resolved as DescribeUpload does)."""
        return dict(job_from_event(json.loads(execution["input"]), execution["executionArn"], "", self._exists))

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self.client("s3").head_object(Bucket=bucket, Key=key)
        except self.client("s3").exceptions.ClientError:
            return False
        return True

    def job_for_execution(self, execution_arn: str) -> JobRecord | None:
        """The job record of an execution."""
        execution = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
        return self.job(self._job_of(execution)["jobId"])

    def job(self, job_id: str) -> JobRecord | None:
        item = self.client("dynamodb").get_item(TableName=self.table, Key={"jobId": {"S": job_id}}).get("Item")
        return record_from_item(plain_item(item)) if item else None

    def jobs(self) -> list[JobRecord]:
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=self.table)
        return [record_from_item(plain_item(item)) for page in pages for item in page["Items"]]

    def list_outputs(self, job_id: str) -> list[str]:
        return self._keys_under(self.layout.outputs(job_id))

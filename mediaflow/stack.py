"""The local stack: emulator + moto patches + template deployment + Lambda workers.

`LocalStack` is what `mediaflow up`, `mediaflow process` and the integration tests run.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediaflow import memory_trim, moto_patches
from mediaflow.deploy import Deployer
from mediaflow.emulator import Emulator
from mediaflow.janitor import WorkFileJanitor
from mediaflow.lambda_gateway import LambdaGateway
from mediaflow.lambda_workers import LambdaRuntime
from mediaflow.log_shipper import LogShipper
from mediaflow.outbox import EmailOutbox
from mediaflow.periodic import Periodic
from mediaflow.recovery import Recovered, restore_and_recover
from mediaflow.runtime_log import route_runtime_logs
from mediaflow.stack_client import LOCAL_CREDENTIALS, StackClient
from mediaflow.state_store import StateStore
from mediaflow.template import REGION, bind_template
from mediaflow_shared.contract.record import plain_item, record_from_item

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"


@dataclass(frozen=True)
class StackSettings:
    template_path: Path = DEFAULT_TEMPLATE
    state_dir: Path = Path(".mediaflow")
    host: str = "127.0.0.1"
    port: int = 0
    stack_name: str = "mediaflow"
    parameter_overrides: dict[str, str] | None = None
    lambda_concurrency: int | None = None  # invocations at once; None: one per core
    smtp: tuple[str, int] | None = None
    keep_work_files: bool = False
    dev_api: bool = False  # expose moto's /moto-api/ (reset, config): only for debugging the emulator
    page_url: str | None = None  # the status page `up` serves: where emails link to a job
    fresh: bool = False  # start with empty state: the state dir's objects, jobs and executions are removed


class LocalStack(StackClient):
    """The whole stack in this process: emulator, deployed template, Lambda workers, janitor."""

    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings()
        template = bind_template(
            self.settings.template_path, self.settings.stack_name, self.settings.parameter_overrides
        )
        self.emulator = Emulator(self.settings.host, self.settings.port, self.settings.dev_api)
        super().__init__(template, self.emulator.endpoint)
        state_dir = self.settings.state_dir.resolve()
        state_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.fresh:
            StateStore.wipe(state_dir)
        self.store = StateStore(state_dir)  # IncompatibleStateDir: refused before anything starts
        self.recovered = Recovered()
        # What another stack in this process had installed, handed back on stop.
        self._outer_store: StateStore | None = None
        self._outer_runner: moto_patches.LambdaRunner | None = None
        self._outer_sink: moto_patches.EmailSink | None = None
        self.outbox = EmailOutbox(state_dir / "outbox", self.settings.smtp)
        self.log_dir = state_dir / "logs"
        self.runtime: LambdaRuntime | None = None
        self.gateway: LambdaGateway | None = None
        self.janitor: WorkFileJanitor | None = None
        self.log_shipper: LogShipper | None = None
        # A runtime left up holds what it uses, not its high-water mark (mediaflow/memory_trim.py).
        self.memory_trim = Periodic("memory-trim", memory_trim.TRIM_EVERY_SECONDS, memory_trim.release_free_memory)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LocalStack:
        # Before the emulator's threads exist: they share two heaps (mediaflow/memory_trim.py).
        memory_trim.limit_thread_heaps()
        route_runtime_logs(self.log_dir / "runtime.log")
        self._outer_sink = moto_patches.apply_all(self.outbox.deliver)
        self._outer_store = moto_patches.persist_to(self.store)
        self.emulator.start()
        functions = Deployer(self.template, self.client, self.lambda_environment(), self.settings.page_url).deploy()
        self.runtime = LambdaRuntime(functions, self.log_dir, self.settings.lambda_concurrency)
        self._outer_runner = moto_patches.serve_lambda_invocations(self.runtime.invoke)
        self.log_shipper = LogShipper(
            moto_patches.deliver_log_events,
            {self.log_dir / f"{spec.logical_id}.log": spec.name for spec in functions},
        )
        self.log_shipper.start()
        self.gateway = LambdaGateway(self.runtime)
        self.gateway.install()
        self.recovered = restore_and_recover(self.store, self.table, self.layout.upload_prefix)
        if not self.settings.keep_work_files:
            # The lifecycle rule that expires the work prefix on AWS, run inside the emulator's S3.
            self.janitor = WorkFileJanitor(
                self.jobs, lambda job_id: moto_patches.expire_objects(self.bucket, self.layout.work(job_id))
            )
            self.store.watch_items(self._item_written)
            self.janitor.start()
        # What start built lives as long as the stack (moto's service models, the parsed template
        # and definitions: ~300,000 objects). Frozen, the collector stops walking it at every full
        # collection (~0.15 s each, ~1.3 s of engine CPU over a 300-job run).
        gc.collect()
        gc.freeze()
        self.memory_trim.start()
        return self

    def stop(self) -> None:
        gc.unfreeze()  # collectable again once the stack is gone
        self.memory_trim.stop()
        if self.janitor:
            self.janitor.stop()
        if self.gateway:
            self.gateway.uninstall()
        if self.runtime:
            moto_patches.serve_lambda_invocations(self._outer_runner)
            self.runtime.close()
        if self.log_shipper:
            self.log_shipper.stop()
        self.emulator.stop()
        moto_patches.persist_to(self._outer_store)
        if self._outer_sink is not None:
            moto_patches.deliver_email_to(self._outer_sink)
        self.store.close()

    def _item_written(self, table: str, item: dict[str, Any]) -> None:
        if table == self.table and self.janitor is not None:
            self.janitor.job_changed(record_from_item(plain_item(item)))

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

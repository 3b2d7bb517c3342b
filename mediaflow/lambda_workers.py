"""Run Lambda handlers from template.yaml in worker processes, like warm Lambda sandboxes.

Each function gets its own pool of processes (started with "spawn", so nothing of the
emulator's threads leaks in). A worker imports the handler once and then serves
invocations one at a time, with the function's environment, its layers on sys.path and
AWS_ENDPOINT_URL pointing at the emulator. As on Lambda, the import (the INIT phase) has 10 s
of its own before the function's Timeout starts counting; past that, the rest of it counts
against the first invocation. A worker that exceeds the function's Timeout is killed (as
Lambda kills the sandbox) and the invocation fails with Sandbox.Timedout; a worker that dies
fails it with Runtime.ExitError.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import multiprocessing.connection
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SPAWN = multiprocessing.get_context("spawn")
_STARTING = threading.Lock()  # one worker start at a time: __main__ is swapped while it starts
INIT_LIMIT_SECONDS = 10.0  # Lambda's INIT phase limit for on-demand functions


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs to know to run one AWS::Serverless::Function."""

    name: str
    logical_id: str
    code_dir: Path
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)
    layer_dirs: tuple[Path, ...] = ()

    @property
    def arn(self) -> str:
        from mediaflow.template import ACCOUNT_ID, REGION

        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"


@dataclass(frozen=True)
class InvocationResult:
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the handler failed, as AWS reports it

    @property
    def error_type(self) -> str | None:
        if self.function_error is None:
            return None
        return json.loads(self.payload).get("errorType")


def response_payload(result: Any) -> bytes:
    """A handler's return value as Lambda's Python runtime sends it: bytes as they are, else JSON."""
    if isinstance(result, bytes | bytearray):
        return bytes(result)
    return json.dumps(result, ensure_ascii=False).encode()


def error_payload(error_type: str, message: str, stack: list[str] | None = None) -> bytes:
    return json.dumps(
        {"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}, ensure_ascii=False
    ).encode()


class _LambdaContext:
    """The attributes of the Lambda context object handlers (and Powertools) use."""

    def __init__(self, spec_name: str, arn: str, memory_mb: int, request_id: str, deadline: float) -> None:
        self.function_name = spec_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec_name}"
        self.log_stream_name = f"local/{os.getpid()}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _worker_main(
    spec: FunctionSpec, connection: multiprocessing.connection.Connection, log_path: str, tmp_dir: str
) -> None:
    """Body of a worker process: import the handler once, then serve invocations."""
    # Ctrl-C reaches the whole process group; the parent stops its workers (no traceback in their logs).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    os.environ.update(spec.environment)
    os.environ["TMPDIR"] = tmp_dir  # this sandbox's own /tmp, removed with it
    for path in (spec.code_dir, *spec.layer_dirs):
        sys.path.insert(0, str(path))
    module_name, function_name = spec.handler.rsplit(".", 1)
    init_started = time.perf_counter()
    try:
        handler = getattr(__import__(module_name), function_name)
    except Exception as err:  # an import error fails every invocation, as on Lambda
        init_error = error_payload("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {err}")
        connection.send(_READY)
        while True:
            connection.recv()
            connection.send((init_error, "Unhandled"))
    init_ms: float | None = (time.perf_counter() - init_started) * 1000
    connection.send(_READY)
    while True:
        request_id, payload, deadline = connection.recv()
        context = _LambdaContext(spec.name, spec.arn, spec.memory_mb, request_id, deadline)
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        started = time.perf_counter()
        try:
            result = handler(json.loads(payload) if payload else {}, context)
            reply = (response_payload(result), None)
        except Exception as err:
            stack = traceback.format_exception(err)
            reply = (error_payload(type(err).__name__, str(err), stack), "Unhandled")
        print(f"END RequestId: {request_id}")
        print(_report_line(request_id, (time.perf_counter() - started) * 1000, spec.memory_mb, init_ms), flush=True)
        init_ms = None  # Init Duration is reported on a cold start only
        connection.send(reply)


def _report_line(request_id: str, duration_ms: float, memory_mb: int, init_ms: float | None) -> str:
    """Lambda's REPORT line: duration, billed duration (whole ms, INIT included since 2025-08), memory."""
    max_used_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # Linux reports KiB
    billed = math.ceil(duration_ms + (init_ms or 0))
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms"
        f"\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_used_mb} MB"
    )
    return line + (f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else "")


_READY = "ready"  # what a worker sends once its INIT phase (the handler's import) is over


@contextmanager
def _parent_main_hidden() -> Iterator[None]:
    """While a worker starts, `__main__` is an empty module.

    spawn makes every child re-import its parent's main module (multiprocessing's "main
    fixup"); under `mediaflow up` or `process` that is the CLI and with it the whole emulator
    (moto, werkzeug, boto3's service models): ~2 s and ~110 MB per cold worker that a Lambda
    sandbox never pays. The worker's target lives in this module, so it needs nothing from
    `__main__`; its INIT is then the handler's own imports, as Lambda bills it."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class _Worker:
    def __init__(self, spec: FunctionSpec, log_path: Path) -> None:
        self.connection, child = _SPAWN.Pipe()
        self.tmp_dir = Path(tempfile.mkdtemp(prefix=f"mediaflow-{spec.logical_id}-"))
        self.process = _SPAWN.Process(
            target=_worker_main,
            args=(spec, child, str(log_path), str(self.tmp_dir)),
            name=f"lambda:{spec.name}",
            daemon=True,
        )
        with _STARTING, _parent_main_hidden():
            self.process.start()
        child.close()
        self.initialised = False
        self._stopping = threading.Lock()
        self._stopped = False

    def wait_for_init(self, seconds: float) -> bool:
        """True once the handler's import is over; raises EOFError if the worker died during it."""
        if not self.initialised and self.connection.poll(max(0.0, seconds)):
            self.initialised = self.connection.recv() == _READY
        return self.initialised

    def exit_reason(self) -> str:
        """How the process ended, in Lambda's words ("signal: killed", "exit status 3")."""
        self.process.join(timeout=5)  # its exit code is known only once it has been reaped
        code = self.process.exitcode
        if code is None:
            return "unknown"
        if code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower().replace('kill', 'killed')}"
        return f"exit status {code}"

    def stop(self) -> None:
        """Idempotent: the pool closing and an invocation finding its worker dead may both stop it."""
        with self._stopping:
            if self._stopped:
                return
            self._stopped = True
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)  # what a dead handler left in its /tmp


class FunctionPool:
    """Warm workers for one function. How many run at once, and how many stay alive, is the
    runtime's to decide (LambdaRuntime): a pool asks it for a slot and for room."""

    def __init__(self, spec: FunctionSpec, log_dir: Path, runtime: LambdaRuntime) -> None:
        self.spec = spec
        self._log_path = log_dir / f"{spec.logical_id}.log"
        self._runtime = runtime
        self._idle: list[tuple[float, _Worker]] = []  # (idle since, worker), oldest first
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        # As Lambda's REPORT line bills each invocation: handler time, plus INIT on a cold start (billed since
        # 2025-08). Totals, not a list: a runtime left up for a week would keep every invocation's figure.
        self.invocations = 0
        self.billed_ms = 0.0

    def _live_pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._all if worker.process.is_alive()]

    def live_workers(self) -> int:
        with self._lock:
            return len(self._all)

    def oldest_idle_since(self) -> float | None:
        with self._lock:
            return self._idle[0][0] if self._idle else None

    def retire_oldest_idle(self) -> bool:
        """Stop this pool's longest-idle worker (the runtime needs its room); False if none is idle."""
        with self._lock:
            if not self._idle:
                return False
            _, worker = self._idle.pop(0)
            self._all.discard(worker)
        worker.stop()
        return True

    def peak_rss_mb(self) -> list[float]:
        return [peak for peak in map(_peak_rss_mb, self._live_pids()) if peak is not None]

    def cpu_seconds(self) -> float:
        """User + system CPU the live workers have used (Linux /proc/<pid>/stat)."""
        return sum(_cpu_seconds(pid) for pid in self._live_pids())

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()[1]  # the most recently used: the warmest caches
        with self._runtime.room_for_a_worker():
            worker = _Worker(self.spec, self._log_path)
            with self._lock:
                self._all.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._all.discard(worker)

    def invoke(self, payload: bytes, wait_for_slot: bool = True) -> InvocationResult:
        if not wait_for_slot:
            return self._invoke(payload)
        with self._runtime.running_slot():
            return self._invoke(payload)

    def _invoke(self, payload: bytes) -> InvocationResult:
        timeout = self.spec.timeout_seconds
        worker = self._acquire()
        request_id = str(uuid.uuid4())
        try:
            started = time.perf_counter()
            budget = float(timeout)
            if not worker.wait_for_init(INIT_LIMIT_SECONDS):  # Lambda then finishes INIT on the clock
                overrun_started = time.perf_counter()
                worker.wait_for_init(budget)
                budget -= time.perf_counter() - overrun_started
            ready = False
            if worker.initialised and budget > 0:
                worker.connection.send((request_id, payload, time.time() + budget))
                ready = worker.connection.poll(budget)
            if not ready:
                self._retire(worker)
                return InvocationResult(
                    error_payload("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds"), "Unhandled"
                )
            body, function_error = worker.connection.recv()
            with self._lock:
                self.invocations += 1
                self.billed_ms += (time.perf_counter() - started) * 1000
        except (EOFError, OSError, BrokenPipeError):
            reason = worker.exit_reason()
            self._retire(worker)
            return InvocationResult(
                error_payload(
                    "Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
                ),
                "Unhandled",
            )
        with self._lock:
            if self._closed:
                worker.stop()
            else:
                self._idle.append((time.monotonic(), worker))
        return InvocationResult(body, function_error)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            worker.stop()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _peak_rss_mb(pid: int | None) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone, or not Linux
        return None
    kilobytes = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return None if kilobytes is None else round(kilobytes / 1024, 1)


def machine_concurrency() -> int:
    """Handler invocations that run at once: one per core this process may use. The handlers are
    CPU-bound (decoding, resizing, a network's forward pass): more at once only share the same
    cores, multiply the memory and slow the engine, which serves their S3 calls on those cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LambdaRuntime:
    """All functions of the template, by name and ARN, sharing one machine-sized budget:
    `concurrency` invocations run at once (the rest wait their turn: back-pressure on the
    engine's Task, not a queue of processes), and at most `concurrency` + one per function
    workers stay alive (the longest-idle one is stopped to make room for a cold start elsewhere)."""

    def __init__(
        self,
        specs: list[FunctionSpec],
        log_dir: Path,
        concurrency: int | None = None,
        max_live_workers: int | None = None,
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.concurrency = concurrency or machine_concurrency()
        self.live_limit = max(self.concurrency, max_live_workers or self.concurrency + len(specs))
        self._running = threading.Semaphore(self.concurrency)
        self._room = threading.Lock()
        self._pools = {spec.name: FunctionPool(spec, log_dir, self) for spec in specs}

    @contextmanager
    def running_slot(self) -> Iterator[None]:
        """Held while an invocation runs; waits while `concurrency` others do."""
        with self._running:
            yield

    def live_workers(self) -> int:
        return sum(pool.live_workers() for pool in self._pools.values())

    @contextmanager
    def room_for_a_worker(self) -> Iterator[None]:
        """Held while a worker starts: first the longest-idle workers stop while the budget is spent."""
        with self._room:
            while self.live_workers() >= self.live_limit:
                idle = [
                    (since, pool) for pool in self._pools.values() if (since := pool.oldest_idle_since()) is not None
                ]
                if not idle or not min(idle, key=lambda entry: entry[0])[1].retire_oldest_idle():
                    break  # every live worker is busy: the running slots bound them
            yield

    def find(self, function_name: str) -> FunctionPool | None:
        """Accepts a name, a full ARN or a qualified ARN, as Invoke does."""
        if function_name.startswith("arn:"):
            function_name = function_name.split(":")[6]
        return self._pools.get(function_name.split(":")[0])

    def invoke(self, function_name: str, payload: bytes, wait_for_slot: bool = True) -> InvocationResult:
        """`wait_for_slot=False`: run now, beside the `concurrency` running ones (a person waiting on
        the status page is not queued behind a long video's frames)."""
        pool = self.find(function_name)
        if pool is None:
            raise KeyError(function_name)
        return pool.invoke(payload, wait_for_slot)

    def billed_by_function(self) -> dict[str, tuple[int, float]]:
        """Logical id -> (invocations, total handler milliseconds)."""
        return {pool.spec.logical_id: (pool.invocations, pool.billed_ms) for pool in self._pools.values()}

    def peak_rss_mb(self) -> dict[str, list[float]]:
        """Logical id -> each live worker's peak resident memory (Linux VmHWM), MB: what Lambda's
        REPORT line calls Max Memory Used."""
        return {pool.spec.logical_id: pool.peak_rss_mb() for pool in self._pools.values()}

    def cpu_seconds(self) -> dict[str, float]:
        """Logical id -> CPU seconds its live workers have used."""
        return {pool.spec.logical_id: pool.cpu_seconds() for pool in self._pools.values()}

    def gb_seconds(self) -> float:
        """GB-seconds billed so far across functions: handler time x the template's MemorySize."""
        return sum(pool.billed_ms / 1000 * pool.spec.memory_mb / 1024 for pool in self._pools.values())

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()

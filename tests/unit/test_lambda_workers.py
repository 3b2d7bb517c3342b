"""Worker processes behave like Lambda sandboxes: errors, timeouts, crashes, environment."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediaflow import lambda_workers
from mediaflow.lambda_workers import FunctionPool, FunctionSpec, LambdaRuntime

HANDLER = """
import os, sys, time
import helper

class ImageExploded(Exception):
    pass

def handler(event, context):
    action = event.get("action")
    if action == "raise":
        raise ImageExploded("boom")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "crash":
        os._exit(3)
    if action == "killed":  # the kernel's OOM killer, or kill -9
        with open(os.path.join(os.environ["TMPDIR"], "half-written.bin"), "wb") as partial:
            partial.write(b"x" * 1024 * 1024)
        os.kill(os.getpid(), 9)
    if action == "tmp":
        return {"tmp": os.environ["TMPDIR"]}
    if action == "bytes":
        return b'{"raw": "as returned"}'
    return {"env": os.environ.get("GREETING"), "layer": helper.NAME, "pid": os.getpid(),
            "remaining_ms": context.get_remaining_time_in_millis(), "name": context.function_name}
"""


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[FunctionPool]:
    code, layer = tmp_path / "code", tmp_path / "layer"
    code.mkdir()
    layer.mkdir()
    (code / "app.py").write_text(HANDLER)
    (layer / "helper.py").write_text("NAME = 'from-layer'\n")
    spec = FunctionSpec(
        name="fn",
        logical_id="Fn",
        code_dir=code,
        handler="app.handler",
        timeout_seconds=2,
        memory_mb=128,
        environment={"GREETING": "hello"},
        layer_dirs=(layer,),
    )
    function_pool = _only_pool(spec, tmp_path)
    yield function_pool
    function_pool.close()


def _only_pool(spec: FunctionSpec, log_dir: Path) -> FunctionPool:
    """The pool of a runtime with this one function, one invocation at a time."""
    pool = LambdaRuntime([spec], log_dir, concurrency=1).find(spec.name)
    assert pool is not None
    return pool


def _invoke(pool: FunctionPool, **event: object) -> tuple[dict, str | None]:
    result = pool.invoke(json.dumps(event).encode())
    return json.loads(result.payload), result.function_error


def test_environment_layers_and_context(pool: FunctionPool) -> None:
    body, error = _invoke(pool)
    assert error is None
    assert body["env"] == "hello" and body["layer"] == "from-layer" and body["name"] == "fn"
    assert 0 < body["remaining_ms"] <= 2000


def test_peak_memory_is_read_for_each_live_worker(pool: FunctionPool) -> None:
    assert pool.peak_rss_mb() == [], "no worker yet"
    _invoke(pool)
    (peak,) = pool.peak_rss_mb()
    assert 5 < peak < 2048, peak  # a Python process with its handler imported, in MB


def test_worker_stays_warm_between_invocations(pool: FunctionPool) -> None:
    first, _ = _invoke(pool)
    second, _ = _invoke(pool)
    assert first["pid"] == second["pid"]


def test_a_handler_returning_bytes_sends_them_as_they_are(pool: FunctionPool) -> None:
    """Lambda's Python runtime passes a bytes result through; the worker's json.dumps raised TypeError."""
    assert _invoke(pool, action="bytes") == ({"raw": "as returned"}, None)


def test_exception_is_reported_like_aws(pool: FunctionPool) -> None:
    body, error = _invoke(pool, action="raise")
    assert error == "Unhandled"
    assert body["errorType"] == "ImageExploded" and body["errorMessage"] == "boom"
    assert any("ImageExploded" in line for line in body["stackTrace"])


def test_timeout_kills_the_sandbox(pool: FunctionPool) -> None:
    before, _ = _invoke(pool)
    body, error = _invoke(pool, action="sleep", seconds=30)
    assert error == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "2.00 seconds" in body["errorMessage"]
    after, _ = _invoke(pool)
    assert after["pid"] != before["pid"], "a timed-out sandbox is replaced"


def test_crash_is_a_runtime_exit_error(pool: FunctionPool) -> None:
    body, error = _invoke(pool, action="crash")
    assert error == "Unhandled" and body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 3")
    recovered, error = _invoke(pool)
    assert error is None and recovered["env"] == "hello"


def test_a_killed_worker_is_reported_with_its_signal_and_leaves_no_temp_files(pool: FunctionPool) -> None:
    """The bug: "Runtime exited with None", and a 1 MiB temp file left behind."""
    tmp = Path(_invoke(pool, action="tmp")[0]["tmp"])
    assert tmp.is_dir()
    body, error = _invoke(pool, action="killed")
    assert error == "Unhandled" and body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: signal: killed"), body
    assert not tmp.exists(), "a dead sandbox's /tmp goes with it"


def test_import_error_fails_each_invocation(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import no_such_module\n")
    spec = FunctionSpec(
        name="broken", logical_id="Broken", code_dir=tmp_path, handler="app.handler", timeout_seconds=5, memory_mb=128
    )
    broken = _only_pool(spec, tmp_path)
    try:
        body, error = _invoke(broken)
        assert error == "Unhandled" and body["errorType"] == "Runtime.ImportModuleError"
    finally:
        broken.close()


def _slow_init_pool(tmp_path: Path, import_seconds: float) -> FunctionPool:
    (tmp_path / "app.py").write_text(
        f"import time\ntime.sleep({import_seconds})  # heavy imports, model loading\n"
        "def handler(event, context):\n    return {'remaining_ms': context.get_remaining_time_in_millis()}\n"
    )
    spec = FunctionSpec(
        name="slow", logical_id="Slow", code_dir=tmp_path, handler="app.handler", timeout_seconds=2, memory_mb=128
    )
    return _only_pool(spec, tmp_path)


def test_init_has_its_own_time_before_the_timeout_counts(tmp_path: Path) -> None:
    slow = _slow_init_pool(tmp_path, import_seconds=3)  # longer than the 2 s Timeout, inside INIT's 10 s
    try:
        body, error = _invoke(slow)
        assert error is None, body
        assert body["remaining_ms"] > 1000, "the handler's clock starts after INIT"
        assert (slow.invocations, slow.billed_ms >= 3000) == (1, True), "a cold start bills its INIT phase"
    finally:
        slow.close()


def test_init_past_its_limit_counts_against_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_workers, "INIT_LIMIT_SECONDS", 0.5)
    slow = _slow_init_pool(tmp_path, import_seconds=4)  # 0.5 s of INIT, then 3.5 s more than the 2 s Timeout
    try:
        body, error = _invoke(slow)
        assert error == "Unhandled" and body["errorType"] == "Sandbox.Timedout"
    finally:
        slow.close()


PARENT = """
import json, sys
from pathlib import Path

import moto  # the heavy import a `mediaflow up` parent has and a sandbox must not inherit

from mediaflow.lambda_workers import LambdaRuntime, FunctionSpec

if __name__ == "__main__":
    code = Path(sys.argv[1])
    spec = FunctionSpec(
        name="fn", logical_id="Fn", code_dir=code, handler="app.handler", timeout_seconds=30, memory_mb=128
    )
    runtime = LambdaRuntime([spec], code, concurrency=1)
    print(runtime.invoke("fn", b"{}").payload.decode())
    runtime.close()
"""


def test_a_worker_does_not_import_its_parents_main_module(tmp_path: Path) -> None:
    """The bug: spawn re-imported the parent's __main__ (the CLI, and with it moto) in every worker."""
    import subprocess
    import sys

    (tmp_path / "app.py").write_text("import sys\ndef handler(event, context):\n    return sorted(sys.modules)\n")
    (tmp_path / "parent.py").write_text(PARENT)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "parent.py"), str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert "mediaflow.lambda_workers" in modules, "the worker itself was imported"
    assert "moto" not in modules and "werkzeug" not in modules


TIMED = """
import os, time
def handler(event, context):
    started = time.monotonic()
    time.sleep(event.get("seconds", 0))
    return {"pid": os.getpid(), "started": started, "ended": time.monotonic()}
"""


def test_the_machine_budget_runs_so_many_at_once_and_keeps_so_many_alive(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(TIMED)
    specs = [
        FunctionSpec(
            name=name,
            logical_id=name.title(),
            code_dir=tmp_path,
            handler="app.handler",
            timeout_seconds=10,
            memory_mb=128,
        )
        for name in ("one", "two", "three")
    ]
    assert LambdaRuntime(specs, tmp_path / "logs", concurrency=1).live_limit == 4  # one running, one warm each
    runtime = LambdaRuntime(specs, tmp_path / "logs", concurrency=1, max_live_workers=2)
    try:
        import threading

        results: list[dict] = []

        def call_one() -> None:
            results.append(json.loads(runtime.invoke("one", b'{"seconds": 0.5}').payload))

        calls = [threading.Thread(target=call_one) for _ in range(2)]
        for call in calls:
            call.start()
        for call in calls:
            call.join()
        first, second = sorted(results, key=lambda r: r["started"])
        assert second["started"] >= first["ended"], "one at a time: the second waited for a slot"
        assert first["pid"] == second["pid"], "and ran warm in the same worker"

        busy = threading.Thread(target=call_one)  # holds the only slot for 0.5 s
        busy.start()
        time.sleep(0.1)
        now = json.loads(runtime.invoke("one", b"{}", wait_for_slot=False).payload)
        busy.join()
        assert now["started"] < results[-1]["ended"], "the status page's call did not wait for the slot"

        runtime.invoke("two", b"{}")
        assert runtime.live_workers() == 2
        # A third function's cold start would pass the budget: the longest-idle worker ("one") makes room.
        runtime.invoke("three", b"{}")
        live = {name: pool.live_workers() for name, pool in runtime._pools.items()}
        assert live == {"one": 0, "two": 1, "three": 1}
    finally:
        runtime.close()

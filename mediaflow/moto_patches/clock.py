"""A time scale for Wait states and Retry intervals, so a test need not sit through them.

moto sleeps each Retry interval and Wait in real time (a Retry with IntervalSeconds 30 and three
attempts holds a test for 3.5 minutes). With a scale below 1 the engine pauses only
`seconds * scale`, and the execution's clock runs ahead by the rest: every later history event of
that execution is stamped as if the whole delay had passed, so the history records the delays AWS
would have taken. The scale is 1 (real time) unless `MEDIAFLOW_TIME_SCALE` or
`mediaflow up --time-scale` says otherwise.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

TIME_SCALE_VARIABLE = "MEDIAFLOW_TIME_SCALE"
_scale = 1.0
_offsets_lock = threading.Lock()


def time_scale() -> float:
    return _scale


def set_time_scale(scale: float) -> None:
    """0 < scale ≤ 1: the share of each Wait and Retry delay the engine really waits."""
    global _scale
    if not 0 < scale <= 1:
        raise ValueError(f"a time scale must be above 0 and at most 1, got {scale}")
    _scale = scale


def time_scale_from_environment() -> None:
    value = os.environ.get(TIME_SCALE_VARIABLE)
    if value:
        set_time_scale(float(value))


def _run_ahead(env: Any, seconds: float) -> None:
    manager = env.event_manager
    with _offsets_lock:
        manager.virtual_offset_seconds = getattr(manager, "virtual_offset_seconds", 0.0) + seconds


def pause(env: Any, seconds: float) -> None:
    """Wait `seconds` of execution time: `seconds * scale` of real time, less if the execution stops.
    moto's Wait re-waited after any wake-up; its Retry slept through an abort."""
    if seconds <= 0:
        return
    deadline = time.monotonic() + seconds * _scale
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _run_ahead(env, seconds - seconds * _scale)
            return
        env.program_state_event.wait(remaining)


def _wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
    pause(env, wait_seconds)


def _retrier_eval_body(self: Any, env: Any) -> None:
    """moto's RetrierDecl._eval_body with its `time.sleep(interval)` made a `pause`."""
    self.error_equals.eval(env)
    if not env.stack.pop():
        env.stack.append(RetrierOutcome.Skipped)
        return
    self.max_attempts.eval(env=env)
    if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
        env.stack.append(RetrierOutcome.Failed)
        return
    self.interval_seconds.eval(env=env)
    self.backoff_rate.eval(env=env)
    self.max_delay_seconds.eval(env=env)
    self.jitter_strategy.eval(env=env)
    pause(env, env.stack.pop())
    env.stack.append(RetrierOutcome.Executed)


original_add_event = EventManager.add_event


def _add_event(
    self: Any, context: Any, event_type: Any, event_details: Any = None, timestamp: Any = None, **kwargs: Any
):
    offset = getattr(self, "virtual_offset_seconds", 0.0)
    if timestamp is None and offset:
        timestamp = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)
    return original_add_event(self, context, event_type, event_details, timestamp, **kwargs)


def apply() -> None:
    global original_add_event
    original_add_event = EventManager.add_event  # whatever is there now: the history limit wraps it too
    time_scale_from_environment()
    retrier_decl.RetrierDecl._eval_body = _retrier_eval_body
    WaitFunction._wait_interval = _wait_interval
    EventManager.add_event = _add_event

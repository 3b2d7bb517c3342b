"""Execution limits AWS enforces and moto did not, and the errors nothing can catch.

- History: an execution's history holds at most 25,000 events; the next one fails the execution
  with States.Runtime (AWS: "Step Functions service quotas"). moto let a 10,000-item inline Map
  write 40,006 events, and reading that history back took a minute.
- moto keeps every thread it starts in a module list forever; finished ones are dropped here.
- `States.ALL` in a Retry or Catch matches every error except the terminal ones,
  States.DataLimitExceeded and States.Runtime (AWS: "Error handling in Step Functions").
  moto's States.ALL matched them too, so a Catch could swallow a failure AWS would not let pass.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import IterationWorker
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.utils import TMP_THREADS

HISTORY_LIMIT = 25_000
_places_lock = threading.Lock()
_CLOSING_EVENTS = {
    HistoryEventType.ExecutionFailed,
    HistoryEventType.ExecutionSucceeded,
    HistoryEventType.ExecutionAborted,
    HistoryEventType.ExecutionTimedOut,
}
_TERMINAL_ERRORS = {
    StatesErrorNameType.StatesStatesDataLimitExceeded.to_name(),
    StatesErrorNameType.StatesRuntime.to_name(),
}


class HistoryLimitExceeded(RuntimeError):
    """Raised by the event that would pass the limit; the engine fails the execution with States.Runtime."""

    def __init__(self) -> None:
        super().__init__(f"The execution reached the maximum number of events in its history ({HISTORY_LIMIT}).")


original_add_event = EventManager.add_event  # replaced in apply(): the clock wraps it too


def _add_event(self: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
    # A place is taken before the event is written (a Map's workers write at once); the last
    # place is kept for the event that closes the execution.
    with _places_lock:
        # A redriven execution's manager starts with the history so far already in its list.
        taken = getattr(self, "_mediaflow_places_taken", len(self._history_event_list))
        if event_type not in _CLOSING_EVENTS and taken >= HISTORY_LIMIT - 1:
            raise HistoryLimitExceeded()
        self._mediaflow_places_taken = taken + 1
    return original_add_event(self, context, event_type, *args, **kwargs)


original_error_equals = ErrorEqualsDecl._eval_body


def _error_equals(self: Any, env: Any) -> None:
    name = getattr(env.stack[-1], "error_name", None)
    if name in _TERMINAL_ERRORS and name not in {listed.error_name for listed in self.error_names}:
        env.stack.pop()
        env.stack.append(False)
        return
    original_error_equals(self, env)


original_program_eval = Program.eval


def _program_eval(self: Any, env: Any) -> None:
    """moto keeps every thread it ever started in a module list (TMP_THREADS), finished or not:
    two per Distributed Map item, ~4 KB each, never freed (a 10,000-item Map grew the engine by
    ~45 MB a run). The finished ones are dropped when an execution's program ends (not at each
    Map iteration's: with thousands of live workers that scan would be quadratic)."""
    try:
        original_program_eval(self, env)
    finally:
        if not env.is_frame():
            drop_finished_threads()


def drop_finished_threads() -> None:
    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


def _eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
    """moto's Map worker, as a loop: moto called itself once per item, so a worker given ~1,000
    items hit Python's recursion limit and the execution stayed RUNNING; and a job whose failure
    could not be written (the history limit) was never closed, so the Map waited forever."""
    while True:
        if job is None:
            self._env.close_frame(worker_frame)
            return
        job_frame = worker_frame.open_inner_frame()
        try:
            self._eval_job(env=job_frame, job=job)
        except Exception as error:
            if not isinstance(job.job_output, Exception):
                job.job_output = error
        worker_frame.close_frame(job_frame)
        if isinstance(job.job_output, Exception) or self.stopped():
            self._env.close_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        next_job = self._job_pool.next_job()
        if next_job is None:
            # The last job's events are where the Map state continues from.
            worker_frame.event_history_context.source_event_id = job_frame.event_history_context.last_published_event_id
            self._env.close_frame(worker_frame)
            self._job_pool.close_job(job)
            return
        self._job_pool.close_job(job)
        job = next_job


def apply() -> None:
    global original_add_event
    original_add_event = EventManager.add_event
    EventManager.add_event = _add_event
    ErrorEqualsDecl._eval_body = _error_equals
    IterationWorker._eval_pool = _eval_pool
    Program.eval = _program_eval

"""A background thread that does one piece of work every few seconds until stopped.

The local runtime's housekeepers (the work-file janitor, the log shipper) are such threads. A
round that fails is logged to runtime.log and the next round tries again: housekeeping never
stops for good because one round hit a transient error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Periodic:
    def __init__(self, name: str, interval: float, work: Callable[[], object]) -> None:
        self.interval = interval
        self._work = work
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.ident is not None:  # started (a stack that failed to start stops too)
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self._work()
            except Exception:
                logging.getLogger("mediaflow.periodic").exception("%s: a round failed", self._thread.name)

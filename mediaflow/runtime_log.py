"""Where the local runtime's own diagnostics go: a log file, never the user's console.

The console is for what the user asked for (URLs, progress, one line per problem they
caused). Tracebacks from moto, waitress, werkzeug, the status page server and background threads are
ours to read: they go to `<state dir>/logs/runtime.log`, next to each function's log.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

LIBRARY_LOGGERS = ("waitress", "werkzeug", "moto", "botocore", "urllib3", "mediaflow")
_handler: logging.Handler | None = None


def route_runtime_logs(log_file: Path) -> None:
    """Send library and background-thread diagnostics to `log_file` (idempotent per file)."""
    global _handler
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if _handler is not None and getattr(_handler, "baseFilename", None) == str(log_file.resolve()):
        return
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"))
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if _handler is not None:
            library.removeHandler(_handler)
        library.addHandler(handler)
        library.propagate = False
    _handler = handler

    def log_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        thread = args.thread.name if args.thread else "?"
        logging.getLogger("mediaflow.threads").error(
            "uncaught exception in thread %s", thread, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
        )

    threading.excepthook = log_thread_exception

"""Remove a finished job's work files (sampled frames, per-batch detections) locally.

On AWS a lifecycle rule expires the work prefix after a day; locally the runtime expires a
job's work files (every version, inside the emulator's S3: moto_patches.expire_objects) as soon
as its record says it finished, unless told to keep them (`--keep-work-files`) for debugging.

The janitor looks at every job record once, when it starts (jobs that finished before a
restart), and after that only at the records written since its last round: the state store
tells it of each write (`job_changed`). A runtime left up for a week does not scan its whole
jobs table every second, nor remember every job it ever cleaned: the last `REMEMBERED` (a
record written again long after is cleaned again, which finds nothing left to expire).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from mediaflow.periodic import Periodic
from mediaflow_shared.contract.record import FINISHED_JOB_STATUSES, JobRecord

REMEMBERED = 1000  # cleaned jobs remembered: far more than a burst of writes of the same records


class WorkFileJanitor:
    def __init__(
        self, jobs: Callable[[], list[JobRecord]], expire_work_files: Callable[[str], object], interval: float = 1.0
    ) -> None:
        self.jobs = jobs
        self.expire_work_files = expire_work_files
        # (job id, updatedAt), oldest first: a retried job is new.
        self._cleaned: OrderedDict[tuple[str, str | None], None] = OrderedDict()
        self._changed: list[JobRecord] | None = None  # None: not caught up with the table yet
        self._lock = threading.Lock()
        self._rounds = Periodic("work-file-janitor", interval, self.sweep)

    def start(self) -> None:
        self._rounds.start()

    def stop(self) -> None:
        self._rounds.stop()

    def job_changed(self, job: JobRecord) -> None:
        """A job record was written: looked at in the next round."""
        with self._lock:
            if self._changed is not None:
                self._changed.append(job)

    def sweep(self) -> list[str]:
        """Clean every finished job not cleaned yet; returns the job ids cleaned."""
        with self._lock:
            changed, self._changed = self._changed, []
        if changed is None:  # the first round: every record, as the table is now
            changed = self.jobs()
        cleaned = []
        for job in changed:
            job_id = job["jobId"]
            if job.get("status") in FINISHED_JOB_STATUSES and (job_id, job.get("updatedAt")) not in self._cleaned:
                self.expire_work_files(job_id)
                self._cleaned[(job_id, job.get("updatedAt"))] = None
                if len(self._cleaned) > REMEMBERED:
                    self._cleaned.popitem(last=False)
                cleaned.append(job_id)
        return cleaned

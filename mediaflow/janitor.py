"""Remove a finished job's work files (sampled frames, per-batch detections) locally.

On AWS a lifecycle rule expires the work prefix after a day; locally the runtime deletes a
job's work files as soon as its record says it finished, unless told to keep them
(`--keep-work-files`) for debugging.
"""

from __future__ import annotations

from collections.abc import Callable

from mediaflow.periodic import Periodic
from mediaflow_shared.contract.record import FINISHED_JOB_STATUSES, JobRecord


class WorkFileJanitor:
    def __init__(
        self, jobs: Callable[[], list[JobRecord]], discard_work_files: Callable[[str], None], interval: float = 1.0
    ) -> None:
        self.jobs = jobs
        self.discard_work_files = discard_work_files
        self._cleaned: set[tuple[str, str | None]] = set()  # (job id, updatedAt): a retried job is new
        self._rounds = Periodic("work-file-janitor", interval, self.sweep)

    def start(self) -> None:
        self._rounds.start()

    def stop(self) -> None:
        self._rounds.stop()

    def sweep(self) -> list[str]:
        """Clean every finished job not cleaned yet; returns the job ids cleaned."""
        cleaned = []
        for job in self.jobs():
            job_id = job["jobId"]
            if job.get("status") in FINISHED_JOB_STATUSES and (job_id, job.get("updatedAt")) not in self._cleaned:
                self.discard_work_files(job_id)
                self._cleaned.add((job_id, job.get("updatedAt")))
                cleaned.append(job_id)
        return cleaned

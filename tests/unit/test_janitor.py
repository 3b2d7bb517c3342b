"""The work-file janitor reads the jobs table once, then follows the records written."""

from __future__ import annotations

from typing import Any

from mediaflow.janitor import WorkFileJanitor
from mediaflow_shared.contract.record import JobStatus


def _job(job_id: str, status: str, updated: str = "t1") -> Any:
    return {"jobId": job_id, "status": status, "updatedAt": updated}


def test_first_round_reads_the_table_then_only_the_records_written() -> None:
    table = [_job("done-before", JobStatus.SUCCEEDED), _job("running", JobStatus.RUNNING)]
    scans: list[int] = []
    discarded: list[str] = []

    def jobs() -> list[Any]:
        scans.append(1)
        return list(table)

    janitor = WorkFileJanitor(jobs, discarded.append)
    janitor.job_changed(_job("ignored-before-start", JobStatus.FAILED))  # the first round's scan covers it
    assert janitor.sweep() == ["done-before"]

    janitor.job_changed(_job("running", JobStatus.FAILED, "t2"))
    janitor.job_changed(_job("other", JobStatus.RUNNING))
    assert janitor.sweep() == ["running"]
    assert janitor.sweep() == []  # nothing written since
    janitor.job_changed(_job("running", JobStatus.FAILED, "t2"))  # the same write seen twice: cleaned once
    janitor.job_changed(_job("running", JobStatus.SUCCEEDED, "t3"))  # redriven and finished again: cleaned again
    assert janitor.sweep() == ["running"]
    assert scans == [1], "the table is read once, at the first round"
    assert discarded == ["done-before", "running", "running"]

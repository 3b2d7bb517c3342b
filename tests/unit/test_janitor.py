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


def test_it_remembers_the_jobs_it_cleaned_last_not_every_one(monkeypatch: Any) -> None:
    """The bug: the janitor kept every cleaned job's (id, updatedAt) for as long as the runtime
    ran (~0.25 KB per job, forever). It keeps the last REMEMBERED: a repeat write of a recent
    record is still cleaned once."""
    from mediaflow import janitor as janitor_module

    monkeypatch.setattr(janitor_module, "REMEMBERED", 3)
    discarded: list[str] = []
    janitor = WorkFileJanitor(lambda: [], discarded.append)
    janitor.sweep()
    for number in range(10):
        janitor.job_changed(_job(f"job-{number}", JobStatus.SUCCEEDED))
    janitor.job_changed(_job("job-9", JobStatus.SUCCEEDED))  # a repeat of a recent write
    assert janitor.sweep() == [f"job-{number}" for number in range(10)]
    assert len(janitor._cleaned) == 3
    janitor.job_changed(_job("job-8", JobStatus.SUCCEEDED))  # recent: remembered
    janitor.job_changed(_job("job-0", JobStatus.SUCCEEDED))  # long ago: cleaned again, harmlessly
    assert janitor.sweep() == ["job-0"]

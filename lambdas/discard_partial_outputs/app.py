"""DiscardPartialOutputs: on the failure path, delete whatever a failed job already wrote.

A job either succeeds with all of its outputs or fails with none: this removes the job's
outputs and work files (mediaflow_shared.contract.layout) before the failure is recorded and
notified. The upload itself is never touched. It also puts the failure in words for the job
record and the email (a Lambda error's Cause is a JSON document with a stack trace).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaflow_shared.contract.failures import failure_message
from mediaflow_shared.contract.job import CORRELATION_ID_PATH, Failure, Job, job_step
from mediaflow_shared.contract.layout import layout
from mediaflow_shared.cost import cost_at_failure
from mediaflow_shared.storage import delete_other_objects

logger = Logger()


def discard(job: Job) -> int:
    return sum(
        delete_other_objects(job["bucket"], prefix, keep=set()) for prefix in layout().job_prefixes(job["jobId"])
    )


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@job_step("failure")
def handler(document: dict[str, Any], context: LambdaContext) -> Failure:
    deleted = discard(document["job"])
    logger.info("partial outputs discarded", extra={"deleted": deleted})
    cost = cost_at_failure(document)
    return {
        "message": failure_message(document.get("error", {})),
        "kind": document.get("media", {}).get("kind", "unknown"),
        "discarded": deleted,
        "cost": cost.as_dict(),
        "costSummary": cost.summary,
    }

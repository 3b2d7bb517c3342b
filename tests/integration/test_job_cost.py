"""Every job knows what it cost, from its own execution history: on the record, in the email,
on the page and in `process`'s table (mediaflow_shared/cost.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediaflow.stack import LocalStack
from mediaflow_shared.cost import PRICE_STATE_TRANSITION, PRICES_AS_OF, JobCost
from tests.integration.jobs import emails_about, run_upload

pytestmark = pytest.mark.integration


def test_an_image_job_costs_its_transitions_lambda_time_and_requests(
    stack: LocalStack, samples: dict[str, Path]
) -> None:
    run = run_upload(stack, samples["coffee.jpg"].read_bytes() + b"cost", "uploads/cost.jpg")
    assert run.status == "SUCCEEDED"
    cost = run.job["results"]["cost"]
    entered = len(run.states_entered())
    assert cost["transitions"] == entered == 11, "every state the execution entered, as Standard bills"
    assert cost["lambda_requests"] == 5  # DescribeUpload, Validate, TransformImage, DetectImageObjects, Aggregate
    assert cost["dynamodb_writes"] == 3 and cost["sns_publishes"] == 1
    annotated = len(run.job["results"]["annotated"])
    assert cost["s3_puts"] == len(run.renditions) + 1 + annotated + 1  # renditions, detections, annotated, results
    assert cost["architecture"] == "arm64" and cost["pricesAsOf"] == PRICES_AS_OF
    recomputed = JobCost(
        **{k: cost[k] for k in JobCost.__dataclass_fields__ if k != "lambda_gb_seconds"},
        lambda_gb_seconds=cost["lambdaGbSeconds"],
    )
    assert cost["usd"] == pytest.approx(recomputed.usd, rel=1e-3)
    assert cost["usd"] > entered * PRICE_STATE_TRANSITION, "transitions and then some"
    (email,) = emails_about(stack, run.job["jobId"])
    assert f"Cost: {run.job['costSummary']}\n" in email.get_content()
    assert run.job["costSummary"].startswith(f"${cost['usd']:.6f}")


def test_a_failed_job_knows_its_cost_too(stack: LocalStack) -> None:
    run = run_upload(stack, b"not an image at all", "uploads/cost-failed.jpg")
    assert run.status == "FAILED"
    assert run.job["costSummary"].startswith("$0.000")
    (email,) = emails_about(stack, run.job["jobId"])
    assert f"Cost: {run.job['costSummary']}\n" in email.get_content()

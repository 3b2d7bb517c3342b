"""What the local runtime cannot run as AWS would, it refuses at CreateStateMachine, naming the
feature (docs/local-runtime.md lists them); nothing runs silently wrong."""

from __future__ import annotations

from typing import Any

import pytest

from mediaflow.moto_patches import definitions
from tests.asl.harness import Refused, check_refused, distributed, machine, pass_state

LOCAL = "is not supported by the MediaFlow local runtime"


def task(resource: str) -> dict[str, Any]:
    return machine({"T": {"Type": "Task", "Resource": resource, "End": True}})


def reader_map(config: dict[str, Any]) -> dict[str, Any]:
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": config,
        "Parameters": {"Bucket": "b", "Key": "k"},
    }
    return machine({"M": distributed({"P": pass_state()}, ItemReader=reader)})


REFUSED = [
    Refused(
        "batch-input-from-the-context-object",
        machine(
            {
                "M": distributed(
                    {"P": pass_state()},
                    ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"id.$": "$$.Execution.Id"}},
                )
            }
        ),
        LOCAL,
    ),
    Refused("bedrock-task", task("arn:aws:states:::bedrock:invokeModel"), LOCAL),
    Refused("sagemaker-task", task("arn:aws:states:::sagemaker:createTrainingJob.sync"), LOCAL),
    Refused("http-task", task("arn:aws:states:::http:invoke"), LOCAL),
    Refused("manifest-reader", reader_map({"InputType": "MANIFEST"}), LOCAL),
    Refused("jsonl-reader", reader_map({"InputType": "JSONL"}), LOCAL),
    Refused(
        "semicolon-csv",
        reader_map({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "SEMICOLON"}),
        LOCAL,
    ),
    Refused(
        "batcher-with-selector",
        machine(
            {
                "M": distributed(
                    {"P": pass_state()}, ItemSelector={"v.$": "$$.Map.Item.Value"}, ItemBatcher={"MaxItemsPerBatch": 2}
                )
            }
        ),
        LOCAL,
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=str)
def test_refused_loudly(sfn: Any, case: Refused) -> None:
    check_refused(sfn, case)


def test_supported_integrations_are_not_refused(sfn: Any) -> None:
    for resource in (
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::dynamodb:putItem",
        "arn:aws:states:::sns:publish",
        "arn:aws:states:::aws-sdk:s3:listBuckets",
        "arn:aws:states:::states:startExecution.sync:2",
    ):
        sfn.create_state_machine(
            name=f"ok-{abs(hash(resource))}",
            definition=__import__("json").dumps(task(resource)),
            roleArn="arn:aws:iam::123456789012:role/r",
        )


def test_every_refusal_is_documented() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "local-runtime.md").read_text()
    for feature in definitions.UNSUPPORTED:
        assert feature in docs, feature

"""Each moto patch: the bug with moto as shipped, and the fix with the patch."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.events.models import events_backends
from moto.sns import models as sns_models
from moto.stepfunctions.parser.backend import execution_worker

from mediaflow import moto_patches
from mediaflow.template import ACCOUNT_ID, REGION

SFN_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/test"


def _state_machine(sfn: Any, states: dict[str, Any], start: str) -> str:
    definition = json.dumps({"StartAt": start, "States": states})
    return sfn.create_state_machine(name="sm", definition=definition, roleArn=ROLE)["stateMachineArn"]


def _wait(sfn: Any, arn: str) -> dict[str, Any]:
    for _ in range(100):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise TimeoutError(arn)


def _moto_s3_event(key: str) -> dict[str, Any]:
    """An event exactly as moto 5.2.5's S3 builds it for EventBridge."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT_ID,
        "time": 1763700000.25,
        "region": REGION,
        "resources": ["arn:aws:s3:::b"],
        "detail": {
            "version": "0",
            "bucket": {"name": "b"},
            "object": {"key": key, "size": 3, "eTag": "abc", "version-id": None, "sequencer": "1"},
            "reason": "PutObject",
        },
    }


@mock_aws(config=SFN_CONFIG)
def test_eventbridge_rule_with_state_machine_target_starts_an_execution() -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(sfn, {"P": {"Type": "Pass", "End": True}}, "P")
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "1", "Arn": arn, "RoleArn": ROLE}])
    rule = events_backends[ACCOUNT_ID][REGION].event_buses["default"].rules["r"]

    with pytest.raises(NotImplementedError):  # the bug: moto cannot target Step Functions
        moto_patches.original_send_to_targets(rule, _moto_s3_event("uploads/a b.jpg"), False)

    moto_patches._send_to_targets(rule, _moto_s3_event("uploads/a b.jpg"), False)
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert execution["name"] != "None"
    event = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert event["detail"]["object"]["key"] == "uploads/a+b.jpg"


def test_s3_event_is_normalised_to_the_aws_shape() -> None:
    first, second = _moto_s3_event("uploads/café + 1.jpg"), _moto_s3_event("uploads/x.jpg")
    moto_patches.normalise_s3_event(first)
    moto_patches.normalise_s3_event(second)
    obj = first["detail"]["object"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["time"])
    assert obj["etag"] == "abc" and "eTag" not in obj and "version-id" not in obj
    assert obj["key"] == "uploads/caf%C3%A9+%2B+1.jpg"
    assert first["id"] != second["id"], "every event gets its own id"
    moto_patches.normalise_s3_event(first)
    assert first["detail"]["object"]["key"] == "uploads/caf%C3%A9+%2B+1.jpg", "idempotent"


def test_an_event_already_in_the_aws_shape_is_not_encoded_again() -> None:
    """The bug: a replay sent with PutEvents (key already encoded, `etag`) was encoded a second
    time, `dup+space%2Bplus` becoming `dup%2Bspace%252Bplus`, and failed as UploadNotFound."""
    replay = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-11-30T12:00:00Z",
        "detail": {"bucket": {"name": "b"}, "object": {"key": "uploads/dup+space%2Bplus.jpg", "etag": "abc"}},
    }
    moto_patches.normalise_s3_event(replay)
    assert replay["detail"]["object"]["key"] == "uploads/dup+space%2Bplus.jpg"


@mock_aws
def test_email_subscriptions_are_delivered(monkeypatch: pytest.MonkeyPatch) -> None:
    delivered: list[tuple] = []
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    sns.subscribe(
        TopicArn=topic,
        Protocol="email",
        Endpoint="failures@example.com",
        Attributes={"FilterPolicy": json.dumps({"status": ["FAILED"]})},
    )
    status = {"status": {"DataType": "String", "StringValue": "SUCCEEDED"}}

    monkeypatch.setattr(moto_patches, "_email_sink", lambda *args: delivered.append(args))
    monkeypatch.setattr(sns_models.Subscription, "publish", moto_patches.original_subscription_publish)
    sns.publish(TopicArn=topic, Subject="s", Message="m", MessageAttributes=status)
    assert delivered == [], "the bug: moto drops email deliveries"

    monkeypatch.setattr(sns_models.Subscription, "publish", moto_patches._subscription_publish)
    sns.publish(TopicArn=topic, Subject="s", Message="m", MessageAttributes=status)
    assert [(d[1], d[2], d[3]) for d in delivered] == [("ops@example.com", "s", "m")], "filter policy respected"


@mock_aws(config=SFN_CONFIG)
def test_context_start_time_is_an_iso_string(monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(
        sfn, {"P": {"Type": "Pass", "Parameters": {"t.$": "$$.Execution.StartTime"}, "End": True}}, "P"
    )
    monkeypatch.setattr(
        execution_worker.ExecutionWorker, "_get_evaluation_environment", moto_patches.original_evaluation_environment
    )
    broken = sfn.start_execution(stateMachineArn=arn, name="before", input="{}")["executionArn"]
    for _ in range(100):
        if sfn.list_executions(stateMachineArn=arn)["executions"][0]["status"] != "RUNNING":
            break
        time.sleep(0.05)
    with pytest.raises(TypeError, match="datetime is not JSON serializable"):  # the bug
        sfn.describe_execution(executionArn=broken)

    monkeypatch.setattr(
        execution_worker.ExecutionWorker, "_get_evaluation_environment", moto_patches._evaluation_environment
    )
    fixed = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name="after", input="{}")["executionArn"])
    assert fixed["status"] == "SUCCEEDED"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", json.loads(fixed["output"])["t"])


def test_step_functions_clients_are_reused() -> None:
    assert moto_patches.original_boto_client_for(REGION, "lambda") is not moto_patches.original_boto_client_for(
        REGION, "lambda"
    ), "the bug: a new client (~17 ms) for every Task"
    assert moto_patches._boto_client_for(REGION, "lambda") is moto_patches._boto_client_for(REGION, "lambda")


def test_engine_repr_dumps_are_silenced() -> None:
    moto_patches.silence_engine_repr_dumps()
    assert not logging.getLogger("moto.stepfunctions.parser").isEnabledFor(logging.ERROR)


def test_patches_refuse_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_patches.moto, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match=r"5\.2\.5"):
        moto_patches.apply_all(lambda *args: None)

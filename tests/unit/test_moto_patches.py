"""Each moto patch: the bug with moto as shipped, and the fix with the patch."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.parsing.validators import UpdateExpressionValidator
from moto.events.models import events_backends
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.s3 import responses as s3_responses
from moto.sns import models as sns_models
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.asl.component.state import state as sfn_state
from moto.stepfunctions.parser.backend import execution_worker

from mediaflow import moto_patches
from mediaflow.moto_patches import api, s3_events
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


@mock_aws
def test_an_upload_without_tags_sends_object_created_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: moto stores every upload's empty tag set through PutObjectTagging, which sends
    "Object Tags Added" too: two EventBridge events per upload. AWS sends Object Created only."""
    sent: list[str] = []
    monkeypatch.setattr(s3_notifications, "_send_event_bridge_message", lambda *args: sent.append(args[2]))
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media")
    s3.put_bucket_notification_configuration(Bucket="media", NotificationConfiguration={"EventBridgeConfiguration": {}})
    created, tagged = "s3:ObjectCreated:Put", "s3:ObjectTagging:Put"

    monkeypatch.setattr(s3_models.S3Backend, "put_object_tagging", s3_events.original_put_object_tagging)
    s3.put_object(Bucket="media", Key="shipped", Body=b"1")
    assert sent == [created, tagged], "the bug"

    sent.clear()
    monkeypatch.setattr(s3_models.S3Backend, "put_object_tagging", s3_events._put_object_tagging)
    s3.put_object(Bucket="media", Key="plain", Body=b"1")
    assert sent == [created]
    s3.put_object_tagging(Bucket="media", Key="plain", Tagging={"TagSet": [{"Key": "team", "Value": "media"}]})
    assert sent[-1] == tagged and s3.get_object_tagging(Bucket="media", Key="plain")["TagSet"]
    s3.put_object(Bucket="media", Key="plain", Body=b"2")  # overwritten without tags: the old tags go
    assert s3.get_object_tagging(Bucket="media", Key="plain")["TagSet"] == []
    s3.put_object(Bucket="media", Key="with-tags", Body=b"1", Tagging="team=media")
    assert s3.get_object_tagging(Bucket="media", Key="with-tags")["TagSet"] == [{"Key": "team", "Value": "media"}]


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
    monkeypatch.setattr(sfn_responses.StepFunctionResponse, "describe_execution", api.original_describe_execution)
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
    monkeypatch.setattr(sfn_responses.StepFunctionResponse, "describe_execution", api._describe_execution)
    fixed = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name="after", input="{}")["executionArn"])
    assert fixed["status"] == "SUCCEEDED"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", json.loads(fixed["output"])["t"])


@mock_aws(config=SFN_CONFIG)
def test_state_entered_time_is_written_as_aws_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(sfn, {"P": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "End": True}}, "P")
    aws_format = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

    monkeypatch.setattr(sfn_state, "StateData", moto_patches.original_state_data)
    before = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name="before", input="{}")["executionArn"])
    assert json.loads(before["output"])["t"].endswith("+00:00"), "the bug: Python's isoformat, microseconds"

    monkeypatch.setattr(sfn_state, "StateData", moto_patches._state_data)
    after = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name="after", input="{}")["executionArn"])
    assert re.fullmatch(aws_format, json.loads(after["output"])["t"])


def test_step_functions_clients_are_reused() -> None:
    assert moto_patches.original_boto_client_for(REGION, "lambda") is not moto_patches.original_boto_client_for(
        REGION, "lambda"
    ), "the bug: a new client (~17 ms) for every Task"
    assert moto_patches._boto_client_for(REGION, "lambda") is moto_patches._boto_client_for(REGION, "lambda")
    # The bug: every Task passes its state credentials, and a call with any credentials missed the cache.
    role = object()
    assert moto_patches._boto_client_for(REGION, "lambda", state_credentials=role) is moto_patches._boto_client_for(
        REGION, "lambda", state_credentials=object()
    )


def test_engine_repr_dumps_are_silenced() -> None:
    moto_patches.silence_engine_repr_dumps()
    assert not logging.getLogger("moto.stepfunctions.parser").isEnabledFor(logging.ERROR)


def test_patches_refuse_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_patches.moto, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match=r"5\.2\.5"):
        moto_patches.apply_all(lambda *args: None)


def _presigned_post(s3: Any, key: str = "uploads/a.jpg", expires: int = 60) -> dict[str, Any]:
    return s3.generate_presigned_post(
        Bucket="media-bucket",
        Key=key,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[["content-length-range", 1, 1000], {"Content-Type": "image/jpeg"}],
        ExpiresIn=expires,
    )


def _browser_post(post: dict[str, Any], body: bytes, **fields: str) -> requests.Response:
    return requests.post(post["url"], data={**post["fields"], **fields}, files={"file": ("a.jpg", body)}, timeout=30)


BAD_POSTS = {
    "over the size range": ({}, b"x" * 1001, 400, "EntityTooLarge"),
    "zero bytes": ({}, b"", 400, "EntityTooSmall"),
    "swapped Content-Type": ({"Content-Type": "text/html"}, b"x", 403, "AccessDenied"),
    "key rewritten to outputs/": ({"key": "outputs/evil.jpg"}, b"x", 403, "AccessDenied"),
    "an extra field": ({"x-amz-meta-evil": "1"}, b"x", 403, "AccessDenied"),
}


@pytest.mark.parametrize("case", BAD_POSTS)
@mock_aws
def test_presigned_post_policies_are_enforced(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media-bucket")
    fields, body, status, code = BAD_POSTS[case]
    post = _presigned_post(s3)

    monkeypatch.setattr(s3_responses.S3Response, "_bucket_response_post", moto_patches.original_bucket_response_post)
    assert _browser_post(post, body, **fields).status_code == 204, "the bug: moto as shipped stores it"
    s3.delete_object(Bucket="media-bucket", Key=fields.get("key", "uploads/a.jpg"))

    monkeypatch.setattr(s3_responses.S3Response, "_bucket_response_post", moto_patches._bucket_response_post)
    refused = _browser_post(post, body, **fields)
    assert (refused.status_code, f"<Code>{code}</Code>" in refused.text) == (status, True), refused.text
    assert s3.list_objects_v2(Bucket="media-bucket").get("KeyCount") == 0
    assert _browser_post(post, b"x" * 10).status_code == 204, "the upload the policy allows still works"


def test_an_expired_post_policy_is_refused() -> None:
    policy = base64.b64encode(json.dumps({"expiration": "2020-01-01T00:00:00Z", "conditions": []}).encode()).decode()
    fields = {"key": "uploads/a.jpg", "policy": policy}
    assert moto_patches.post_policy_violation(policy, fields, 1, "b", datetime.now(UTC))[1:] == (
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )


@mock_aws
def test_keys_over_1024_bytes_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media-bucket")
    long_key = "uploads/" + "é" * 509  # 8 + 1,018 bytes of UTF-8
    monkeypatch.setattr(s3_models.S3Backend, "put_object", moto_patches.original_put_object)
    s3.put_object(Bucket="media-bucket", Key=long_key, Body=b"x")  # the bug: moto as shipped stores it
    monkeypatch.setattr(s3_models.S3Backend, "put_object", moto_patches._put_object)
    with pytest.raises(ClientError, match="KeyTooLongError"):
        s3.put_object(Bucket="media-bucket", Key=long_key + "x", Body=b"x")
    s3.put_object(Bucket="media-bucket", Key="uploads/" + "x" * 1016, Body=b"x")  # exactly 1,024 bytes is fine


@mock_aws
def test_a_ranged_get_reads_only_its_range(monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media-bucket")
    data = bytes(range(256)) * 40_000  # 10 MB
    s3.put_object(Bucket="media-bucket", Key="uploads/v.mp4", Body=data)
    whole_reads: list[int] = []
    shipped = moto_patches.original_key_value
    counted = property(lambda key: whole_reads.append(1) or shipped.fget(key), shipped.fset)
    monkeypatch.setattr(moto_patches, "original_key_value", counted)
    monkeypatch.setattr(s3_models.FakeKey, "value", property(moto_patches._key_value, counted.fset))
    monkeypatch.setattr(s3_responses.S3Response, "key_response", moto_patches._key_response)

    def get(byte_range: str) -> bytes:
        return s3.get_object(Bucket="media-bucket", Key="uploads/v.mp4", Range=byte_range)["Body"].read()

    assert get("bytes=5000000-5000099") == data[5_000_000:5_000_100]
    assert get("bytes=-10") == data[-10:] and get("bytes=9999990-") == data[9_999_990:]
    assert whole_reads == [], "no ranged GET copied the whole object"
    response = s3.get_object(Bucket="media-bucket", Key="uploads/v.mp4", Range="bytes=20-10")  # moto: whole
    assert response["Body"].read() == data
    assert s3.get_object(Bucket="media-bucket", Key="uploads/v.mp4")["Body"].read() == data


@mock_aws(config=SFN_CONFIG)
def test_execution_history_pages_as_aws_does_with_the_same_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: moto answers with every event at once (no nextToken), ignores reverseOrder and
    includeExecutionData, and serialises through its generic shape walker (the engine's largest
    cost per job). The fix pages as AWS does and writes the same events directly."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    states = {
        "P": {"Type": "Pass", "Result": {"text": 'caf\u00e9 \u2028 "q"'}, "ResultPath": "$.p", "Next": "M"},
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "ResultPath": "$.mapped",
            "Next": "F",
        },
        "F": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"},
    }
    arn = _state_machine(sfn, states, "P")
    started = sfn.start_execution(stateMachineArn=arn, name="e", input=json.dumps({"items": [1, 2, 3]}))
    execution = started["executionArn"]
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        time.sleep(0.02)

    monkeypatch.setattr(sfn_responses.StepFunctionResponse, "get_execution_history", api.original_get_execution_history)
    shipped = sfn.get_execution_history(executionArn=execution, maxResults=2, reverseOrder=True)
    assert "nextToken" not in shipped and len(shipped["events"]) > 2, "the bug: one page of everything"
    assert shipped["events"][0]["type"] == "ExecutionStarted", "the bug: reverseOrder ignored"
    whole = sfn.get_execution_history(executionArn=execution)["events"]
    assert {"MapIterationSucceeded", "ExecutionFailed"} <= {e["type"] for e in whole}

    monkeypatch.setattr(sfn_responses.StepFunctionResponse, "get_execution_history", api._get_execution_history)
    assert sfn.get_execution_history(executionArn=execution)["events"] == whole, "the same events, field for field"
    pages = list(sfn.get_paginator("get_execution_history").paginate(executionArn=execution, maxResults=4))
    assert len(pages) == -(-len(whole) // 4) and [e for page in pages for e in page["events"]] == whole
    newest_first = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, maxResults=3, reverseOrder=True
    )
    assert [e for page in newest_first for e in page["events"]] == whole[::-1]
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    details = [value for e in bare for key, value in e.items() if key.endswith("EventDetails")]
    assert details and not any("input" in d or "output" in d for d in details), "no execution data"
    assert [e["id"] for e in bare] == [e["id"] for e in whole]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.get_execution_history(executionArn=execution, nextToken="not-a-token")
    other = pages[0]["nextToken"]
    with pytest.raises(sfn.exceptions.InvalidToken):  # a token of the forward listing, asked in reverse
        sfn.get_execution_history(executionArn=execution, nextToken=other, reverseOrder=True)


@mock_aws(config=SFN_CONFIG)
def test_objects_items_and_executions_are_written_through_to_the_store(tmp_path: Path) -> None:
    """The bug: moto keeps everything in memory, so a restart loses it. With a store, every
    object, item and history event is written through as moto changes it."""
    from mediaflow.state_store import StateStore

    moto_patches.context_start_time_as_string()  # tags each execution's event manager with its ARN
    s3, ddb = boto3.client("s3", region_name=REGION), boto3.client("dynamodb", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    s3.create_bucket(Bucket="media")
    ddb.create_table(
        TableName="jobs",
        KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    store = StateStore(tmp_path)
    moto_patches.persist_to(None)
    s3.put_object(Bucket="media", Key="before", Body=b"lost")
    try:
        moto_patches.persist_to(store)
        s3.put_object(Bucket="media", Key="uploads/a.jpg", Body=b"kept", ContentType="image/jpeg")
        ddb.put_item(TableName="jobs", Item={"jobId": {"S": "1"}, "status": {"S": "RUNNING"}})
        ddb.update_item(
            TableName="jobs",
            Key={"jobId": {"S": "1"}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "SUCCEEDED"}},
        )
        arn = _state_machine(sfn, {"P": {"Type": "Pass", "End": True}}, "P")
        execution = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name="e", input='{"x": 1}')["executionArn"])
        s3.delete_object(Bucket="media", Key="uploads/a.jpg")
        s3.put_object(Bucket="media", Key="uploads/b.jpg", Body=b"kept too", ContentType="image/jpeg")
    finally:
        moto_patches.persist_to(None)

    ((obj),) = store.objects()
    assert (obj.key, obj.path.read_bytes(), obj.metadata["content-type"]) == (
        "uploads/b.jpg",
        b"kept too",
        "image/jpeg",
    )
    assert list(store.items()) == [("jobs", {"jobId": {"S": "1"}, "status": {"S": "SUCCEEDED"}})]
    (stored,) = store.executions()
    assert (stored.arn, stored.status, stored.input) == (execution["executionArn"], "SUCCEEDED", '{"x": 1}')
    types = [event["type"] for event in store.events(stored.arn)]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"


@mock_aws(config=SFN_CONFIG)
def test_a_finished_executions_input_and_output_are_read_from_the_store(tmp_path: Path) -> None:
    """The bug: moto keeps every finished execution's input and output (a job's event and its
    results, ~12 KB) in memory for as long as the runtime runs. With a store they stay in the
    store and are read back when asked; a running execution and a redrive keep theirs."""
    from moto.stepfunctions.parser import models as parser_models

    from mediaflow.state_store import StateStore

    moto_patches.context_start_time_as_string()  # tags each execution's event manager with its ARN
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(
        sfn,
        {
            "Echo": {"Type": "Pass", "Parameters": {"big.$": "$.big", "n": 1}, "Next": "Fail?"},
            "Fail?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.big", "StringEquals": "fail", "Next": "F"}],
                "Default": "Done",
            },
            "F": {"Type": "Fail", "Error": "E", "Cause": "c"},
            "Done": {"Type": "Succeed"},
        },
        "Echo",
    )
    backend = parser_models.stepfunctions_parser_backends[ACCOUNT_ID][REGION]
    big = "x" * 100_000
    moto_patches.persist_to(StateStore(tmp_path))
    try:
        done = _wait(
            sfn, sfn.start_execution(stateMachineArn=arn, name="big", input=json.dumps({"big": big}))["executionArn"]
        )
        failed = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name="f", input='{"big": "fail"}')["executionArn"])
    finally:
        moto_patches.persist_to(None)
    in_memory = _wait(
        sfn, sfn.start_execution(stateMachineArn=arn, name="m", input=json.dumps({"big": big}))["executionArn"]
    )
    assert "output" in vars(backend.describe_execution(in_memory["executionArn"])), "the bug: held in memory"
    execution = backend.describe_execution(done["executionArn"])
    assert isinstance(execution, moto_patches.ExecutionAtRest)
    assert not {"input_data", "execution_input", "output"} & set(vars(execution)), "nothing of it held in memory"
    again = sfn.describe_execution(executionArn=done["executionArn"])
    assert (again["input"], again["output"], again["status"]) == (done["input"], done["output"], "SUCCEEDED")
    assert json.loads(again["output"]) == {"big": big, "n": 1}
    assert (failed["status"], failed["error"], json.loads(failed["input"])) == ("FAILED", "E", {"big": "fail"})
    assert sfn.describe_execution(executionArn=failed["executionArn"])["input"] == failed["input"]


@mock_aws
def test_stored_objects_are_read_from_their_blob_not_kept_in_memory(tmp_path: Path) -> None:
    """The bug: moto keeps every object under 8 MB in memory, for as long as the runtime runs,
    though the store has its bytes on disk. With a store, a key reads from the store's blob; an
    older version keeps its blob while moto keeps the version."""
    from mediaflow.moto_patches.object_blobs import BlobBuffer
    from mediaflow.state_store import StateStore

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media")
    s3.put_bucket_versioning(Bucket="media", VersioningConfiguration={"Status": "Enabled"})
    bucket = s3_models.s3_backends[ACCOUNT_ID]["aws"].buckets["media"]
    s3.put_object(Bucket="media", Key="shipped", Body=b"in memory")
    assert not isinstance(bucket.keys["shipped"]._value_buffer, BlobBuffer), "the bug: bytes in memory"

    store = StateStore(tmp_path)
    moto_patches.persist_to(store)
    try:
        data = bytes(range(256)) * 40
        first = s3.put_object(Bucket="media", Key="photo.jpg", Body=data)["VersionId"]
        assert isinstance(bucket.keys["photo.jpg"]._value_buffer, BlobBuffer)
        assert s3.get_object(Bucket="media", Key="photo.jpg")["Body"].read() == data
        ranged = s3.get_object(Bucket="media", Key="photo.jpg", Range="bytes=256-511")["Body"].read()
        assert ranged == bytes(range(256))
        s3.put_object(Bucket="media", Key="photo.jpg", Body=b"second")  # the store keeps the latest only
        assert len(list(store.blobs.iterdir())) == 2, "the first version's blob is held by its key"
        old = s3.get_object(Bucket="media", Key="photo.jpg", VersionId=first)["Body"].read()
        assert old == data and s3.get_object(Bucket="media", Key="photo.jpg")["Body"].read() == b"second"
        copied = s3.copy_object(Bucket="media", Key="copy.jpg", CopySource={"Bucket": "media", "Key": "photo.jpg"})
        assert (
            copied["CopyObjectResult"]["ETag"]
            and s3.get_object(Bucket="media", Key="copy.jpg")["Body"].read() == b"second"
        )
        for version in s3.list_object_versions(Bucket="media", Prefix="photo.jpg")["Versions"]:
            s3.delete_object(Bucket="media", Key="photo.jpg", VersionId=version["VersionId"])
    finally:
        moto_patches.persist_to(None)
    import gc

    gc.collect()  # moto disposes deleted keys when they are collected
    assert sorted(p.read_bytes() for p in store.blobs.iterdir()) == [b"second"], "only the copy's blob is left"


@mock_aws
def test_listing_versions_does_not_copy_every_objects_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: ListObjectVersions deep-copies every version of every key of the bucket, bytes
    included (whatever the prefix). The fix lists views of the keys: same answer, no bytes read."""
    import copy as copy_module

    from mediaflow.moto_patches import object_blobs
    from mediaflow.state_store import StateStore

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media")
    s3.put_bucket_versioning(Bucket="media", VersioningConfiguration={"Status": "Enabled"})
    moto_patches.persist_to(StateStore(tmp_path))
    try:
        for body in (b"a" * 1_000_000, b"b" * 1_000_000):
            s3.put_object(Bucket="media", Key="work/frames.bin", Body=body)
        s3.put_object(Bucket="media", Key="outputs/other.jpg", Body=b"c" * 1_000_000)
        s3.delete_object(Bucket="media", Key="work/frames.bin")  # a delete marker on top
    finally:
        moto_patches.persist_to(None)
    reads: list[int] = []
    original_read = object_blobs.BlobBuffer.read
    monkeypatch.setattr(
        object_blobs.BlobBuffer, "read", lambda self, size=-1: reads.append(1) or original_read(self, size)
    )

    def listing() -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
        answer = s3.list_object_versions(Bucket="media", Prefix="work/")
        versions = [(v["VersionId"], v["IsLatest"]) for v in answer["Versions"]]
        return versions, [(m["VersionId"], m["IsLatest"]) for m in answer["DeleteMarkers"]]

    monkeypatch.setattr(s3_models, "copy", copy_module)
    shipped = listing()
    assert len(reads) >= 3, "the bug: every version's bytes were read to copy it"
    reads.clear()
    monkeypatch.setattr(s3_models, "copy", object_blobs._CopyForListings)
    assert listing() == shipped and reads == []
    assert len(shipped[0]) == 2 and not any(latest for _, latest in shipped[0]) and shipped[1][0][1] is True
    assert s3.get_object(Bucket="media", Key="outputs/other.jpg")["Body"].read() == b"c" * 1_000_000


@mock_aws
def test_a_prefix_listing_reads_only_the_keys_under_its_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: moto answers ListObjects by walking every key of the bucket, whatever the
    prefix (each job's listing cost grew with everything stored before it). The fix keeps the
    names in order and lists the prefix's range: the same answers, only its keys read."""
    from mediaflow.moto_patches import s3_index

    monkeypatch.setattr(s3_models.FakeBucket, "__init__", s3_index._bucket_init)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media")
    s3.put_bucket_versioning(Bucket="media", VersioningConfiguration={"Status": "Enabled"})
    for number in range(300):
        s3.put_object(Bucket="media", Key=f"outputs/other/{number:03}.jpg", Body=b"x")
    job = ["work/j1/a.jpg", "work/j1/b c+d.jpg", "work/j1/frames/0001.jpg", "work/j1/frames/0002.jpg", "work/j1é.jpg"]
    for key in [*job, "work/j10/a.jpg", "work/j2/a.jpg", "workz.jpg"]:
        s3.put_object(Bucket="media", Key=key, Body=b"y")
    s3.delete_object(Bucket="media", Key="work/j1/b c+d.jpg")  # a delete marker: not listed
    keys = s3_models.s3_backends[ACCOUNT_ID]["aws"].buckets["media"].keys
    assert isinstance(keys, s3_index.IndexedKeyStore)
    reads: list[str] = []
    original_getitem = s3_index.IndexedKeyStore.__getitem__
    monkeypatch.setattr(
        s3_index.IndexedKeyStore, "__getitem__", lambda self, name: reads.append(name) or original_getitem(self, name)
    )

    def listings() -> list[Any]:
        answers = []
        for request in (
            {"Prefix": "work/j1/"},
            {"Prefix": "work/j1"},
            {"Prefix": "work/j1/", "Delimiter": "/"},
            {"Prefix": "work/", "Delimiter": "/"},
            {"Prefix": "work/j1/", "MaxKeys": 1},
            {"Prefix": "work/j1/", "StartAfter": "work/j1/frames/0001.jpg"},
            {"Prefix": "nothing/"},
        ):
            answer = s3.list_objects_v2(Bucket="media", **request)
            answers.append(
                (
                    [o["Key"] for o in answer.get("Contents", [])],
                    [p["Prefix"] for p in answer.get("CommonPrefixes", [])],
                    answer["IsTruncated"],
                )
            )
        v1 = s3.list_objects(Bucket="media", Prefix="work/j1/", MaxKeys=2)
        answers.append(([o["Key"] for o in v1["Contents"]], v1["IsTruncated"]))
        return answers

    monkeypatch.setattr(s3_models.S3Backend, "list_objects", s3_index.original_list_objects)
    shipped = listings()
    assert len(reads) > 300 * 8, "the bug: every listing read every key of the bucket"
    reads.clear()
    monkeypatch.setattr(s3_models.S3Backend, "list_objects", s3_index._list_objects)
    assert listings() == shipped
    assert reads and all(name.startswith("work/") for name in reads), "only keys under the prefix are read"
    assert shipped[0][0] == ["work/j1/a.jpg", "work/j1/frames/0001.jpg", "work/j1/frames/0002.jpg"]
    assert shipped[3][1] == ["work/j1/", "work/j10/", "work/j2/"]
    full = s3.list_objects_v2(Bucket="media")  # no prefix: moto's own walk
    assert full["KeyCount"] == 307 and not full["IsTruncated"]
    assert moto_patches.expire_objects("media", "work/j1/") == 4
    assert s3.list_objects_v2(Bucket="media", Prefix="work/j1/")["KeyCount"] == 0
    assert s3.list_object_versions(Bucket="media", Prefix="work/j1/").get("Versions") is None
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="media", Prefix="work/j")["Contents"]] == [
        "work/j10/a.jpg",
        "work/j1é.jpg",
        "work/j2/a.jpg",
    ]


@mock_aws
def test_moto_tracks_its_models_without_keeping_them_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: moto appends every model instance it creates to a class list, forever: every key
    version ever written (with its ACL), every DynamoDB item built for an update. The fix tracks
    them weakly: moto's dashboard and reset still see every live one."""
    import gc
    import weakref

    from moto.core.common_models import BaseModel

    from mediaflow.moto_patches import model_tracking

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media")
    bucket = s3_models.s3_backends[ACCOUNT_ID]["aws"].buckets["media"]

    def written_then_deleted() -> weakref.ref:
        s3.put_object(Bucket="media", Key="k", Body=b"x")
        key = weakref.ref(bucket.keys["k"])
        s3.delete_object(Bucket="media", Key="k")
        gc.collect()
        return key

    monkeypatch.setattr(BaseModel, "__new__", model_tracking.original_new)
    monkeypatch.setattr(s3_models.FakeKey, "instances_tracked", [])
    assert written_then_deleted()() is not None, "the bug: the deleted key lives on in instances_tracked"

    monkeypatch.setattr(BaseModel, "__new__", model_tracking._new)
    assert written_then_deleted()() is None
    s3.put_object(Bucket="media", Key="alive", Body=b"y")
    assert bucket.keys["alive"] in list(s3_models.FakeKey.instances_tracked), "live instances are still tracked"
    grantee = s3_models.FakeGrantee(grantee_id="owner")  # unhashable (no WeakSet), tracked all the same
    assert grantee in list(s3_models.FakeGrantee.instances_tracked)


@mock_aws(config=SFN_CONFIG)
def test_a_definition_is_parsed_once_and_shared_by_every_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parses: list[str] = []
    original_parse = AmazonStateLanguageParser.parse

    def counting_parse(definition: str) -> Any:
        parses.append(definition)
        return original_parse(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counting_parse))
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(sfn, {"P": {"Type": "Pass", "Result": {"n": 1}, "End": True}}, "P")

    monkeypatch.setattr(
        execution_worker.ExecutionWorker, "_get_evaluation_entrypoint", moto_patches.original_entrypoint
    )
    parses.clear()  # the parse that validated the definition at CreateStateMachine
    for name in ("a", "b"):
        _wait(sfn, sfn.start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"])
    at_each_execution = len(parses)  # the bug: one parse per execution

    parses.clear()
    monkeypatch.setattr(execution_worker.ExecutionWorker, "_get_evaluation_entrypoint", moto_patches._cached_entrypoint)
    outputs = [
        _wait(sfn, sfn.start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"])["output"]
        for name in ("c", "d", "e")
    ]
    assert at_each_execution == 2 and len(parses) <= 1, (at_each_execution, len(parses))
    assert [json.loads(output) for output in outputs] == [{"n": 1}] * 3


@mock_aws(config=SFN_CONFIG)
def test_redrive_execution_runs_a_failed_execution_again_from_the_failed_state(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_patches.context_start_time_as_string()
    moto_patches.parse_definitions_once()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    states = {
        "Prepare": {"Type": "Pass", "Result": {"ready": True}, "ResultPath": "$.prepared", "Next": "Check"},
        "Check": {"Type": "Fail", "Error": "NotYet", "Cause": "the input is not ready"},
    }
    arn = _state_machine(sfn, states, "Prepare")
    failed = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name="x", input='{"n": 1}')["executionArn"])
    assert failed["status"] == "FAILED"

    monkeypatch.delattr(sfn_responses.StepFunctionResponse, "redrive_execution", raising=False)
    with pytest.raises(NotImplementedError, match="redrive_execution"):  # the bug (an HTTP 500 from the server)
        sfn.redrive_execution(executionArn=failed["executionArn"])
    monkeypatch.setattr(
        sfn_responses.StepFunctionResponse, "redrive_execution", moto_patches._redrive_execution_response, raising=False
    )

    assert "redriveDate" in sfn.redrive_execution(executionArn=failed["executionArn"])
    again = _wait(sfn, failed["executionArn"])
    assert (again["executionArn"], again["status"], again["startDate"]) == (
        failed["executionArn"],
        "FAILED",
        failed["startDate"],
    )
    events = sfn.get_execution_history(executionArn=failed["executionArn"])["events"]
    types = [event["type"] for event in events]
    assert types.count("ExecutionStarted") == 1 and types.count("ExecutionRedriven") == 1
    after = types[types.index("ExecutionRedriven") :]
    assert "PassStateEntered" not in after and "FailStateEntered" in after, "from the failed state only"
    assert [event["id"] for event in events] == list(range(1, len(events) + 1)), "one history, ids continued"
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1

    other = sfn.create_state_machine(
        name="ok", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}), roleArn=ROLE
    )["stateMachineArn"]
    succeeded = _wait(sfn, sfn.start_execution(stateMachineArn=other, name="done", input="{}")["executionArn"])
    with pytest.raises(ClientError, match="ExecutionNotRedrivable"):
        sfn.redrive_execution(executionArn=succeeded["executionArn"])


def _count_walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """State machines created from now on count each walk of their whole list of executions."""
    from moto.stepfunctions import models as sfn_models

    from mediaflow.moto_patches import execution_index

    walks: list[int] = []

    class WalkedExecutions(execution_index.ExecutionList):
        def __iter__(self) -> Any:
            walks.append(len(self))
            return super().__iter__()

    def walked_init(self: Any, *args: Any, **kwargs: Any) -> None:
        execution_index.original_instance_init(self, *args, **kwargs)
        self.executions = WalkedExecutions(self.executions)

    monkeypatch.setattr(sfn_models.StateMachineInstance, "__init__", walked_init)
    return walks


def _routing_machine(sfn: Any) -> str:
    """A state machine whose input's `kind` decides: "fail" fails, "wait" runs for 10 minutes,
    anything else succeeds."""
    states = {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.kind", "StringEquals": "fail", "Next": "Broken"},
                {"Variable": "$.kind", "StringEquals": "wait", "Next": "Slow"},
            ],
            "Default": "Done",
        },
        "Broken": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"},
        "Slow": {"Type": "Wait", "Seconds": 600, "End": True},
        "Done": {"Type": "Pass", "Parameters": {"done.$": "$.kind"}, "End": True},
    }
    return _state_machine(sfn, states, "Route")


@mock_aws(config=SFN_CONFIG)
def test_an_execution_is_found_by_arn_and_name_without_walking_every_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: moto walks a state machine's whole list of executions to describe one (and to
    read its history) and to check a new execution's name, so every job costs more than the
    one before it. The fix keeps the list indexed by ARN and name: the same answers and errors,
    and no walk except where moto's own code must decide (an ARN or name it does not hold)."""
    from moto.stepfunctions import models as sfn_models

    from mediaflow.moto_patches import execution_index

    walks = _count_walks(monkeypatch)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(sfn, {"P": {"Type": "Pass", "End": True}}, "P")
    started = [sfn.start_execution(stateMachineArn=arn, name=f"job-{n}", input="{}")["executionArn"] for n in range(30)]

    def conversation(new_name: str) -> tuple[list[Any], int]:
        walks.clear()
        answers: list[Any] = [sfn.describe_execution(executionArn=execution)["name"] for execution in started]
        for call in (
            lambda: sfn.describe_execution(executionArn=f"{started[0]}-missing"),
            lambda: sfn.start_execution(stateMachineArn=arn, name="job-1", input='{"other": 1}'),
        ):
            with pytest.raises(ClientError) as refused:
                call()
            answers.append(refused.value.response["Error"]["Code"])
        new = sfn.start_execution(stateMachineArn=arn, name=new_name, input="{}")["executionArn"]
        answers.append(new.split(":")[-1])
        return answers, len(walks)

    def lookups(describe: Any, check_name: Any) -> None:
        monkeypatch.setattr(sfn_models.StepFunctionBackend, "describe_execution", describe)
        monkeypatch.setattr(sfn_models.StateMachine, "_handle_name_input_idempotency", check_name)

    lookups(execution_index.original_describe_execution, execution_index.original_handle_name_input_idempotency)
    shipped, walked_shipped = conversation("new-a")
    lookups(execution_index._describe_execution, execution_index._handle_name_input_idempotency)
    indexed, walked_indexed = conversation("new-b")

    assert indexed[:-1] == shipped[:-1] and (shipped[-1], indexed[-1]) == ("new-a", "new-b")
    assert shipped[-3:-1] == ["ExecutionDoesNotExist", "ExecutionAlreadyExists"]
    assert walked_shipped == 30 + 2 + 1  # the bug: a walk per describe, and per start
    assert walked_indexed == 2  # only where the ARN or name is not (or already) there
    assert [sfn.describe_execution(executionArn=execution)["status"] for execution in started[:1]] == ["SUCCEEDED"]


@mock_aws(config=SFN_CONFIG)
def test_list_executions_reads_a_page_from_the_newest_without_sorting_every_execution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bug: ListExecutions sorted every execution of the state machine by start date at every
    call (and walked the sorted list to a token's place), so the page's and `process`'s polls
    cost more with every job ever run. The fix reads the page from the list's start order: the
    same pages, tokens and refusals, including after a redrive (which keeps the original start
    date), without walking every execution."""
    from moto.stepfunctions import models as sfn_models
    from moto.stepfunctions.responses import get_backend

    from mediaflow.moto_patches import execution_index

    walks = _count_walks(monkeypatch)
    monkeypatch.setattr(
        sfn_responses.StepFunctionResponse, "redrive_execution", moto_patches._redrive_execution_response, raising=False
    )
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _routing_machine(sfn)
    kinds = ["ok", "fail", "wait", "ok", "ok"] * 5
    started = [
        sfn.start_execution(stateMachineArn=arn, name=f"job-{n}", input=json.dumps({"kind": kind}))["executionArn"]
        for n, kind in enumerate(kinds)
    ]
    for execution, kind in zip(started, kinds, strict=True):
        if kind != "wait":
            _wait(sfn, execution)

    def every_page(**query: Any) -> list[Any]:
        pages, token = [], None
        while True:
            page = sfn.list_executions(stateMachineArn=arn, **query, **({"nextToken": token} if token else {}))
            page.pop("ResponseMetadata")
            pages.append(page)
            token = page.get("nextToken")
            if not token:
                return pages

    def conversation() -> tuple[list[Any], int]:
        walks.clear()
        answers: list[Any] = []
        for size in (0, 1, 7, 100):
            for status in (None, "RUNNING", "SUCCEEDED", "FAILED", "ABORTED"):
                query = {"maxResults": size} if size else {}
                answers.append(every_page(**query, **({"statusFilter": status} if status else {})))
        first = sfn.list_executions(stateMachineArn=arn, maxResults=3)
        for refused in (
            {"nextToken": "not-a-token"},
            {"nextToken": first["nextToken"], "statusFilter": "FAILED"},  # a token from another query
        ):
            with pytest.raises(ClientError) as error:
                sfn.list_executions(stateMachineArn=arn, **refused)
            answers.append(error.value.response["Error"]["Code"])
        return answers, len(walks)

    def listing(list_executions: Any) -> None:
        monkeypatch.setattr(sfn_models.StepFunctionBackend, "list_executions", list_executions)

    listing(execution_index.original_list_executions)
    shipped, walked_shipped = conversation()
    listing(execution_index._list_executions)
    ordered, walked_ordered = conversation()
    assert ordered == shipped
    newest_first = [e["executionArn"] for e in shipped[0][0]["executions"]]
    assert newest_first == started[::-1] and len(shipped[0]) == 1, "one page of 25, newest first"
    assert [len(page["executions"]) for page in shipped[10]] == [7, 7, 7, 4]
    assert shipped[-2:] == ["InvalidToken", "InvalidToken"]
    assert walked_shipped >= 20 * 2, "the bug: every call walked (and sorted) every execution"
    assert walked_ordered == 0
    listed = get_backend(ACCOUNT_ID, REGION).describe_state_machine(arn).executions
    assert len(listed.unfinished) == kinds.count("wait") == 5, "a RUNNING poll walks the running ones only"

    # A redrive takes the execution out of the list and puts it back with its original start date.
    redriven = started[1]
    sfn.redrive_execution(executionArn=redriven)
    _wait(sfn, redriven)
    listing(execution_index.original_list_executions)
    shipped_after, _ = conversation()
    listing(execution_index._list_executions)
    ordered_after, _ = conversation()
    assert ordered_after == shipped_after
    assert [e["executionArn"] for e in ordered_after[0][0]["executions"]] == started[::-1], "its place kept"
    for execution in started[2::5]:
        sfn.stop_execution(executionArn=execution)


@mock_aws(config=SFN_CONFIG)
def test_finished_executions_rest_in_the_store_and_answer_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug: moto keeps every execution it ever ran in memory (an Execution, its indexes and
    references, ~1.5 KB each) for as long as the runtime runs. With a store, a state machine keeps
    its last few finished executions and the running ones; the others are their row, rebuilt
    when asked for by ARN or name, and listed from the store: the same answers."""
    from moto.stepfunctions import models as sfn_models
    from moto.stepfunctions.parser import models as parser_models

    from mediaflow.moto_patches import execution_index
    from mediaflow.state_store import StateStore

    for name in ("describe_execution", "list_executions", "stop_execution", "describe_state_machine_for_execution"):
        monkeypatch.setattr(sfn_models.StepFunctionBackend, name, getattr(execution_index, f"_{name}"))
    monkeypatch.setattr(sfn_models.StateMachineInstance, "__init__", execution_index._instance_init)
    monkeypatch.setattr(
        sfn_models.StateMachine, "_handle_name_input_idempotency", execution_index._handle_name_input_idempotency
    )
    monkeypatch.setattr(
        sfn_responses.StepFunctionResponse, "redrive_execution", moto_patches._redrive_execution_response, raising=False
    )
    monkeypatch.setattr(execution_index, "AWAKE_EXECUTIONS", 4)
    moto_patches.context_start_time_as_string()  # tags each execution's event manager with its ARN
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _routing_machine(sfn)
    backend = parser_models.stepfunctions_parser_backends[ACCOUNT_ID][REGION]
    kinds = ["ok", "fail", "ok", "wait", "ok"] * 4
    moto_patches.persist_to(StateStore(tmp_path))
    try:
        started = [
            sfn.start_execution(stateMachineArn=arn, name=f"job-{n}", input=json.dumps({"kind": kind}))["executionArn"]
            for n, kind in enumerate(kinds)
        ]
        described = {e: _wait(sfn, e) for e, kind in zip(started, kinds, strict=True) if kind != "wait"}
        histories = {e: sfn.get_execution_history(executionArn=e)["events"] for e in described}
        in_memory = backend.describe_state_machine(arn).executions
        assert len(in_memory) == 4 + kinds.count("wait"), "the last finished ones and the running ones"

        def to_ms(answer: dict[str, Any]) -> dict[str, Any]:
            dates = ("startDate", "stopDate", "timestamp")
            shown = {
                k: v.replace(microsecond=v.microsecond // 1000 * 1000) if k in dates else v for k, v in answer.items()
            }
            shown.pop("ResponseMetadata", None)
            return shown

        for execution, before in described.items():  # rebuilt from the store: the same answers
            assert to_ms(sfn.describe_execution(executionArn=execution)) == to_ms(before)
            after = sfn.get_execution_history(executionArn=execution)["events"]
            assert [to_ms(event) for event in after] == [to_ms(event) for event in histories[execution]]
        assert len(in_memory) == 4 + kinds.count("wait"), "woken ones rest again"

        def listed(**query: Any) -> list[tuple[str, str]]:
            found, token = [], None
            while True:
                page = sfn.list_executions(stateMachineArn=arn, **query, **({"nextToken": token} if token else {}))
                found += [(e["executionArn"], e["status"]) for e in page["executions"]]
                assert len(page["executions"]) <= query.get("maxResults", 100)
                token = page.get("nextToken")
                if not token:
                    return found

        status = {"ok": "SUCCEEDED", "fail": "FAILED", "wait": "RUNNING"}
        newest_first = [(e, status[kind]) for e, kind in zip(started[::-1], kinds[::-1], strict=True)]
        for size in (100, 3, 1):
            assert listed(maxResults=size) == newest_first
            for wanted in ("RUNNING", "SUCCEEDED", "FAILED", "ABORTED"):
                assert listed(maxResults=size, statusFilter=wanted) == [e for e in newest_first if e[1] == wanted]
        with pytest.raises(ClientError, match="InvalidToken"):
            sfn.list_executions(stateMachineArn=arn, nextToken="not-a-token")

        resting_ok, resting_failed = started[0], started[1]  # long out of the window
        assert resting_ok not in {e.execution_arn for e in in_memory}
        again = sfn.start_execution(stateMachineArn=arn, name="job-0", input=json.dumps({"kind": "other"}))
        pytest.fail(f"a name at rest was taken again: {again}")
    except ClientError as taken:
        assert taken.response["Error"]["Code"] == "ExecutionAlreadyExists"
        sfn.redrive_execution(executionArn=resting_failed)
        redriven = _wait(sfn, resting_failed)
        events = [event["type"] for event in sfn.get_execution_history(executionArn=resting_failed)["events"]]
        assert redriven["status"] == "FAILED" and events.count("ExecutionRedriven") == 1
        assert to_ms(redriven)["startDate"] == to_ms(described[resting_failed])["startDate"]
        assert listed(maxResults=3) == newest_first, "its place kept"
        machine = sfn.describe_state_machine_for_execution(executionArn=started[2])
        assert machine["stateMachineArn"] == arn
    finally:
        for execution in started[3::5]:
            sfn.stop_execution(executionArn=execution)
        moto_patches.persist_to(None)


@mock_aws(config=SFN_CONFIG)
def test_a_finished_executions_map_runs_are_listed_not_a_server_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug: a finished execution's worker is a stand-in that reads its history from the store,
    and ListMapRuns and DescribeMapRun read the worker's map runs: ListMapRuns of any finished
    execution was an HTTP 500, and DescribeMapRun failed once it met a finished execution. A
    finished execution keeps its Distributed Map's runs while it is awake; one rebuilt from its
    row lists none."""
    from moto.stepfunctions import models as sfn_models

    from mediaflow.moto_patches import execution_index
    from mediaflow.state_store import StateStore

    monkeypatch.setattr(sfn_models.StateMachineInstance, "__init__", execution_index._instance_init)
    monkeypatch.setattr(sfn_models.StepFunctionBackend, "describe_execution", execution_index._describe_execution)
    moto_patches.context_start_time_as_string()  # tags each execution's event manager with its ARN
    sfn = boto3.client("stepfunctions", region_name=REGION)
    fan_out = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Each",
            "States": {"Each": {"Type": "Pass", "End": True}},
        },
        "End": True,
    }
    arn = _state_machine(sfn, {"FanOut": fan_out}, "FanOut")
    moto_patches.persist_to(StateStore(tmp_path))
    try:
        started = [
            sfn.start_execution(stateMachineArn=arn, name=f"m{n}", input='{"items": [1, 2, 3]}')["executionArn"]
            for n in range(2)
        ]
        assert [_wait(sfn, execution)["status"] for execution in started] == ["SUCCEEDED"] * 2
        (run,) = sfn.list_map_runs(executionArn=started[0])["mapRuns"]
        described = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
        assert (described["executionArn"], described["itemCounts"]["succeeded"]) == (started[0], 3)
        executions = sfn_models_backend(arn).executions
        assert isinstance(executions, execution_index.ExecutionList)
        executions._rest(started[0])  # as when it falls out of the awake window
        assert started[0] not in executions.by_arn
        assert sfn.list_map_runs(executionArn=started[0])["mapRuns"] == [], "rebuilt from its row: none kept"
    finally:
        moto_patches.persist_to(None)


def sfn_models_backend(state_machine_arn: str) -> Any:
    from moto.stepfunctions.parser import models as parser_models

    return parser_models.stepfunctions_parser_backends[ACCOUNT_ID][REGION].describe_state_machine(state_machine_arn)


@mock_aws(config=SFN_CONFIG)
def test_a_published_state_machine_still_starts_executions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A published version holds its state machine, and moto deep-copies the version's source
    with every execution it starts: the indexed list of executions (its lock) must copy. A copy
    is a snapshot of the definition, without the executions, as moto leaves the original's."""
    import copy
    import pickle

    from moto.stepfunctions import models as sfn_models

    from mediaflow.moto_patches import execution_index

    monkeypatch.setattr(sfn_models.StateMachineInstance, "__init__", execution_index._instance_init)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    arn = sfn.create_state_machine(name="published", definition=definition, roleArn=ROLE, publish=True)
    started = [
        _wait(sfn, sfn.start_execution(stateMachineArn=arn["stateMachineArn"], name=f"p{n}")["executionArn"])["status"]
        for n in range(2)
    ]
    assert started == ["SUCCEEDED", "SUCCEEDED"]
    executions = sfn_models_backend(arn["stateMachineArn"]).executions
    assert isinstance(executions, execution_index.ExecutionList) and len(executions) == 2
    assert copy.deepcopy(executions) == [] and isinstance(copy.deepcopy(executions), execution_index.ExecutionList)
    assert pickle.loads(pickle.dumps(execution_index.ExecutionList())) == []


def test_the_server_lists_its_services_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from moto import backends as moto_backends

    listings: list[str] = []
    original_listdir = os.listdir

    def counting_listdir(path: str) -> list[str]:
        listings.append(path)
        return original_listdir(path)

    monkeypatch.setattr(os, "listdir", counting_listdir)
    for _ in range(3):
        assert "s3" in moto_patches.original_list_of_moto_modules()
    assert len(listings) == 3, "the bug: the package folder is listed at every request"

    listings.clear()
    moto_patches._moto_modules.cache_clear()
    monkeypatch.setattr(moto_backends, "list_of_moto_modules", moto_patches._moto_modules)
    for _ in range(3):
        assert "s3" in moto_backends.list_of_moto_modules()
    assert len(listings) == 1


def test_the_server_finds_a_hosts_service_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: for every request moto's server tries each service's URL patterns in turn, under
    one lock for all requests, until one matches the host. The fix remembers the answer per host."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    dispatcher = DomainDispatcherApplication(create_backend_app)
    tried: list[str] = []

    class Counting:
        def __init__(self, pattern: Any) -> None:
            self.pattern = pattern

        def match(self, url: str) -> Any:
            tried.append(url)
            return self.pattern.match(url)

    dispatcher.backend_url_patterns = [(name, Counting(pattern)) for name, pattern in dispatcher.backend_url_patterns]
    hosts = ("s3.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com", "states.us-east-1.amazonaws.com")
    shipped = [moto_patches.original_backend_for_host(dispatcher, host) for host in hosts * 2]
    assert shipped[:3] == ["s3", "sns", "stepfunctions"]
    assert len(tried) > 100, "the bug: dozens of patterns tried for every request"

    moto_patches._backend_for_host.cache_clear()
    assert [moto_patches._backend_for_host(dispatcher, host) for host in hosts] == shipped[:3]
    tried.clear()
    assert [moto_patches._backend_for_host(dispatcher, host) for host in hosts * 5] == shipped[:3] * 5
    assert tried == [], "each host's service is looked up once"


def test_the_engines_dynamodb_and_sns_calls_are_served_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug (performance): every DynamoDB or SNS Task is an HTTP round trip from the engine to
    moto's own server, in the same process. With the patch the same backends answer in process,
    so the call works with no server listening at all."""
    from botocore.exceptions import EndpointConnectionError

    monkeypatch.setenv("MOTO_PORT", str(_unused_port()))
    moto_patches._cached_boto_client.cache_clear()
    over_http = moto_patches.original_boto_client_for(region=REGION, service="dynamodb")
    with pytest.raises(EndpointConnectionError):  # nobody listens: it went over HTTP
        over_http.list_tables()

    in_process = moto_patches._cached_boto_client(REGION, "dynamodb", "unused", False)
    name = f"in-process-{uuid.uuid4().hex[:8]}"
    in_process.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        in_process.put_item(TableName=name, Item={"k": {"S": "1"}})
        assert in_process.get_item(TableName=name, Key={"k": {"S": "1"}})["Item"] == {"k": {"S": "1"}}
        topic = moto_patches._cached_boto_client(REGION, "sns", "unused", False).create_topic(Name=name)
        assert topic["TopicArn"].endswith(f":{name}")
    finally:
        in_process.delete_table(TableName=name)
        moto_patches._cached_boto_client.cache_clear()


def _unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_response_body_is_searched_for_a_request_id_only_where_it_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: every response body (a 50 KB history page, a listing) is scanned by a look-behind
    regular expression for `<RequestId>`, which JSON answers never hold. The fix substitutes only
    where the tag is: the same bodies."""
    import re as re_module

    from moto.core.responses import BaseResponse

    from mediaflow.moto_patches import hot_paths

    bodies = [
        '{"events": [' + ",".join(['{"id": 1}'] * 500) + "]}",
        "<R><ResponseMetadata><RequestId>old</RequestId></ResponseMetadata></R>",
        b"\xff\xd8 jpeg bytes",
        "",
    ]
    scans: list[str] = []
    original_sub = re_module.sub

    def counting_sub(*args: Any, **kwargs: Any) -> Any:
        scans.append(args[0])
        return original_sub(*args, **kwargs)

    monkeypatch.setattr(re_module, "sub", counting_sub)

    def answers(enrich: Any) -> list[Any]:
        out = []
        for body in bodies:
            headers: dict[str, str] = {"status": 200}  # type: ignore[dict-item]
            headers, enriched = enrich(headers, body)
            request_id = headers["x-amzn-requestid"]
            shown = enriched.replace(request_id, "<id>") if isinstance(enriched, str) else enriched
            out.append((headers["status"], shown))
        return out

    shipped = answers(hot_paths.original_enrich_response)
    assert len(scans) == len(bodies), "the bug: every body scanned"
    scans.clear()
    monkeypatch.setattr(BaseResponse, "_enrich_response", staticmethod(hot_paths._enrich_response))
    assert answers(BaseResponse._enrich_response) == shipped
    assert shipped[1][1] == "<R><ResponseMetadata><RequestId><id></RequestId></ResponseMetadata></R>"
    assert scans == [], "the tag is looked for with `in`; the expression runs only on the one body holding it"


def _client_with_a_jobs_table() -> Any:
    """A DynamoDB client and a table keyed as MediaFlow's jobs table (inside mock_aws)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="jobs",
        KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


@mock_aws
def test_an_update_expression_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: moto tokenises and parses an UpdateExpression twice per UpdateItem, and
    RecordSuccess sends the same one for every job. The fix parses each distinct expression
    once: the same items come out, the shared AST is never changed."""
    from moto.dynamodb.parsing import expressions
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    from mediaflow.moto_patches import hot_paths

    tokenised: list[str] = []
    original_make_list = ExpressionTokenizer.make_list.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        ExpressionTokenizer,
        "make_list",
        classmethod(lambda cls, text: tokenised.append(text) or original_make_list(cls, text)),
    )
    dynamodb = _client_with_a_jobs_table()
    expression = "SET #status = :s, results = :r, updatedAt = :now ADD attempts :one REMOVE draft"

    def jobs(prefix: str) -> list[dict[str, Any]]:
        items = []
        for number in range(3):
            key = {"jobId": {"S": f"{prefix}{number}"}}
            dynamodb.put_item(TableName="jobs", Item={**key, "draft": {"BOOL": True}})
            items.append(
                dynamodb.update_item(
                    TableName="jobs",
                    Key=key,
                    UpdateExpression=expression,
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":s": {"S": "SUCCEEDED"},
                        ":r": {"L": [{"M": {"label": {"S": "cat"}, "n": {"N": str(number)}}}]},
                        ":now": {"S": "2026-12-01T00:00:00.000Z"},
                        ":one": {"N": "1"},
                    },
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            )
        return [{k: v for k, v in item.items() if k != "jobId"} for item in items]

    monkeypatch.setattr(
        expressions.UpdateExpressionParser, "make", classmethod(hot_paths.original_make_update_expression)
    )
    shipped = jobs("a")
    assert tokenised.count(expression) >= 6, "the bug: parsed twice per UpdateItem"
    tokenised.clear()
    hot_paths._parsed_update_expression.cache_clear()
    monkeypatch.setattr(expressions.UpdateExpressionParser, "make", classmethod(hot_paths._make_update_expression))
    assert jobs("b") == shipped and jobs("c") == shipped
    assert tokenised.count(expression) == 1
    assert shipped[2]["results"]["L"][0]["M"]["n"] == {"N": "2"} and "draft" not in shipped[0]
    with pytest.raises(ClientError, match="ValidationException"):
        dynamodb.update_item(TableName="jobs", Key={"jobId": {"S": "a0"}}, UpdateExpression="SET = oops")


@mock_aws
def test_an_update_expressions_shape_is_checked_once_per_expression_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: every UpdateItem walks its expression's AST with two checks that read only its
    shape and attribute names (one clause of each kind; no overlapping paths), half of moto's
    validator time, though RecordSuccess sends the same expression and names for every job. The
    fix runs them once per parsed expression and names that passed: the same items, and an
    expression they refuse (here with the same text and other names) refused every time."""
    from moto.dynamodb.parsing import expressions

    from mediaflow.moto_patches import hot_paths

    shape_checks: list[str] = []
    for check in hot_paths.SHAPE_CHECKS:
        original_traverse = check.traverse

        def counted(self: Any, node: Any, original: Any = original_traverse) -> Any:
            shape_checks.append(type(self).__name__)
            return original(self, node)

        monkeypatch.setattr(check, "traverse", counted)
    dynamodb = _client_with_a_jobs_table()
    expression = "SET #a = :a, #b = :b, results = :r ADD attempts :one"

    def update(key_name: str, names: dict[str, str]) -> dict[str, Any]:
        key = {"jobId": {"S": key_name}}
        attributes = dynamodb.update_item(
            TableName="jobs",
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":a": {"S": "x"}, ":b": {"S": "y"}, ":r": {"L": []}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return {k: v for k, v in attributes.items() if k != "jobId"}

    def conversation(prefix: str) -> tuple[list[Any], list[str]]:
        answers: list[Any] = []
        for number in range(3):
            answers.append(update(f"{prefix}{number}", {"#a": "status", "#b": "kind"}))
            try:
                update(f"{prefix}{number}", {"#a": "status", "#b": "status"})  # two actions on one path
            except ClientError as error:
                answers.append(error.response["Error"]["Message"])
        with pytest.raises(ClientError, match='The "SET" section can only be used once'):
            dynamodb.update_item(
                TableName="jobs",
                Key={"jobId": {"S": "x"}},
                UpdateExpression="SET a = :a SET b = :a",
                ExpressionAttributeValues={":a": {"S": "x"}},
            )
        checks = list(shape_checks)
        shape_checks.clear()
        return answers, checks

    monkeypatch.setattr(expressions.UpdateExpressionParser, "make", classmethod(hot_paths._make_update_expression))
    monkeypatch.setattr(UpdateExpressionValidator, "__init__", hot_paths.original_validator_init)
    monkeypatch.setattr(UpdateExpressionValidator, "validate", hot_paths.original_validate)
    shipped, checks_shipped = conversation("a")
    monkeypatch.setattr(UpdateExpressionValidator, "__init__", hot_paths._validator_init)
    monkeypatch.setattr(UpdateExpressionValidator, "validate", hot_paths._validate)
    patched, checks_patched = conversation("b")

    assert patched == shipped
    assert "Two document paths overlap" in shipped[1]
    assert shipped[0] == {"status": {"S": "x"}, "kind": {"S": "y"}, "results": {"L": []}, "attempts": {"N": "1"}}
    # moto as shipped: both checks on each of the 7 calls, twice where the item is new (3 of
    # them); patched: the good names once, the refused names and expression every time.
    assert checks_shipped.count("ActionCountValidator") == 10
    assert checks_patched.count("ActionCountValidator") == 1 + 3 + 1


@mock_aws(config=SFN_CONFIG)
def test_state_data_is_copied_by_marshal_with_the_same_results() -> None:
    """The bug: the interpreter deep-copies the state data with copy.deepcopy at every read and
    write (~14,600 calls per image job). The fix copies plain data with a marshal round trip:
    the same outputs and histories, and copy.deepcopy only for what is not plain data."""
    import copy as copy_module
    import importlib

    from mediaflow.moto_patches import hot_paths

    calls: list[str] = []

    class Counting:
        """A `copy` module that counts deep copies."""

        copy = staticmethod(copy_module.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            calls.append(type(value).__name__)
            return copy_module.deepcopy(value, memo)

    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(
        sfn,
        {
            "P": {
                "Type": "Pass",
                "Parameters": {"job.$": "$.job", "n": 1, "merged.$": "States.JsonMerge($.a, $.b, false)"},
                "ResultPath": "$.p",
                "Next": "Par",
            },
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "InputPath": "$.p", "End": True}}},
                    {
                        "StartAt": "B2",
                        "States": {"B2": {"Type": "Pass", "Result": {"x": [1, 2.5, True, None]}, "End": True}},
                    },
                ],
                "ResultPath": "$.par",
                "Next": "M",
            },
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "I",
                    "States": {"I": {"Type": "Pass", "End": True}},
                },
                "ResultPath": "$.mapped",
                "End": True,
            },
        },
        "P",
    )
    job = {"id": "é" * 3, "sizes": [[1, 2], [3.5, -4]], "flags": {"ok": True, "none": None}}
    execution_input = json.dumps({"job": job, "a": {"k": 1}, "b": {"k": 2, "l": [1]}, "items": [1, "two", {"3": 3}]})

    def run(name: str) -> tuple[Any, list[Any]]:
        described = _wait(
            sfn, sfn.start_execution(stateMachineArn=arn, name=name, input=execution_input)["executionArn"]
        )
        events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
        # Map iterations run on threads of their own: their events interleave differently per run.
        shown = [{k: v for k, v in e.items() if k not in ("timestamp", "id", "previousEventId")} for e in events]
        return json.loads(described["output"]), sorted(json.dumps(event, sort_keys=True) for event in shown)

    module = importlib.import_module(hot_paths.STATE_DATA_MODULES[0])
    before = module.copy
    try:
        hot_paths.copy_state_data_with(Counting)
        shipped = run("generic")
        generic = len(calls)
        calls.clear()
        hot_paths.copy_state_data_with(hot_paths.MarshalCopy)
        original_copy_module = hot_paths.copy
        hot_paths.copy = Counting  # type: ignore[assignment]  # count what marshal refuses
        try:
            fixed = run("marshal")
        finally:
            hot_paths.copy = original_copy_module  # type: ignore[assignment]
    finally:
        hot_paths.copy_state_data_with(before)
    assert fixed[0] == shipped[0]
    for ours, theirs in zip(fixed[1], shipped[1], strict=True):
        assert ours == theirs
    assert shipped[0]["p"]["merged"] == {"k": 2, "l": [1]} and shipped[0]["mapped"][2] == {"v": {"3": 3}, "i": 2}
    assert generic > 50, "the bug: the generic deep copy for every read and write of the data"
    assert len(calls) < generic / 5, (len(calls), generic, calls)


def _comparable(answer: Any, varying: set[str], name: str) -> Any:
    """An answer without what differs between two runs (`varying` keys, `name` — the bucket or
    group each run made — as a placeholder), streamed bodies read."""
    if isinstance(answer, dict):
        return {k: _comparable(v, varying, name) for k, v in answer.items() if k not in varying}
    if isinstance(answer, list):
        return [_comparable(v, varying, name) for v in answer]
    if isinstance(answer, str):
        return answer.replace(name, "<name>")
    return answer.read() if hasattr(answer, "read") else answer


def _s3_conversation(s3: Any, bucket: str) -> list[Any]:
    """Every answer about keys whose attributes differ from a new key's defaults, and about
    keys that keep them: what a slimmer key must answer the same."""
    varying = {"ResponseMetadata", "LastModified", "VersionId", "Date", "RetainUntilDate", "Owner"}
    until = datetime(2100, 1, 1, tzinfo=UTC)
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=bucket, Key="plain.jpg", Body=b"a" * 10, Metadata={"job": "1"}, ContentType="image/jpeg")
    s3.put_object(
        Bucket=bucket,
        Key="dressed.jpg",
        Body=b"b" * 20,
        StorageClass="STANDARD_IA",
        ServerSideEncryption="AES256",
        WebsiteRedirectLocation="/elsewhere",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=until,
        ObjectLockLegalHoldStatus="ON",
        Tagging="kind=test",
    )
    s3.put_object_acl(Bucket=bucket, Key="dressed.jpg", ACL="public-read")
    s3.copy_object(Bucket=bucket, Key="copy.jpg", CopySource={"Bucket": bucket, "Key": "plain.jpg"})
    answers = []
    for key in ("plain.jpg", "dressed.jpg", "copy.jpg"):
        answers += [
            s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED"),
            s3.get_object(Bucket=bucket, Key=key),
            s3.get_object_acl(Bucket=bucket, Key=key),
            s3.get_object_tagging(Bucket=bucket, Key=key),
        ]
    answers += [
        s3.get_object_legal_hold(Bucket=bucket, Key="dressed.jpg"),
        s3.list_objects_v2(Bucket=bucket),
        s3.list_object_versions(Bucket=bucket),
    ]
    return _comparable(answers, varying, bucket)


def _memory_per_key(s3: Any, bucket: str, count: int) -> float:
    import gc
    import tracemalloc

    s3.create_bucket(Bucket=bucket)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    backend = s3_models.s3_backends[ACCOUNT_ID]["aws"]
    for number in range(count):  # through the backend: the HTTP layer's own garbage is not a key's
        key = backend.put_object(bucket, f"outputs/{number:05d}/thumb.jpg", b"")
        key.set_metadata({"content-type": "image/jpeg"})
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return grown / count


@mock_aws
def test_an_s3_keys_metadata_takes_half_the_memory_with_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug-and-fix (moto_patches/key_memory.py): each FakeKey had a 35-entry dict of its own and
    its own three-object private ACL, ~3.3 KB per stored object version before its bytes."""
    from mediaflow.moto_patches import key_memory

    s3 = boto3.client("s3", region_name=REGION)
    monkeypatch.setattr(s3_models.FakeKey, "__init__", key_memory.original_key_init)
    for name in key_memory.SPARSE_ATTRIBUTES:  # as shipped, whatever ran in this process before
        monkeypatch.delattr(s3_models.FakeKey, name, raising=False)
    shipped_answers = _s3_conversation(s3, "as-shipped")
    shipped_size = _memory_per_key(s3, "as-shipped-sizes", 300)

    for name, attribute in key_memory.SPARSE_ATTRIBUTES.items():  # what apply() puts on the class
        monkeypatch.setattr(s3_models.FakeKey, name, attribute, raising=False)
    monkeypatch.setattr(s3_models.FakeKey, "__init__", key_memory._slim_key_init)
    slim_answers = _s3_conversation(s3, "slim")
    slim_size = _memory_per_key(s3, "slim-sizes", 300)

    assert slim_answers == shipped_answers
    print(f"bytes per key: {shipped_size:.0f} as shipped, {slim_size:.0f} slim")
    assert slim_size < 0.75 * shipped_size, (shipped_size, slim_size)
    # The shared private ACL is never changed in place: one key's public-read left the others private.
    acl = s3.get_object_acl(Bucket="slim", Key="plain.jpg")["Grants"]
    assert [grant["Permission"] for grant in acl] == ["FULL_CONTROL"]
    dressed = s3_models.s3_backends[ACCOUNT_ID]["aws"].buckets["slim"].keys["dressed.jpg"]
    assert dressed.lock_mode == "GOVERNANCE" and "lock_mode" in vars(dressed)  # set, so its own again


def _logs_conversation(logs: Any, group: str, count: int, now: int) -> list[Any]:
    """Put `count` events in two streams, then every read the AWS CLI and `mediaflow logs` make
    (`now`: milliseconds; CloudWatch Logs refuses events over 14 days old)."""
    logs.create_log_group(logGroupName=group)
    for stream in ("2026/12/01/[$LATEST]local", "2026/12/02/[$LATEST]local"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        for start in range(0, count, 500):
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[
                    {"timestamp": now + n, "message": f"REPORT RequestId: {n} Duration: {n % 97} ms"}
                    for n in range(start, min(count, start + 500))
                ],
            )
    varying = {"ResponseMetadata", "ingestionTime", "eventId", "creationTime", "lastIngestionTime", "arn"}
    varying |= {"nextToken", "nextForwardToken", "nextBackwardToken", "uploadSequenceToken"}
    stream = "2026/12/01/[$LATEST]local"
    return _comparable(
        [
            logs.describe_log_streams(logGroupName=group),
            logs.get_log_events(logGroupName=group, logStreamName=stream, limit=50),
            logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=50),
            logs.filter_log_events(logGroupName=group, filterPattern="Duration", limit=70),
            logs.filter_log_events(logGroupName=group, filterPattern='"RequestId: 7"'),
            logs.filter_log_events(logGroupName=group, startTime=now + 100, endTime=now + 120),
        ],
        varying,
        group,
    )


@mock_aws
def test_log_events_are_kept_in_the_store_not_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug-and-fix (moto_patches/log_events.py): moto kept every log event of every stream in a
    list for as long as it ran. With a store, a stream's events are the store's rows, and every
    read answers as before."""
    import gc
    import tracemalloc

    from moto.core.common_models import BaseModel
    from moto.logs import models as logs_models

    from mediaflow.moto_patches import log_events, model_tracking
    from mediaflow.state_store import StateStore

    monkeypatch.setattr(BaseModel, "__new__", model_tracking._new)  # as in the engine: weakly tracked
    logs = boto3.client("logs", region_name=REGION)
    now = int(time.time() * 1000) - 60_000

    def held_per_event(group: str) -> tuple[list[Any], float]:
        gc.collect()
        tracemalloc.start()
        answers = _logs_conversation(logs, group, 2000, now)
        del answers  # the answers themselves are not what is held
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return _logs_conversation(logs, group + "-again", 300, now), held / 4000

    original_init = logs_models.LogStream.__init__
    logs_models.LogStream.__init__ = log_events.original_log_stream_init  # type: ignore[method-assign]
    try:
        shipped_answers, shipped_bytes = held_per_event("/aws/lambda/as-shipped")
    finally:
        logs_models.LogStream.__init__ = original_init  # type: ignore[method-assign]

    store = StateStore(tmp_path)
    log_events.keep_log_events_in(lambda: store)
    try:
        stored_answers, stored_bytes = held_per_event("/aws/lambda/stored")
        # A time range (what `mediaflow logs -f` polls with) reads that range's rows only.
        rows_read: list[int] = []
        all_rows = store.log_events

        def counted(stream: str, since: int | None = None, until: int | None = None) -> list[Any]:
            rows = all_rows(stream, since, until)
            rows_read.append(len(rows))
            return rows

        store.log_events = counted  # type: ignore[method-assign]
        window = logs.filter_log_events(logGroupName="/aws/lambda/stored", startTime=now + 100, endTime=now + 120)
        del store.log_events
        assert len(window["events"]) == 42 and rows_read == [21, 21], rows_read
        assert (
            store.log_event_count(
                logs_models.logs_backends[ACCOUNT_ID][REGION]
                .groups["/aws/lambda/stored"]
                .streams["2026/12/01/[$LATEST]local"]
                .arn
            )
            == 2000
        )
    finally:
        logs_models.LogStream.__init__ = original_init  # type: ignore[method-assign]
        store.close()

    assert stored_answers == shipped_answers
    print(f"bytes held per log event: {shipped_bytes:.0f} as shipped, {stored_bytes:.0f} in the store")
    assert stored_bytes < shipped_bytes / 2
    # A new store (a restart) starts with this run's events only, as moto's memory did.
    assert StateStore(tmp_path).log_event_count("any") == 0


@mock_aws
def test_log_delivery_makes_the_group_and_stream_and_appends() -> None:
    """The log shipper's delivery (Lambda's, not the public API): a missing group and stream are
    made, later batches are appended, and the AWS API reads them in order."""
    logs = boto3.client("logs", region_name=REGION)
    now = int(time.time() * 1000)
    moto_patches.deliver_log_events("/aws/lambda/f", "s", [{"timestamp": now, "message": "START"}])
    moto_patches.deliver_log_events("/aws/lambda/f", "s", [{"timestamp": now + 1, "message": "END"}])
    events = logs.get_log_events(logGroupName="/aws/lambda/f", logStreamName="s", startFromHead=True)["events"]
    assert [event["message"] for event in events] == ["START", "END"]
    with pytest.raises(ClientError, match="ResourceNotFound"):
        logs.get_log_events(logGroupName="/aws/lambda/f", logStreamName="other")


def _resting_conversation(s3: Any, bucket: str) -> tuple[list[Any], list[Any]]:
    """Keys of every kind in a bucket like MediaFlow's (versioned, encrypted by default), pushed
    out of the awake window by later keys, then every read and change MediaFlow and its users
    make: (answers before changes, answers after)."""
    varying = {"ResponseMetadata", "LastModified", "VersionId", "Date", "Owner"}
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    plain = ["uploads/a b+c%20d.jpg", "uploads/ünï/çødé.png", "outputs/1/results.json", "outputs/1/w320.webp"]
    for number, key in enumerate(plain):
        s3.put_object(Bucket=bucket, Key=key, Body=bytes([number]) * 100, Metadata={"job": str(number)})
    s3.put_object(Bucket=bucket, Key="outputs/1/sum.jpg", Body=b"s" * 50, ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=bucket, Key="outputs/1/tagged.jpg", Body=b"t", Tagging="kind=test", CacheControl="no-cache")
    s3.put_object(Bucket=bucket, Key="outputs/1/public.jpg", Body=b"p", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="outputs/1/twice.jpg", Body=b"first")
    s3.put_object(Bucket=bucket, Key="outputs/1/twice.jpg", Body=b"second")
    for number in range(6):  # later keys: the ones above fall out of a two-key window
        s3.put_object(Bucket=bucket, Key=f"work/{number}.bin", Body=b"w")

    others = ["outputs/1/sum.jpg", "outputs/1/tagged.jpg", "outputs/1/public.jpg", "outputs/1/twice.jpg"]

    def reads(keys: list[str]) -> list[Any]:
        answers: list[Any] = []
        for key in keys:
            answers += [
                s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED"),
                s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-9"),
                s3.get_object_acl(Bucket=bucket, Key=key),
                s3.get_object_tagging(Bucket=bucket, Key=key),
            ]
        answers += [
            s3.list_objects_v2(Bucket=bucket, Prefix="outputs/1/"),
            s3.list_objects_v2(Bucket=bucket, Delimiter="/"),
            s3.list_object_versions(Bucket=bucket, Prefix="outputs/"),
        ]
        return answers

    before = _comparable(reads(plain + others), varying, bucket)
    s3.delete_object(Bucket=bucket, Key=plain[0])
    s3.put_object(Bucket=bucket, Key=plain[2], Body=b"{}")  # an overwrite of a key at rest
    s3.copy_object(Bucket=bucket, Key="outputs/1/copy.png", CopySource={"Bucket": bucket, "Key": plain[1]})
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": plain[3]}]})
    after = _comparable(reads(plain[1:3] + others + ["outputs/1/copy.png"]), varying, bucket)
    return before, after


@mock_aws
def test_s3_keys_rest_in_the_store_and_answer_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug-and-fix (moto_patches/keys_at_rest.py): every stored object was a FakeKey in the
    engine's memory for good (~2 KB each, nine per image job). Keys out of the awake window are
    rebuilt from the store's rows when asked for, and answer exactly as the keys moto kept."""
    import gc
    import tracemalloc

    from moto.core.common_models import BaseModel

    from mediaflow.moto_patches import key_memory, keys_at_rest, model_tracking
    from mediaflow.state_store import StateStore

    monkeypatch.setattr(BaseModel, "__new__", model_tracking._new)  # as in the engine: weakly tracked
    monkeypatch.setattr(s3_models.FakeBucket, "__init__", keys_at_rest._bucket_init)
    for name, attribute in key_memory.SPARSE_ATTRIBUTES.items():  # as the engine has them
        monkeypatch.setattr(s3_models.FakeKey, name, attribute, raising=False)
    monkeypatch.setattr(s3_models.FakeKey, "__init__", key_memory._slim_key_init)
    monkeypatch.setattr(keys_at_rest, "AWAKE_KEYS_PER_BUCKET", 2)
    s3 = boto3.client("s3", region_name=REGION)
    backend = s3_models.s3_backends[ACCOUNT_ID]["aws"]

    def held_per_key(bucket: str) -> float:
        s3.create_bucket(Bucket=bucket)
        gc.collect()
        tracemalloc.start()
        for number in range(200):
            s3.put_object(Bucket=bucket, Key=f"outputs/{number:05d}/thumb.jpg", Body=b"x", ContentType="image/jpeg")
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return held / 200

    moto_patches.persist_to(None)  # no store: every key stays awake, as moto keeps them
    awake_answers = _resting_conversation(s3, "awake")
    awake_bytes = held_per_key("awake-sizes")
    store = StateStore(tmp_path)
    moto_patches.persist_to(store)
    try:
        resting_answers = _resting_conversation(s3, "resting")
        keys = backend.buckets["resting"].keys
        resting = {name for name in keys._self_iterable() if keys.at_rest_name(name)}
        metadata_writes = [0]
        write_metadata = store.set_object_metadata

        def counted(*args: Any) -> None:
            metadata_writes[0] += 1
            write_metadata(*args)

        monkeypatch.setattr(store, "set_object_metadata", counted)
        resting_bytes = held_per_key("resting-sizes")
        # A resting key keeps nothing in memory, not even its name: the store's row is its entry.
        sizes = backend.buckets["resting-sizes"].keys
        held_names = (set(dict.keys(sizes)), set(sizes.names))
        listed = [
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket="resting-sizes", PaginationConfig={"PageSize": 70}
            )
            for item in page["Contents"]
        ]
        found = ["outputs/00007/thumb.jpg" in sizes, "outputs/00007/other.jpg" in sizes, len(sizes)]
        with pytest.raises(ClientError, match="BucketNotEmpty"):
            s3.delete_bucket(Bucket="resting-sizes")
        # Deleted while at rest: gone for good, not woken again from a row left behind.
        s3.delete_object(Bucket="resting-sizes", Key="outputs/00007/thumb.jpg")
        with pytest.raises(ClientError, match="404"):
            s3.head_object(Bucket="resting-sizes", Key="outputs/00007/thumb.jpg")
        gone = ["outputs/00007/thumb.jpg" in sizes, store.has_object("resting-sizes", "outputs/00007/thumb.jpg")]
    finally:
        moto_patches.persist_to(None)
        store.close()

    assert resting_answers == awake_answers
    assert awake_answers[0][1]["Body"] == b"\x00" * 10  # the ranged read of a key that was at rest
    # What the store can rebuild went to rest; a public-read ACL and a second version stay awake.
    assert {"uploads/ünï/çødé.png", "outputs/1/sum.jpg", "outputs/1/tagged.jpg", "work/0.bin"} <= resting
    assert not {"outputs/1/public.jpg", "outputs/1/twice.jpg", "outputs/1/results.json"} & resting
    print(f"bytes held per key: {awake_bytes:.0f} awake, {resting_bytes:.0f} at rest")
    assert resting_bytes < 0.3 * awake_bytes, (awake_bytes, resting_bytes)  # the name and its index entry stay
    assert metadata_writes == [200], "one per PUT: a key rebuilt to compare it does not write its row back"
    assert held_names == ({f"outputs/{n:05d}/thumb.jpg" for n in (198, 199)},) * 2  # the awake window only
    assert listed == [f"outputs/{n:05d}/thumb.jpg" for n in range(200)]
    assert found == [True, False, 200]
    assert gone == [False, False]


def _dynamodb_and_sns_conversation(dynamodb: Any, sns: Any, name: str) -> list[Any]:
    """What the engine's Tasks ask of DynamoDB and SNS, and the errors they can meet."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = sns.create_topic(Name=name)["TopicArn"]
    key = {"k": {"S": "job-ü 1"}}
    item = {**key, "n": {"N": "1.50"}, "b": {"B": b"\x00\xff"}, "m": {"M": {"l": {"L": []}}}}
    calls: list[tuple[str, Any, dict[str, Any]]] = [
        ("put_item", dynamodb, {"TableName": name, "Item": item, "ReturnValues": "ALL_OLD"}),
        ("put_item", dynamodb, {"TableName": name, "Item": item, "ReturnValues": "ALL_OLD"}),
        (
            "put_item",
            dynamodb,
            {
                "TableName": name,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(k)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        ),
        (
            "update_item",
            dynamodb,
            {
                "TableName": name,
                "Key": key,
                "UpdateExpression": "SET #s = :s, m.l = list_append(m.l, :l) ADD n :one",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": {"S": "SUCCEEDED"}, ":l": {"L": [{"S": "x"}]}, ":one": {"N": "1"}},
                "ReturnValues": "ALL_NEW",
                "ReturnConsumedCapacity": "TOTAL",
            },
        ),
        ("update_item", dynamodb, {"TableName": name, "Key": {"k": {"S": "x"}}, "UpdateExpression": "SET = :s"}),
        ("get_item", dynamodb, {"TableName": name, "Key": key, "ConsistentRead": True}),
        ("get_item", dynamodb, {"TableName": f"{name}-missing", "Key": {"k": {"S": "1"}}}),
        (
            "query",
            dynamodb,
            {"TableName": name, "KeyConditionExpression": "k = :k", "ExpressionAttributeValues": {":k": item["k"]}},
        ),
        ("delete_item", dynamodb, {"TableName": name, "Key": key, "ReturnValues": "ALL_OLD"}),
        (
            "publish",
            sns,
            {
                "TopicArn": topic,
                "Subject": "Job ü finished",
                "Message": '{"status": "SUCCEEDED"}',
                "MessageAttributes": {
                    "status": {"DataType": "String", "StringValue": "SUCCEEDED"},
                    "count": {"DataType": "Number", "StringValue": "3"},
                    "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
                },
            },
        ),
        ("publish", sns, {"TopicArn": f"{topic}-missing", "Message": "hello"}),
        ("publish", sns, {"TopicArn": topic, "Message": "x", "MessageAttributes": {"a": {"DataType": "Nope"}}}),
    ]
    answers: list[Any] = []
    for method, client, params in calls:
        try:
            answers.append([method, getattr(client, method)(**params)])
        except ClientError as error:
            answers.append([method, type(error).__name__, str(error), error.response])
    sns.delete_topic(TopicArn=topic)
    dynamodb.delete_table(TableName=name)
    return answers


def test_the_engines_dynamodb_and_sns_calls_skip_botocores_pipeline() -> None:
    """The bug (performance): each of the engine's DynamoDB and SNS Tasks ran botocore's whole
    request pipeline (hooks, endpoint rules, signing, retry handler) and moto's search of every
    service's URL patterns, though it is answered in this process by a view known in advance:
    more CPU than moto's own work. The fix serializes and parses with botocore's own serializer
    and parser and calls moto's view: the same answers and errors, and botocore sends nothing."""
    from mediaflow.moto_patches import lean_calls

    def plain(service: str) -> Any:  # the in-process client as it was: botocore's pipeline
        client = boto3.client(
            service,
            region_name=REGION,
            aws_access_key_id="ak",
            aws_secret_access_key="sk",
            config=moto_patches.IN_PROCESS_CONFIG,
        )
        client.meta.events.register_first("before-send", moto_patches._InProcess())
        return client

    sent: list[str] = []
    lean = {service: lean_calls.LeanClient(plain(service)) for service in ("dynamodb", "sns")}
    for client in lean.values():
        client.meta.events.register("before-send", lambda **kwargs: sent.append(kwargs["event_name"]))
    varying = {"RequestId", "MessageId", "date", "x-amzn-requestid", "x-amz-crc32", "content-length"}
    names = [f"lean-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    shipped = _comparable(_dynamodb_and_sns_conversation(plain("dynamodb"), plain("sns"), names[0]), varying, names[0])
    leaner = _comparable(_dynamodb_and_sns_conversation(lean["dynamodb"], lean["sns"], names[1]), varying, names[1])

    assert leaner == shipped
    assert [answer[1] for answer in shipped if len(answer) == 4] == [
        "ConditionalCheckFailedException",
        "ClientError",  # the ValidationException of a malformed UpdateExpression
        "ResourceNotFoundException",
        "NotFoundException",
        "InvalidParameterException",
    ]
    assert sent == []  # the lean path sent nothing through botocore
    assert isinstance(moto_patches.in_process_client("dynamodb"), lean_calls.LeanClient)


@mock_aws
def test_a_topic_keeps_its_last_messages_not_every_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug-and-fix (moto_patches/sent_messages.py): moto keeps every message a topic ever
    published in memory (Topic.sent_notifications), so a runtime left up holds every job's
    notification. A topic keeps its last KEPT_PER_TOPIC now, as moto's list held them."""
    from mediaflow.moto_patches import sent_messages

    sns = boto3.client("sns", region_name=REGION)
    count = sent_messages.KEPT_PER_TOPIC + 50

    def sent_by_a_new_topic(name: str) -> list[Any]:
        arn = sns.create_topic(Name=name)["TopicArn"]
        for number in range(count):
            attributes = {"kind": {"DataType": "String", "StringValue": "image"}}
            sns.publish(TopicArn=arn, Message=f"job {number}", Subject="MediaFlow", MessageAttributes=attributes)
        return sns_models.sns_backends[ACCOUNT_ID][REGION].topics[arn].sent_notifications

    monkeypatch.setattr(sns_models.Topic, "__init__", sent_messages.original_topic_init)
    shipped = sent_by_a_new_topic("as-shipped")
    assert len(shipped) == count, "the bug: every message kept"

    monkeypatch.setattr(sns_models.Topic, "__init__", sent_messages._topic_init)
    kept = sent_by_a_new_topic("bounded")
    assert len(kept) == sent_messages.KEPT_PER_TOPIC
    # The newest, oldest first, each as moto records it (its id aside): body, subject, attributes.
    assert [message[1:] for message in kept] == [message[1:] for message in shipped[-sent_messages.KEPT_PER_TOPIC :]]
    assert kept[-1][1] == f"job {count - 1}" and kept[-1][3]["kind"]["Value"] == "image"


def _job_record(number: int) -> dict[str, Any]:
    """An item shaped like a job record: keys of the table and of its ByStartedAt index, a few
    kinds of values. Every seventh has no startedAt (not in the index); some are of another type."""
    item = {
        "jobId": {"S": f"job-{number:03d}"},
        "recordType": {"S": "other" if number % 11 == 5 else "job"},
        "status": {"S": "RUNNING"},
        "bytes": {"N": str(number * 1000)},
        "renditions": {"L": [{"M": {"width": {"N": "320"}, "key": {"S": f"outputs/{number}/w320.webp"}}}]},
        "labels": {"SS": ["cat", f"label-{number % 3}"]},
        "thumb": {"B": b"\x00\x01" * 4},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
    }
    if number % 7 != 3:
        item["startedAt"] = {"S": f"2026-12-02T00:{number % 13:02d}:00Z"}  # ties: ordered by jobId
    return item


def _create_jobs_table(dynamodb: Any, name: str) -> None:
    from mediaflow.deploy import create_table_request
    from mediaflow.template import bind_template

    (jobs,) = bind_template(Path(__file__).parents[2] / "template.yaml").resources_of_type("AWS::DynamoDB::Table")
    dynamodb.create_table(**create_table_request(jobs, name))


def _items_conversation(dynamodb: Any, table: str, before_transactions: Any = lambda: None) -> list[Any]:
    """MediaFlow's jobs table (as template.yaml defines it: the ByStartedAt index), items pushed
    out of a small awake window by later ones, then every read and write MediaFlow, its page and
    its users make."""
    _create_jobs_table(dynamodb, table)
    answers: list[Any] = []

    def key(number: int) -> dict[str, Any]:
        return {"jobId": {"S": f"job-{number:03d}"}}

    def error_of(call: Any, **kwargs: Any) -> str:
        try:
            call(TableName=table, **kwargs)
        except ClientError as err:
            return err.response["Error"]["Code"]
        return "no error"

    for number in range(40):
        dynamodb.put_item(TableName=table, Item=_job_record(number))
    for number in range(0, 40, 3):  # RecordSuccess-like updates; some move in the index's order
        expression = "SET #s = :s, startedAt = :t" if number % 6 == 0 else "SET #s = :s"
        values = {":s": {"S": "SUCCEEDED"}}
        if number % 6 == 0:
            values[":t"] = {"S": f"2026-12-02T01:{number:02d}:00Z"}
        dynamodb.update_item(
            TableName=table,
            Key=key(number),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )
    dynamodb.delete_item(TableName=table, Key=key(4))
    answers.append(dynamodb.delete_item(TableName=table, Key=key(9), ReturnValues="ALL_OLD")["Attributes"])
    duplicate = {"Item": _job_record(1), "ConditionExpression": "attribute_not_exists(jobId)"}
    answers.append(error_of(dynamodb.put_item, **duplicate))  # RecordJob's duplicate event
    answers += [dynamodb.get_item(TableName=table, Key=key(n)).get("Item") for n in range(0, 40, 5)]

    def index_query(**kwargs: Any) -> dict[str, Any]:
        condition = {"KeyConditionExpression": "recordType = :j", "ExpressionAttributeValues": {":j": {"S": "job"}}}
        return dynamodb.query(TableName=table, IndexName="ByStartedAt", **(condition | kwargs))

    for forward in (True, False):  # the page's list, a page at a time, both ways
        start = None
        while True:
            page = index_query(ScanIndexForward=forward, Limit=7, **({"ExclusiveStartKey": start} if start else {}))
            answers.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"], page["ScannedCount"]))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
    answers.append(index_query(Limit=40)["Items"])
    succeeded = {":j": {"S": "job"}, ":ok": {"S": "SUCCEEDED"}}
    filtered = {"FilterExpression": "#s = :ok", "ExpressionAttributeNames": {"#s": "status"}}
    answers.append(index_query(ExpressionAttributeValues=succeeded, Limit=6, **filtered))
    answers.append(index_query())  # no Limit: every item
    ranged = "recordType = :j AND startedAt > :t"
    values = {":j": {"S": "job"}, ":t": {"S": "2026-12-02T00:05:00Z"}}
    answers.append(index_query(KeyConditionExpression=ranged, ExpressionAttributeValues=values, Limit=5))
    answers.append(
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="jobId = :id",
            ExpressionAttributeValues={":id": {"S": "job-010"}},
        )["Items"]
    )
    answers.append(dynamodb.scan(TableName=table)["Items"])
    answers.append(dynamodb.scan(TableName=table, Limit=9)["LastEvaluatedKey"])
    answers.append(dynamodb.describe_table(TableName=table)["Table"]["ItemCount"])
    before_transactions()  # a refused transaction puts back moto's copy of the whole table
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _job_record(100)}},
            {"Delete": {"TableName": table, "Key": key(11)}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key(12),
                    "UpdateExpression": "SET ok = :f",
                    "ExpressionAttributeValues": {":f": {"BOOL": False}},
                }
            },
        ]
    )
    refused = [
        {"ConditionCheck": {"TableName": table, "Key": key(13), "ConditionExpression": "attribute_not_exists(jobId)"}},
        {"Put": {"TableName": table, "Item": _job_record(101)}},
    ]
    answers.append(error_of(lambda TableName, **_: dynamodb.transact_write_items(TransactItems=refused)))
    answers += [dynamodb.get_item(TableName=table, Key=key(n)).get("Item") for n in (100, 101, 11, 12, 13)]
    answers.append(index_query(ScanIndexForward=False, Limit=5))
    return [_comparable(answer, {"ResponseMetadata"}, table) for answer in answers]


@mock_aws
def test_dynamodb_items_rest_in_the_store_and_answer_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug-and-fix (moto_patches/items_at_rest.py): every item of every table was an Item of
    DynamoTypes in the engine's memory for good (~5 KB per job record), and a Query on an index
    sorted the whole table. Items out of the awake window are rebuilt from the store's rows when
    asked for, answer exactly as moto's, and the page's Query builds only the page it returns."""
    import gc
    import tracemalloc

    from moto.core.common_models import BaseModel
    from moto.dynamodb.models import table as table_models

    from mediaflow.moto_patches import items_at_rest, model_tracking
    from mediaflow.state_store import StateStore

    monkeypatch.setattr(BaseModel, "__new__", model_tracking._new)  # as in the engine: weakly tracked
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    backend = __import__("moto.dynamodb.models", fromlist=["dynamodb_backends"]).dynamodb_backends[ACCOUNT_ID][REGION]
    as_shipped = {
        "__init__": items_at_rest.original_table_init,
        "query": items_at_rest.original_query,
        "all_items": items_at_rest.original_all_items,
        "__len__": items_at_rest.original_len,
    }
    patched = {
        "__init__": items_at_rest._table_init,
        "query": items_at_rest._query,
        "all_items": items_at_rest._all_items,
        "__len__": items_at_rest._len,
    }
    walked: list[int] = []  # how many items each Query on an index sorted
    sorted_items = table_models.Table.sorted_items

    def counted_sort(self: Any, hash_attrs: Any, range_attrs: Any, items: list[Any]) -> Any:
        walked.append(len(items))
        return sorted_items(self, hash_attrs, range_attrs, items)

    monkeypatch.setattr(table_models.Table, "sorted_items", counted_sort)

    def held_per_item(table: str) -> float:
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        gc.collect()
        tracemalloc.start()
        for number in range(300):
            dynamodb.put_item(TableName=table, Item=_job_record(number))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return held / 300

    def page_walks(table: str) -> int:
        for number in range(200, 300):
            dynamodb.put_item(TableName=table, Item=_job_record(number))
        walked.clear()
        dynamodb.query(
            TableName=table,
            IndexName="ByStartedAt",
            KeyConditionExpression="recordType = :j",
            ExpressionAttributeValues={":j": {"S": "job"}},
            ScanIndexForward=False,
            Limit=20,
        )
        (count,) = walked
        return count

    for name, method in as_shipped.items():
        monkeypatch.setattr(table_models.Table, name, method)
    moto_patches.persist_to(None)
    shipped_answers = _items_conversation(dynamodb, "shipped")
    shipped_bytes = held_per_item("shipped-sizes")
    shipped_walks = page_walks("shipped")

    for name, method in patched.items():
        monkeypatch.setattr(table_models.Table, name, method)
    monkeypatch.setattr(items_at_rest, "AWAKE_ITEMS_PER_TABLE", 3)
    # No store: nothing rests, but the index orders still answer the page's Query.
    assert _items_conversation(dynamodb, "no-store") == shipped_answers
    store = StateStore(tmp_path)
    moto_patches.persist_to(store)
    try:
        resting: list[Any] = []

        def count_resting() -> None:
            items = backend.get_table("resting").items
            resting.extend(range(len(items) - dict.__len__(items)))  # in the store only

        resting_answers = _items_conversation(dynamodb, "resting", count_resting)
        resting_bytes = held_per_item("resting-sizes")
        counted_keys: list[str] = []  # moto's `if table:` at each write must not count every item
        with monkeypatch.context() as counting:
            counting.setattr(store, "item_keys", lambda table: counted_keys.append(table) or [])
            resting_walks = page_walks("resting")
        # A resting item keeps nothing in memory, not even its key or its place in the index.
        items = backend.get_table("resting").items
        held = (dict.__len__(items), len(items.orders["ByStartedAt"]._entry_of), len(items))
    finally:
        moto_patches.persist_to(None)
        store.close()

    assert resting_answers == shipped_answers
    assert len(resting) >= 30, "items out of the window went to rest"
    print(f"bytes held per item: {shipped_bytes:.0f} as moto keeps them, {resting_bytes:.0f} at rest")
    assert resting_bytes < 0.15 * shipped_bytes, (shipped_bytes, resting_bytes)  # 0.17 with keys and index entries
    assert held[0] <= 3 and held[1] <= 3 and held[2] > 100, held  # the awake window only
    assert counted_keys == []
    # The page's list: moto as shipped sorts every item of the table for each page; at rest, the
    # page's 20 items and the one that tells a next page exists (the awake ones' page and the
    # store's, which includes them).
    assert shipped_walks >= 100, shipped_walks
    assert 21 <= resting_walks <= 21 + 3, resting_walks  # and at most the awake window beyond


@mock_aws(config=SFN_CONFIG)
def test_finished_executions_share_their_state_machine_snapshot(tmp_path: Path) -> None:
    """Bug-and-fix (`_shared_snapshot`, `_StoredHistory`): moto gives every execution a deep copy
    of its state machine, so every finished job kept one equal to all the others (~1 KB each),
    and the stand-in for its worker held three closures of its own. Finished executions of one
    revision share one snapshot now; one that ran an earlier definition keeps that definition."""
    from moto.stepfunctions.parser import models as parser_models

    from mediaflow.state_store import StateStore

    moto_patches.context_start_time_as_string()  # tags each execution's event manager with its ARN
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = _state_machine(sfn, {"P": {"Type": "Pass", "Result": {"v": 1}, "End": True}}, "P")
    backend = parser_models.stepfunctions_parser_backends[ACCOUNT_ID][REGION]

    def run(name: str) -> Any:
        execution_arn = _wait(sfn, sfn.start_execution(stateMachineArn=arn, name=name)["executionArn"])["executionArn"]
        return backend.describe_execution(execution_arn)

    moto_patches.persist_to(None)
    shipped = [run(f"shipped-{n}") for n in range(2)]
    assert shipped[0].state_machine is not shipped[1].state_machine, "the bug: a copy per execution"
    store = StateStore(tmp_path)
    moto_patches.persist_to(store)
    try:
        first = [run(f"first-{n}") for n in range(3)]
        definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"v": 2}, "End": True}}})
        sfn.update_state_machine(stateMachineArn=arn, definition=definition)
        later = [run(f"later-{n}") for n in range(2)]
    finally:
        moto_patches.persist_to(None)
    assert len({id(e.state_machine) for e in first}) == 1 and len({id(e.state_machine) for e in later}) == 1
    assert first[0].state_machine is not later[0].state_machine
    assert not hasattr(first[0].exec_worker, "__dict__"), "the history's stand-in holds its store and ARN only"
    old, new = first[2].state_machine.definition, later[0].state_machine.definition
    assert (json.loads(old)["States"]["P"]["Result"], json.loads(new)["States"]["P"]["Result"]) == ({"v": 1}, {"v": 2})
    assert json.loads(sfn.describe_execution(executionArn=later[1].exec_arn)["output"]) == {"v": 2}
    store.close()


@mock_aws
def test_items_restored_after_a_restart_start_at_rest_and_answer_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart puts every stored item back at rest (only its keys built) and the page's list
    and each job's record answer as before the restart."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models import table as table_models

    from mediaflow.moto_patches import at_rest, items_at_rest
    from mediaflow.recovery import restore_items
    from mediaflow.state_store import StateStore

    patched = {"__init__": "_table_init", "query": "_query", "all_items": "_all_items", "__len__": "_len"}
    for name, ours in patched.items():
        monkeypatch.setattr(table_models.Table, name, getattr(items_at_rest, ours))
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    backend = dynamodb_backends[ACCOUNT_ID][REGION]
    store = StateStore(tmp_path)
    moto_patches.persist_to(store)
    try:
        conversation = _items_conversation(dynamodb, "jobs")  # creates the table and its items
        page = {
            "TableName": "jobs",
            "IndexName": "ByStartedAt",
            "KeyConditionExpression": "recordType = :j",
            "ExpressionAttributeValues": {":j": {"S": "job"}},
            "ScanIndexForward": False,
            "Limit": 6,
        }
        before = [dynamodb.query(**page), dynamodb.get_item(TableName="jobs", Key={"jobId": {"S": "job-020"}})]
        backend.tables.pop("jobs")  # the restart: an empty table, as deployed from the template
        _create_jobs_table(dynamodb, "jobs")
        restored = restore_items(store)
        items = backend.get_table("jobs").items
        awake_after_restore = dict.__len__(items)  # nothing is built, not even a key
        at_rest = len(items) - awake_after_restore
        after = [dynamodb.query(**page), dynamodb.get_item(TableName="jobs", Key={"jobId": {"S": "job-020"}})]
    finally:
        moto_patches.persist_to(None)
        store.close()
    assert conversation and restored == at_rest == len(list(StateStore(tmp_path).items())) > 30
    assert awake_after_restore == 0
    assert _comparable(after, {"ResponseMetadata"}, "jobs") == _comparable(before, {"ResponseMetadata"}, "jobs")
    assert before[0]["Items"] and "LastEvaluatedKey" in before[0]


@mock_aws
def test_restored_objects_start_at_rest_and_a_row_without_its_bytes_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart builds no S3 key, not even a name (recovery.restore_objects), and a row whose
    blob file is gone (a state dir tampered with) is dropped with a log line instead of being
    listed as an object nobody can read."""
    from mediaflow.moto_patches import keys_at_rest
    from mediaflow.recovery import restore_objects
    from mediaflow.state_store import StateStore

    monkeypatch.setattr(s3_models.FakeBucket, "__init__", keys_at_rest._bucket_init)
    s3 = boto3.client("s3", region_name=REGION)
    backend = s3_models.s3_backends[ACCOUNT_ID]["aws"]
    store = StateStore(tmp_path)
    moto_patches.persist_to(store)
    try:
        s3.create_bucket(Bucket="restored")
        s3.put_object(Bucket="restored", Key="uploads/kept.jpg", Body=b"kept bytes")
        s3.put_object(Bucket="restored", Key="uploads/lost.jpg", Body=b"lost bytes")
        store.object("restored", "uploads/lost.jpg").path.unlink()
        backend.buckets["restored"].keys = keys_at_rest.RestingKeyStore("restored")  # the restart: empty
        restored = restore_objects(store)
        keys = backend.buckets["restored"].keys
        built = len(dict.keys(keys))
        listed = [item["Key"] for item in s3.list_objects_v2(Bucket="restored", Prefix="uploads/")["Contents"]]
        kept = s3.get_object(Bucket="restored", Key="uploads/kept.jpg")["Body"].read()
        with pytest.raises(ClientError, match="404"):
            s3.head_object(Bucket="restored", Key="uploads/lost.jpg")
        lost_row = store.object("restored", "uploads/lost.jpg")
    finally:
        moto_patches.persist_to(None)
        store.close()
    assert (restored, built) == (1, 0)
    assert listed == ["uploads/kept.jpg"] and kept == b"kept bytes"
    assert lost_row is None


def test_an_action_is_looked_up_by_its_name_not_by_listing_every_method(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: every JSON-protocol request (DynamoDB, SNS, Step Functions, Logs; the
    interpreter's own Tasks too) listed and sorted every attribute of its response class with
    `inspect.getmembers` to learn whether its action is one of the functions. The fix asks of
    that one name: the same answer for every name, a request no longer lists the class."""
    import inspect

    from moto.core import responses as core_responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.events.responses import EventsHandler
    from moto.logs.responses import LogsResponse
    from moto.s3.responses import S3Response
    from moto.sns.responses import SNSResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    from mediaflow.moto_patches import hot_paths

    for cls in (DynamoHandler, SNSResponse, StepFunctionResponse, LogsResponse, EventsHandler, S3Response):
        listed = hot_paths.original_method_names_from_class(cls)
        asked = hot_paths.FunctionNames(cls)
        names = set(dir(cls)) | {"no_such_action", "", "__init__", "dispatch", "region", "body"}
        assert {name for name in names if name in asked} == {name for name in names if name in listed}
        assert len(listed) > 20 and all(name in asked for name in listed)

    listings: list[Any] = []
    original_getmembers = inspect.getmembers

    def counting_getmembers(*args: Any, **kwargs: Any) -> Any:
        listings.append(args[0])
        return original_getmembers(*args, **kwargs)

    monkeypatch.setattr(inspect, "getmembers", counting_getmembers)

    def item_after_calls() -> Any:
        with mock_aws():
            dynamodb = _client_with_a_jobs_table()
            dynamodb.put_item(TableName="jobs", Item={"jobId": {"S": "a"}, "n": {"N": "1"}})
            dynamodb.update_item(
                TableName="jobs",
                Key={"jobId": {"S": "a"}},
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            with pytest.raises(ClientError):  # an action moto answers with an error still does
                dynamodb.get_item(TableName="missing", Key={"jobId": {"S": "a"}})
            return dynamodb.get_item(TableName="jobs", Key={"jobId": {"S": "a"}})["Item"]

    monkeypatch.setattr(core_responses, "method_names_from_class", hot_paths.original_method_names_from_class)
    shipped = item_after_calls()
    assert DynamoHandler in listings, "the bug: the handler class is listed per request"
    listings.clear()
    monkeypatch.setattr(core_responses, "method_names_from_class", hot_paths.FunctionNames)
    assert item_after_calls() == shipped == {"jobId": {"S": "a"}, "n": {"N": "2"}}
    assert DynamoHandler not in listings

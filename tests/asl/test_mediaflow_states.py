"""MediaFlow's own recording and notification states, as written in statemachines/ (JSONPath) and
rewritten in JSONata, run side by side on the same emulated DynamoDB and SNS: both must write the
same job record and send the same email, and both must stop a duplicate event the same way."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from mediaflow.template import REGION
from tests.asl.harness import run

DEFINITION = Path(__file__).resolve().parents[2] / "statemachines" / "media_pipeline.asl.json"
TABLE = "asl-jobs"
CONSOLE = "https://console.example/executions/"
STUBS = {
    "ProcessImage": {"Type": "Pass", "Next": "RecordSuccess"},
    "ExtractFrames": {"Type": "Fail", "Error": "NotInThisTest"},
    "RejectUnsupportedKind": {"Type": "Fail", "Error": "NotInThisTest"},
    "DuplicateEvent": {"Type": "Succeed"},
    "NotifyFailure": {"Type": "Fail", "Error": "NotifyFailureReached"},
    "DiscardPartialOutputs": {"Type": "Fail", "Error": "DiscardReached"},
    "Validate": {"Type": "Pass", "Next": "Route"},
    "Done": {"Type": "Succeed"},
}

JSONATA_STATES = {
    "RecordJob": {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:putItem",
        "Arguments": {
            "TableName": TABLE,
            "Item": {
                "jobId": {"S": "{% $states.input.job.jobId %}"},
                "recordType": {"S": "job"},
                "status": {"S": "RUNNING"},
                "bucket": {"S": "{% $states.input.job.bucket %}"},
                "key": {"S": "{% $states.input.job.key %}"},
                "etag": {"S": "{% $states.input.job.etag %}"},
                "size": {"N": "{% $string($states.input.job.size) %}"},
                "attempt": {"N": "{% $string($states.input.job.attempt) %}"},
                "executionArn": {"S": "{% $states.input.job.executionArn %}"},
                "startedAt": {"S": "{% $states.input.job.startedAt %}"},
                "updatedAt": {"S": "{% $states.context.State.EnteredTime %}"},
            },
            "ConditionExpression": "attribute_not_exists(jobId) OR #status = :failed OR attempt < :attempt OR executionArn = :execution",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":failed": {"S": "FAILED"},
                ":attempt": {"N": "{% $string($states.input.job.attempt) %}"},
                ":execution": {"S": "{% $states.input.job.executionArn %}"},
            },
        },
        "Output": "{% $states.input %}",
        "Catch": [
            {
                "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                "Output": "{% $merge([$states.input, {'error': $states.errorOutput}]) %}",
                "Next": "DuplicateEvent",
            },
            {"ErrorEquals": ["States.ALL"], "Next": "NotifyFailure"},
        ],
        "Next": "Validate",
    },
    "Route": {
        "Type": "Choice",
        "Choices": [
            {"Condition": "{% $states.input.media.kind = 'image' %}", "Next": "ProcessImage"},
            {"Condition": "{% $states.input.media.kind = 'video' %}", "Next": "ExtractFrames"},
        ],
        "Default": "RejectUnsupportedKind",
    },
    "RecordSuccess": {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Arguments": {
            "TableName": TABLE,
            "Key": {"jobId": {"S": "{% $states.input.job.jobId %}"}},
            "UpdateExpression": "SET #status = :succeeded, kind = :kind, media = :media, results = :results, topLabels = :topLabels, costSummary = :cost, updatedAt = :now, finishedAt = :now",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":succeeded": {"S": "SUCCEEDED"},
                ":kind": {"S": "{% $states.input.media.kind %}"},
                ":media": {"S": "{% $string($states.input.media) %}"},
                ":results": {"S": "{% $string($states.input.results) %}"},
                ":topLabels": {"S": "{% $states.input.results.topLabels %}"},
                ":cost": {"S": "{% $states.input.results.costSummary %}"},
                ":now": {"S": "{% $states.context.State.EnteredTime %}"},
            },
        },
        "Output": "{% $states.input %}",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "DiscardPartialOutputs"}],
        "Next": "NotifySuccess",
    },
    "NotifySuccess": {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Arguments": {
            "TopicArn": "TOPIC",
            "Subject": "{% 'MediaFlow job SUCCEEDED (' & $states.input.media.kind & ')' %}",
            "Message": (
                "{% ( $j := $states.input.job; $m := $states.input.media; $r := $states.input.results;"
                " 'MediaFlow processed your upload.\\n\\nFile: ' & $j.key & '\\nStatus: SUCCEEDED\\nKind: ' & $m.kind"
                " & ' (' & $m.width & ' x ' & $m.height & ' ' & $m.format & ')\\nTop labels: ' & $r.topLabels"
                " & '\\nOutputs: ' & $r.outputsSummary & '\\nResults: s3://' & $j.bucket & '/' & $r.resultsKey"
                " & '\\nCost: ' & $r.costSummary & '\\nJob: ' & $j.jobId & '\\nExecution: "
                + CONSOLE
                + "' & $j.executionArn & '\\n' ) %}"
            ),
            "MessageAttributes": {
                "status": {"DataType": "String", "StringValue": "SUCCEEDED"},
                "kind": {"DataType": "String", "StringValue": "{% $states.input.media.kind %}"},
            },
        },
        "Output": "{% $states.input %}",
        "Next": "Done",
    },
}


def _jsonpath_machine(topic: str) -> dict[str, Any]:
    text = DEFINITION.read_text()
    text = text.replace("${JobsTableName}", TABLE).replace("${NotificationTopicArn}", topic)
    text = text.replace("${ConsoleExecutionUrlPrefix}", CONSOLE)
    states = json.loads(text)["States"]
    chosen = {name: states[name] for name in ("RecordJob", "Route", "RecordSuccess", "NotifySuccess")}
    return {"StartAt": "RecordJob", "States": {**chosen, **STUBS}}


def _jsonata_machine(topic: str) -> dict[str, Any]:
    states = json.loads(json.dumps(JSONATA_STATES).replace('"TOPIC"', json.dumps(topic)))
    return {"QueryLanguage": "JSONata", "StartAt": "RecordJob", "States": {**states, **STUBS}}


def _upload(job_id: str) -> dict[str, Any]:
    return {
        "job": {
            "jobId": job_id,
            "bucket": "uploads-bucket",
            "key": "uploads/café photo.jpg",
            "etag": "abc123",
            "size": 123456,
            "attempt": 1,
            "executionArn": f"arn:aws:states:{REGION}:123456789012:execution:mf:{job_id}",
            "startedAt": "2026-11-30T12:00:00.000Z",
        },
        "media": {"kind": "image", "width": 640, "height": 480, "format": "JPEG"},
        "results": {
            "topLabels": "cat, person",
            "outputsSummary": "3 renditions",
            "resultsKey": f"outputs/{job_id}/results.json",
            "costSummary": "$0.00001",
        },
    }


@pytest.fixture(scope="module")
def aws(sfn: Any) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="asl-notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="asl-mail")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"})
    return {"dynamodb": dynamodb, "sqs": sqs, "queue": queue, "topic": topic}


def _mail(aws: dict[str, Any]) -> list[dict[str, Any]]:
    received = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", [])
    for message in received:
        aws["sqs"].delete_message(QueueUrl=aws["queue"], ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in received]


def _record(aws: dict[str, Any], job_id: str) -> dict[str, Any]:
    return aws["dynamodb"].get_item(TableName=TABLE, Key={"jobId": {"S": job_id}})["Item"]


def _without_ids(value: str, job_id: str) -> str:
    return value.replace(job_id, "<job>")


STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_jsonpath_and_jsonata_versions_write_the_same_record_and_email(sfn: Any, aws: dict[str, Any]) -> None:
    outcomes = {}
    for label, machine in (("jsonpath", _jsonpath_machine(aws["topic"])), ("jsonata", _jsonata_machine(aws["topic"]))):
        outcome = run(sfn, machine, _upload(f"job-{label}"))
        assert outcome.status == "SUCCEEDED", (label, outcome.error, outcome.cause)
        (mail,) = _mail(aws)
        outcomes[label] = (_record(aws, f"job-{label}"), mail)

    (path_record, path_mail), (nata_record, nata_mail) = outcomes["jsonpath"], outcomes["jsonata"]
    for record in (path_record, nata_record):
        assert STAMP.fullmatch(record["updatedAt"]["S"]) and STAMP.fullmatch(record["finishedAt"]["S"])
        for stamp in ("updatedAt", "finishedAt"):
            record.pop(stamp)
    normalised = [
        json.loads(_without_ids(json.dumps(record), job))
        for record, job in ((path_record, "job-jsonpath"), (nata_record, "job-jsonata"))
    ]
    assert normalised[0] == normalised[1]
    assert path_record["status"] == {"S": "SUCCEEDED"} and path_record["size"] == {"N": "123456"}
    assert json.loads(path_record["media"]["S"]) == {"kind": "image", "width": 640, "height": 480, "format": "JPEG"}

    assert path_mail["Subject"] == nata_mail["Subject"] == "MediaFlow job SUCCEEDED (image)"
    assert _without_ids(path_mail["Message"], "job-jsonpath") == _without_ids(nata_mail["Message"], "job-jsonata")
    assert "File: uploads/café photo.jpg\nStatus: SUCCEEDED\nKind: image (640 x 480 JPEG)\n" in path_mail["Message"]
    assert path_mail["MessageAttributes"] == nata_mail["MessageAttributes"]


def test_both_versions_stop_a_duplicate_event_at_the_idempotency_record(sfn: Any, aws: dict[str, Any]) -> None:
    for label, machine in (("jsonpath", _jsonpath_machine(aws["topic"])), ("jsonata", _jsonata_machine(aws["topic"]))):
        upload = _upload(f"dup-{label}")
        assert run(sfn, machine, upload).status == "SUCCEEDED"
        _mail(aws)
        upload["job"]["executionArn"] += "-second-delivery"  # EventBridge delivered the same upload again
        again = run(sfn, machine, upload)
        assert again.status == "SUCCEEDED"
        entered = [
            event["stateEnteredEventDetails"]["name"] for event in again.events if "stateEnteredEventDetails" in event
        ]
        assert entered == ["RecordJob", "DuplicateEvent"]
        assert again.event_types[-1] == "ExecutionSucceeded"
        assert again.output["error"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
        assert _mail(aws) == []
        assert _record(aws, f"dup-{label}")["status"] == {"S": "SUCCEEDED"}


def test_a_jsonata_task_outputs_its_result_and_assigns_from_it(sfn: Any, aws: dict[str, Any]) -> None:
    """No Output: the state's output is the task's result; Output and Assign read it as $states.result."""
    assert run(sfn, _jsonata_machine(aws["topic"]), _upload("job-read")).status == "SUCCEEDED"
    _mail(aws)
    get = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Arguments": {"TableName": TABLE, "Key": {"jobId": {"S": "{% $states.input.id %}"}}},
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Raw",
        "States": {
            "Raw": {**get, "Assign": {"status": "{% $states.result.Item.status.S %}"}, "Next": "Shaped"},
            "Shaped": {
                **get,
                "Arguments": {"TableName": TABLE, "Key": {"jobId": {"S": "job-read"}}},
                "Output": {
                    "was": "{% $status %}",
                    "kind": "{% $states.result.Item.kind.S %}",
                    "raw": "{% $exists($states.input.Item) %}",
                },
                "End": True,
            },
        },
    }
    outcome = run(sfn, definition, {"id": "job-read"})
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.output == {"was": "SUCCEEDED", "kind": "image", "raw": True}

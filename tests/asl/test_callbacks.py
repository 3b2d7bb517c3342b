"""Callbacks and timeouts (AWS: "Wait for a Callback with Task Token", "TimeoutSeconds"): a Task
that sends its token to SQS waits until SendTaskSuccess/SendTaskFailure answers, or times out."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest

from mediaflow.template import REGION
from tests.asl.harness import ROLE, machine, pass_state, wait_finished


@pytest.fixture(scope="module")
def queue(sfn: Any) -> tuple[Any, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs, sqs.create_queue(QueueName="asl-callbacks")["QueueUrl"]


def _start(sfn: Any, definition: dict[str, Any], execution_input: Any) -> str:
    arn = sfn.create_state_machine(name=f"cb-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    return sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]


def _token(sqs: Any, url: str) -> str:
    for _ in range(200):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
            return json.loads(messages[0]["Body"])["token"]
        time.sleep(0.02)
    raise TimeoutError("no task token reached the queue")


def _callback_machine(url: str, **task: Any) -> dict[str, Any]:
    return machine(
        {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token", "job.$": "$.job"}},
                "ResultPath": "$.answer",
                "Next": "Done",
                **task,
            },
            "Done": pass_state(),
        }
    )


def test_send_task_success_resumes_the_execution_with_its_output(sfn: Any, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    execution = _start(sfn, _callback_machine(url), {"job": "j1"})
    sfn.send_task_success(taskToken=_token(sqs, url), output=json.dumps({"approved": True}))
    described = wait_finished(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"job": "j1", "answer": {"approved": True}}


def test_send_task_failure_fails_the_task_with_its_error(sfn: Any, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    definition = _callback_machine(url, Catch=[{"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "Done"}])
    execution = _start(sfn, definition, {"job": "j2"})
    sfn.send_task_failure(taskToken=_token(sqs, url), error="Rejected", cause="a human said no")
    described = wait_finished(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"] == {"Error": "Rejected", "Cause": "a human said no"}


def test_a_callback_that_never_comes_times_out(sfn: Any, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    execution = _start(sfn, _callback_machine(url, TimeoutSeconds=1), {"job": "j3"})
    _token(sqs, url)
    described = wait_finished(sfn, execution)
    assert described["status"] == "FAILED" and described["error"] == "States.Timeout"


def test_an_execution_over_its_timeout_is_timed_out(sfn: Any) -> None:
    definition = {**machine({"W": {"Type": "Wait", "Seconds": 2000, "End": True}}), "TimeoutSeconds": 1}
    described = wait_finished(sfn, _start(sfn, definition, {}))
    assert described["status"] == "TIMED_OUT"


def test_stop_execution_aborts_it(sfn: Any) -> None:
    execution = _start(sfn, machine({"W": {"Type": "Wait", "Seconds": 100_000, "End": True}}), {})
    time.sleep(0.2)
    sfn.stop_execution(executionArn=execution, error="Manual", cause="stopped by the test")
    described = wait_finished(sfn, execution)
    assert described["status"] == "ABORTED"
    types = [event["type"] for event in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types[-1] == "ExecutionAborted"

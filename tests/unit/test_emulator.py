"""The emulator's HTTP server: what boto3 sends reaches moto, and stopping frees the port."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
import requests
import waitress
from botocore.config import Config
from botocore.exceptions import ClientError
from waitress.channel import HTTPChannel

from mediaflow.emulator import Emulator, _Channel, ensure_port_free


def _s3_client(emulator: Emulator) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="mediaflow",
        aws_secret_access_key="mediaflow",
        config=Config(read_timeout=10, retries={"total_max_attempts": 1}),  # a hang fails the test
    )


def test_uploads_of_every_size_get_an_answer_and_stop_frees_the_port() -> None:
    emulator = Emulator()
    emulator.start()
    try:
        s3 = _s3_client(emulator)
        s3.create_bucket(Bucket="emulator-test")
        # boto3 sends `Expect: 100-continue` on every PUT: with no body (waitress hung), a small
        # one, and one big enough to be spooled to disk by the server.
        for size in (0, 1, 3 * 1024 * 1024):
            body = os.urandom(size)
            s3.put_object(Bucket="emulator-test", Key=f"k{size}", Body=body)
            assert s3.get_object(Bucket="emulator-test", Key=f"k{size}")["Body"].read() == body
        for odd in ("a b+c%20d.jpg", "#1?&=;.jpg", "café/ü.jpg"):  # decoded once, not twice
            s3.put_object(Bucket="emulator-test", Key=odd, Body=odd.encode())
            assert s3.get_object(Bucket="emulator-test", Key=odd)["Body"].read() == odd.encode()
        keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket="emulator-test")["Contents"]]
        assert {"a b+c%20d.jpg", "#1?&=;.jpg", "café/ü.jpg"} <= set(keys)
    finally:
        emulator.stop()
    assert ensure_port_free(emulator.host, emulator.port, "--port") == emulator.port
    again = Emulator(port=emulator.port)  # a restart on the same port
    again.start()
    again.stop()


def test_stopping_after_the_loop_has_already_closed_its_sockets_is_quiet() -> None:
    """The race: the loop wakes on its own timeout, sees the stop flag and closes everything,
    trigger included, before stop() pulls the trigger (EBADF, a traceback on Ctrl-C)."""
    emulator = Emulator()
    emulator.start()
    server = emulator._server
    server._stopping.set()
    assert server._thread is not None
    server._thread.join(timeout=10)  # the loop's own 1 s timeout ends it
    assert not server._thread.is_alive()
    emulator.stop()


@contextmanager
def _held_by_a_task_thread(lock: threading.Condition) -> Iterator[None]:
    """`lock` held by another thread (a request's task writing its answer) until the block ends."""
    holding, release = threading.Event(), threading.Event()

    def task() -> None:
        with lock:
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=task)
    thread.start()
    holding.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_the_http_loop_does_not_spin_on_output_a_running_request_is_writing() -> None:
    """As shipped, waitress's loop polls a connection for output while its request's task thread
    is writing the answer; poll says writable at once, and handle_write, unable to take the
    output lock the task holds, sends nothing: a busy loop for as long as the task holds it
    (~120 turns per image job under load)."""
    server = waitress.create_server(lambda environ, start_response: [], host="127.0.0.1", port=0, map={})
    try:
        for channel_class in (HTTPChannel, _Channel):
            server_end, client_end = socket.socketpair()
            channel = channel_class(server, server_end, ("127.0.0.1", 0), server.adj, map={})
            channel.requests = [object()]  # a request in service, 200 bytes of its answer pending
            channel.outbufs[-1].append(b"x" * 200)
            channel.total_outbufs_len = 200
            with _held_by_a_task_thread(channel.outbuf_lock):
                if channel_class is HTTPChannel:  # the bug: asks to write, then writes nothing
                    assert channel.writable()
                    channel.handle_write()
                    assert channel.total_outbufs_len == 200
                else:
                    assert not channel.writable()
            # Once the request is done (its task pulls the trigger), the loop sends what is left.
            channel.requests = []
            assert channel.writable()
            channel.handle_write()
            assert channel.total_outbufs_len == 0
            assert client_end.recv(1000) == b"x" * 200
            # Past the high-water mark a task waits for the loop to drain its output: polled then.
            channel.requests = [object()]
            channel.total_outbufs_len = server.adj.outbuf_high_watermark + 1
            assert channel.writable()
            channel.total_outbufs_len = 0
            channel.close()
            client_end.close()
    finally:
        server.close()


def test_an_answer_written_past_the_output_high_water_mark_still_reaches_a_slow_reader() -> None:
    """An answer written in 20 MB pieces: past 16 MB pending, waitress's task thread waits for
    the loop to send some before it writes more, so the loop must watch that connection while
    the request runs (otherwise: a task stuck for good and a client that times out)."""
    piece = os.urandom(20 * 1024 * 1024)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", str(3 * len(piece)))])
        yield from (piece, piece, piece)

    server = waitress.create_server(app, host="127.0.0.1", port=0, map={}, threads=2)
    server.channel_class = _Channel
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        with requests.get(f"http://127.0.0.1:{server.effective_port}/", stream=True, timeout=20) as answer:
            threading.Event().wait(1)  # a slow reader: the pieces pile up in the server first
            received = b"".join(answer.iter_content(1024 * 1024))
        assert received == piece * 3
    finally:
        server.close()
        server.task_dispatcher.shutdown()


def test_an_s3_request_reads_its_headers_from_the_environ_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: moto's request headers are a view that walks the whole WSGI environ and renames
    each header every time they are iterated, and a PUT iterates them over and over (request
    set-up, metadata, ACL). The fix copies them out once per request: the same object stored,
    its metadata and type as sent."""
    from moto.core import request as moto_request

    from mediaflow import direct_dispatch

    walks: list[int] = []
    original_iter = moto_request.EnvironHeaders.__iter__

    def counting_iter(self: Any) -> Any:
        walks.append(1)
        return original_iter(self)

    monkeypatch.setattr(moto_request.EnvironHeaders, "__iter__", counting_iter)
    emulator = Emulator()
    emulator.start()
    try:
        s3 = _s3_client(emulator)
        s3.create_bucket(Bucket="emulator-headers")

        def put_and_read(key: str) -> tuple[int, dict[str, Any]]:
            walks.clear()
            s3.put_object(
                Bucket="emulator-headers", Key=key, Body=b"jpeg", ContentType="image/jpeg", Metadata={"job": "1"}
            )
            put_walks = len(walks)
            head = s3.head_object(Bucket="emulator-headers", Key=key)
            return put_walks, {name: head[name] for name in ("ContentType", "Metadata", "ContentLength")}

        fixed_walks, fixed = put_and_read("fixed.jpg")
        monkeypatch.setattr(direct_dispatch, "HeadersReadOnce", lambda headers: headers)  # as shipped
        shipped_walks, shipped = put_and_read("shipped.jpg")
    finally:
        emulator.stop()
    assert fixed == shipped
    assert (fixed["ContentType"], fixed["ContentLength"]) == ("image/jpeg", 4)
    assert {name.lower(): value for name, value in fixed["Metadata"].items()} == {"job": "1"}
    assert shipped_walks >= 3, "the bug: the environ walked again and again"
    assert fixed_walks == 1


def _conversation(clients: dict[str, Any], name: str) -> list[Any]:
    """Every kind of request the handlers, the CLI and the bench make of S3, DynamoDB and Step
    Functions, and ways they fail; each answer as boto3 reads it, raw HTTP headers included
    (what differs per call removed). `name` names the bucket, table and state machine."""
    s3, dynamodb, sfn = clients["s3"], clients["dynamodb"], clients["stepfunctions"]
    answers: list[Any] = []

    def said(call: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            answer = call(**kwargs)
            if "Body" in answer:
                answer["Body"] = answer["Body"].read()
        except ClientError as error:
            answer = {"Error": error.response["Error"], "ResponseMetadata": error.response["ResponseMetadata"]}
        answers.append(_comparable(answer, name))
        return answer

    said(s3.create_bucket, Bucket=name)
    said(s3.head_bucket, Bucket=name)
    said(s3.put_object, Bucket=name, Key="empty", Body=b"")
    said(s3.put_object, Bucket=name, Key="a b+c%20d é.jpg", Body=b"jpeg", ContentType="image/jpeg", Metadata={"m": "1"})
    said(s3.get_object, Bucket=name, Key="a b+c%20d é.jpg")
    said(s3.get_object, Bucket=name, Key="a b+c%20d é.jpg", Range="bytes=1-2")
    said(s3.head_object, Bucket=name, Key="a b+c%20d é.jpg")
    said(s3.get_object, Bucket=name, Key="a b+c%20d é.jpg", IfNoneMatch='"' + "0" * 32 + '"')
    said(s3.get_object, Bucket=name, Key="missing")
    said(s3.head_object, Bucket=name, Key="missing")
    said(s3.get_object, Bucket="no-such-bucket-anywhere", Key="k")
    said(s3.put_object_tagging, Bucket=name, Key="empty", Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    said(s3.get_object_tagging, Bucket=name, Key="empty")
    said(s3.copy_object, Bucket=name, Key="dir/copy.jpg", CopySource={"Bucket": name, "Key": "a b+c%20d é.jpg"})
    said(s3.list_objects_v2, Bucket=name, Prefix="dir/")
    said(s3.list_objects_v2, Bucket=name, Delimiter="/")
    said(s3.list_objects, Bucket=name, MaxKeys=1)
    said(s3.delete_objects, Bucket=name, Delete={"Objects": [{"Key": "empty"}, {"Key": "missing"}]})
    said(s3.delete_object, Bucket=name, Key="dir/copy.jpg")
    said(s3.list_objects_v2, Bucket=name)

    key = {"jobId": {"S": "j1"}}
    said(
        dynamodb.create_table,
        TableName=name,
        KeySchema=[{"AttributeName": "jobId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "jobId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    said(dynamodb.put_item, TableName=name, Item={**key, "n": {"N": "1"}})
    said(
        dynamodb.update_item,
        TableName=name,
        Key=key,
        UpdateExpression="SET #s = :s ADD n :one",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "RUNNING"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    said(dynamodb.put_item, TableName=name, Item=key, ConditionExpression="attribute_not_exists(jobId)")
    said(dynamodb.get_item, TableName=name, Key=key, ConsistentRead=True)
    said(dynamodb.get_item, TableName="no-such-table", Key=key)

    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    role = "arn:aws:iam::123456789012:role/r"
    created = said(sfn.create_state_machine, name=name, definition=json.dumps(definition), roleArn=role)
    said(sfn.create_state_machine, name=name, definition="{", roleArn=role)
    missing = created["stateMachineArn"].replace(":stateMachine:", ":execution:") + ":x"
    said(sfn.describe_execution, executionArn=missing)
    said(sfn.list_executions, stateMachineArn=created["stateMachineArn"], maxResults=1)
    return answers


_VARYING = {"RequestId", "HostId", "date", "x-amz-request-id", "x-amzn-requestid", "x-amz-id-2", "last-modified"}
# Dates in a body: the body's length and checksum vary with them.
_VARYING |= {"LastModified", "creationDate", "CreationDateTime", "x-amz-crc32", "content-length"}


def _comparable(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return {k: _comparable(v, name) for k, v in value.items() if k not in _VARYING}
    if isinstance(value, list):
        return [_comparable(v, name) for v in value]
    if isinstance(value, str):
        return value.replace(name, "<name>")
    return value


def test_sdk_requests_answered_directly_match_moto_s_own_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """SDK requests skip moto's dispatcher and Flask (direct_dispatch): every answer, headers
    included, is the one moto's own path gives, and the direct path is really taken."""
    from moto.server import DomainDispatcherApplication

    from mediaflow import direct_dispatch

    dispatched: list[str] = []
    original_call = DomainDispatcherApplication.__call__

    def counted(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        dispatched.append(environ["PATH_INFO"])
        return original_call(self, environ, start_response)

    monkeypatch.setattr(DomainDispatcherApplication, "__call__", counted)
    emulator = Emulator()
    emulator.start()
    try:
        clients = {
            service: boto3.client(
                service,
                endpoint_url=emulator.endpoint,
                region_name="us-east-1",
                aws_access_key_id="mediaflow",
                aws_secret_access_key="mediaflow",
                config=Config(read_timeout=10, retries={"total_max_attempts": 1}),
            )
            for service in ("s3", "dynamodb", "stepfunctions")
        }
        original_view_for = direct_dispatch._view_for
        monkeypatch.setattr(direct_dispatch, "_view_for", lambda environ: None)
        through_moto = _conversation(clients, "direct-test-moto")
        assert len(dispatched) >= len(through_moto)
        monkeypatch.setattr(direct_dispatch, "_view_for", original_view_for)
        dispatched.clear()
        direct = _conversation(clients, "direct-test-fast")
        assert dispatched == [], "every one of these requests was answered directly"
        for ours, theirs in zip(direct, through_moto, strict=True):
            assert ours == theirs
        presigned = clients["s3"].generate_presigned_url(
            "get_object", Params={"Bucket": "direct-test-fast", "Key": "a b+c%20d é.jpg"}
        )
        assert requests.get(presigned, timeout=10).content == b"jpeg"
        assert dispatched, "presigned URLs take moto's path"
    finally:
        emulator.stop()

"""The emulator's HTTP server: what boto3 sends reaches moto, and stopping frees the port."""

from __future__ import annotations

import os

import boto3
from botocore.config import Config

from mediaflow.emulator import Emulator, ensure_port_free


def test_uploads_of_every_size_get_an_answer_and_stop_frees_the_port() -> None:
    emulator = Emulator()
    emulator.start()
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=emulator.endpoint,
            region_name="us-east-1",
            aws_access_key_id="mediaflow",
            aws_secret_access_key="mediaflow",
            config=Config(read_timeout=10, retries={"total_max_attempts": 1}),  # a hang fails the test
        )
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

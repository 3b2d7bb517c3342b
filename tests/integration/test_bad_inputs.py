"""Every failure a user can cause: a named error, a FAILED job, a failure email, no outputs;
and a generated corpus of good and bad uploads (tests/corpus.py), each with its owed outcome."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from mediaflow.stack import LocalStack
from tests.conftest import png_bomb
from tests.corpus import CORPUS, Upload
from tests.integration.jobs import JobRun, emails_about, run_upload

pytestmark = pytest.mark.integration


def _assert_failed_cleanly(stack: LocalStack, run: JobRun, error: str, cause_fragment: str) -> None:
    assert run.status == "FAILED"
    assert run.execution["error"] == error
    assert run.job["status"] == "FAILED"
    assert run.job["error"] == error
    # A Lambda error's cause is the function's {"errorType", "errorMessage", "stackTrace"} document.
    assert json.loads(run.job["errorCause"])["errorType"] == error
    assert cause_fragment in json.loads(run.job["errorCause"])["errorMessage"]
    assert run.outputs == [], "a failed job leaves no outputs"
    (email,) = emails_about(stack, run.job["jobId"])
    assert email["Subject"] == f"MediaFlow job FAILED: {error}"
    assert email["X-MediaFlow-Attribute-status"] == "FAILED"
    body = email.get_content()
    assert f"Error: {error}" in body
    assert f"What happened: {json.loads(run.job['errorCause'])['errorMessage']}" in body
    assert "Traceback" not in body, "the email says what happened in words, not a stack trace"
    assert run.job["failureMessage"] == json.loads(run.job["errorCause"])["errorMessage"]
    assert f"File: {run.job['key']}\n" in body
    assert run.states_entered()[-4:] == ["DiscardPartialOutputs", "RecordFailure", "NotifyFailure", "JobFailed"]


def _attempts(run: JobRun, state: str) -> int:
    """How many times a Task state's Lambda was scheduled (1 = no retry)."""
    count, current = 0, None
    for event in run.history:
        if "stateEnteredEventDetails" in event:
            current = event["stateEnteredEventDetails"]["name"]
        if event["type"] == "TaskScheduled" and current == state:
            count += 1
    return count


def test_zero_byte_file(stack: LocalStack) -> None:
    run = run_upload(stack, b"", "uploads/empty.jpg")
    _assert_failed_cleanly(stack, run, "EmptyMedia", "is empty (0 bytes)")
    assert _attempts(run, "Validate") == 1, "media errors are not retried"


def test_truncated_jpeg(stack: LocalStack, samples: dict[str, Path]) -> None:
    data = samples["rocket.jpg"].read_bytes()
    run = run_upload(stack, data[: len(data) // 2], "uploads/truncated.jpg")
    _assert_failed_cleanly(stack, run, "CorruptMedia", "cannot be decoded")


def test_text_file_named_jpg(stack: LocalStack) -> None:
    run = run_upload(stack, b"hello, I am not a photo\n" * 10, "uploads/notes.jpg")
    _assert_failed_cleanly(stack, run, "UnsupportedMediaType", "(extension .jpg) is text")


def test_decompression_bomb_png(stack: LocalStack) -> None:
    run = run_upload(stack, png_bomb(30000, 30000), "uploads/bomb.png")
    _assert_failed_cleanly(stack, run, "MediaTooLarge", "30000x30000 = 900000000 pixels")


def test_bad_input_with_odd_key_is_reported_with_its_real_name(stack: LocalStack) -> None:
    run = run_upload(stack, b"", "uploads/vacances d'été + amis.jpg")
    _assert_failed_cleanly(stack, run, "EmptyMedia", "uploads/vacances d'été + amis.jpg is empty")
    assert run.job["key"] == "uploads/vacances d'été + amis.jpg", "the name as uploaded, not URL-encoded"


def test_png_bytes_named_jpg_are_processed_by_content(stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["chelsea-transparent.png"].read_bytes(), "uploads/really-a-png.JPG")
    assert run.status == "SUCCEEDED"
    media = run.job["media"]
    assert (media["format"], media["extension"], media["extensionMatchesContent"]) == ("png", "jpg", False)


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 60
    assert len({upload.name for upload in CORPUS}) == len(CORPUS)
    outcomes = {upload.expected for upload in CORPUS}
    assert outcomes >= {"SUCCEEDED", "IGNORED", "EmptyMedia", "UnsupportedMediaType", "CorruptMedia", "MediaTooLarge"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("upload", CORPUS, ids=str)
def test_every_upload_gets_the_outcome_it_is_owed(stack: LocalStack, scratch: Path, upload: Upload) -> None:
    run = run_upload(stack, upload.data(scratch), upload.key)
    if upload.expected == "IGNORED":
        assert run.status == "SUCCEEDED" and run.states_entered()[-1] == "IgnoreFolderObject"
        assert run.job == {} and run.outputs == []
    elif upload.expected == "SUCCEEDED":
        assert run.status == "SUCCEEDED", (run.execution.get("error"), run.execution.get("cause", "")[:500])
        assert run.job["key"] == upload.key and upload.fragment in run.job["kind"]
        for rendition in run.renditions:
            body = stack.client("s3").get_object(Bucket=stack.bucket, Key=rendition["key"])["Body"].read()
            with Image.open(io.BytesIO(body)) as image:
                assert image.size == (rendition["width"], rendition["height"])
                assert image.getextrema() != ((0, 0), (0, 0), (0, 0)), "a picture, not a black frame"
    else:
        _assert_failed_cleanly(stack, run, upload.expected, upload.fragment)
        assert "/tmp/" not in run.job["failureMessage"], "no temporary paths in what users read"

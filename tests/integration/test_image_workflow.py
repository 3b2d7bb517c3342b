"""The whole workflow on the local runtime: real photographs in, real renditions out."""

from __future__ import annotations

import gc
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from mediaflow.samples import portrait_with_orientation_6
from mediaflow.stack import LocalStack, StackSettings
from tests.integration.jobs import emails_about, run_upload
from tests.text_eval import samples as text_samples

pytestmark = pytest.mark.integration


def _download(stack: LocalStack, key: str) -> bytes:
    return stack.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read()


def test_photo_gets_every_rendition_width_and_format(stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["hubble_deep_field.jpg"].read_bytes(), "uploads/hubble.jpg")

    assert run.status == "SUCCEEDED", run.execution
    assert run.job["status"] == "SUCCEEDED"
    # $$.State.EnteredTime as AWS writes it: milliseconds and Z
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", run.job["finishedAt"]), run.job["finishedAt"]
    # 1000 x 872 source: 320 and 640 fit, 1280 would be an upscale and is skipped.
    made = {(r["width"], r["format"]) for r in run.renditions}
    assert made == {(320, "jpeg"), (320, "webp"), (640, "jpeg"), (640, "webp")}
    prefix = f"outputs/{run.job['jobId']}/"
    assert sorted(run.outputs) == sorted([*(r["key"] for r in run.renditions), f"{prefix}results.json"])
    for rendition in run.renditions:
        with Image.open(io.BytesIO(_download(stack, rendition["key"]))) as image:
            assert image.format == {"jpeg": "JPEG", "webp": "WEBP"}[rendition["format"]]
            assert image.size == (rendition["width"], rendition["height"])
            assert image.height == round(872 * image.width / 1000)
    entered = run.states_entered()
    assert entered[:5] == ["DescribeUpload", "RecordJob", "Validate", "Route", "ProcessImage"]
    assert set(entered[5:7]) == {"TransformImage", "DetectImageObjects"}  # Parallel branches
    assert entered[7:] == ["Aggregate", "RecordSuccess", "NotifySuccess", "Done"]


def test_exif_orientation_is_applied_and_metadata_stripped(stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["astronaut-portrait-exif6.jpg"].read_bytes(), "uploads/portrait.jpg")

    assert run.status == "SUCCEEDED", run.execution
    media = run.job["media"]
    assert (media["orientation"], media["width"], media["height"]) == (6, 384, 512)
    _, upright = portrait_with_orientation_6()
    for rendition in run.renditions:
        with Image.open(io.BytesIO(_download(stack, rendition["key"]))) as image:
            assert image.height > image.width, "a portrait photo must stay portrait"
            assert not image.getexif(), "EXIF must be stripped"
            assert "xmp" not in image.info and "exif" not in image.info
            # Same picture, same way up: compare against the upright original at the same size.
            expected = upright.resize(image.size, Image.Resampling.LANCZOS)
            difference = ImageStat.Stat(ImageChops.difference(image.convert("RGB"), expected)).mean
            assert max(difference) < 12, difference


def test_transparent_png_keeps_alpha_in_webp_and_is_flattened_in_jpeg(
    stack: LocalStack, samples: dict[str, Path]
) -> None:
    run = run_upload(stack, samples["chelsea-transparent.png"].read_bytes(), "uploads/cat.png")

    assert run.status == "SUCCEEDED", run.execution
    by_format = {r["format"]: r for r in run.renditions}
    with Image.open(io.BytesIO(_download(stack, by_format["webp"]["key"]))) as webp:
        assert webp.mode == "RGBA"
        assert webp.getpixel((0, 0))[3] == 0, "corner outside the ellipse stays transparent"
    with Image.open(io.BytesIO(_download(stack, by_format["jpeg"]["key"]))) as jpeg:
        assert jpeg.mode == "RGB"
        assert min(jpeg.getpixel((0, 0))) > 240, "transparent corner is flattened onto white"


def test_success_sends_one_email_with_attributes(stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["coffee.jpg"].read_bytes(), "uploads/coffee.jpg")

    assert run.status == "SUCCEEDED", run.execution
    (email,) = emails_about(stack, run.job["jobId"])
    assert email["Subject"] == "MediaFlow job SUCCEEDED (image)"
    assert email["X-MediaFlow-Attribute-status"] == "SUCCEEDED"
    assert email["X-MediaFlow-Attribute-kind"] == "image"
    body = email.get_content()
    assert "File: uploads/coffee.jpg" in body
    assert "Outputs: 2 renditions (320 px wide; JPEG, WEBP)\n" in body  # coffee.jpg is 640 px: never upscaled
    assert run.execution["executionArn"] in body


@pytest.mark.parametrize(
    "key",
    ["uploads/my holiday photo.jpg", "uploads/café-été ☕.jpg", "uploads/c++ and 100%+.jpg", "uploads/a/b/NESTED.JPG"],
)
def test_odd_key_names_are_processed(stack: LocalStack, samples: dict[str, Path], key: str) -> None:
    data = samples["rocket.jpg"].read_bytes() + key.encode()  # distinct bytes: distinct etag and job
    run = run_upload(stack, data, key)

    assert run.status == "SUCCEEDED", run.execution
    assert run.job["key"] == key
    assert len(run.outputs) == 5  # 2 widths x JPEG/WebP + results.json


def test_duplicate_event_produces_one_set_of_outputs(stack: LocalStack, samples: dict[str, Path]) -> None:
    first = run_upload(stack, samples["rocket.jpg"].read_bytes(), "uploads/rocket-dup.jpg")
    assert first.status == "SUCCEEDED"
    outputs_before = {
        o["Key"]: o["LastModified"]
        for o in stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=f"outputs/{first.job['jobId']}/")[
            "Contents"
        ]
    }

    # EventBridge delivers at least once: replay the very event the first execution received.
    sfn = stack.client("stepfunctions")
    sfn.start_execution(stateMachineArn=stack.state_machine_arn, name="replay-1", input=first.execution["input"])
    replay = stack.wait_for_execution("uploads/rocket-dup.jpg", timeout=60)

    assert replay["executionArn"].endswith(":replay-1")
    assert replay["status"] == "SUCCEEDED"
    history = sfn.get_execution_history(executionArn=replay["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered == ["DescribeUpload", "RecordJob", "DuplicateEvent"]
    outputs_after = {
        o["Key"]: o["LastModified"]
        for o in stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=f"outputs/{first.job['jobId']}/")[
            "Contents"
        ]
    }
    assert outputs_after == outputs_before
    assert len(emails_about(stack, first.job["jobId"])) == 1


def test_outputs_never_retrigger_the_workflow(stack: LocalStack, samples: dict[str, Path]) -> None:
    run = run_upload(stack, samples["coffee.jpg"].read_bytes(), "uploads/coffee-loop.jpg")
    assert run.status == "SUCCEEDED"
    for output_key in run.outputs:
        assert stack.executions_for(output_key) == []


def test_a_photo_of_a_notice_gets_its_objects_and_its_text(stack: LocalStack) -> None:
    """A cat photograph with a notice drawn on it: the cat is detected and the notice read."""
    sample = next(s for s in text_samples() if s.name == "chelsea.png")
    out = io.BytesIO()
    Image.fromarray(sample.image).save(out, "JPEG", quality=92)
    run = run_upload(stack, out.getvalue(), "uploads/lost cat.jpg")

    assert run.status == "SUCCEEDED", run.execution
    results = json.loads(_download(stack, run.job["results"]["resultsKey"]))
    assert "cat" in {label["label"] for label in results["labels"]}
    (line,) = results["text"]["lines"]
    assert line["text"] == "Lost cat: call 555 0142" and line["bestConfidence"] > 90
    # The frame carries Rekognition's TextDetections: the line, then its words.
    found = results["frames"][0]["text"]
    assert [d["Type"] for d in found] == ["LINE"] + ["WORD"] * 5
    assert [d["DetectedText"] for d in found[1:]] == ["Lost", "cat:", "call", "555", "0142"]
    assert results["text"]["detections"][0] == {"Timestamp": 0, "TextDetection": found[0]}
    (email,) = emails_about(stack, run.job["jobId"])
    assert "1 line of text" in email.get_content()


def test_a_second_stack_stopping_hands_the_process_back_to_the_first(
    stack: LocalStack, samples: dict[str, Path], tmp_path: Path
) -> None:
    """Lambda serving, the email outbox and the state store are per process; a stack started and
    stopped inside another's lifetime (as the video tests' second stack is) hands them back."""
    with LocalStack(StackSettings(state_dir=tmp_path / "second", stack_name="mfsecond")):
        assert gc.get_freeze_count() > 100_000, "what start built is kept out of full collections"
    assert gc.get_freeze_count() == 0, "and is collectable again once a stack stops"
    run = run_upload(stack, samples["rocket.jpg"].read_bytes(), "uploads/after the second stack.jpg")

    assert run.status == "SUCCEEDED", run.execution
    (email,) = emails_about(stack, run.job["jobId"])  # in this stack's outbox, not the second's
    assert email["X-MediaFlow-Attribute-status"] == "SUCCEEDED"
    (stored,) = [e for e in stack.store.executions() if e.arn == run.execution["executionArn"]]
    assert stored.status == "SUCCEEDED", "still written through to this stack's store"

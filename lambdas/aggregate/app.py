"""Aggregate: one results.json per job, plus annotated key frames and (video) a contact sheet.

Reads the detections DetectObjects wrote to S3, checks that every batch reported back (a
fan-out that lost a batch must not look like success), and returns a compact summary for
the job record and the notification.
"""

from __future__ import annotations

import json
from typing import Any

from artefacts import contact_sheet, draw_detections, jpeg
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from PIL import Image
from results import best_frame_per_label, describe_outputs, label_summary, timeline

from mediaflow_shared.config import env_str
from mediaflow_shared.errors import DetectionIncomplete
from mediaflow_shared.images import open_upright
from mediaflow_shared.storage import read_upload, s3_client

logger = Logger()
tracer = Tracer()
metrics = Metrics()

ANNOTATED_LABELS = 5
ARTEFACT_MAX_SIDE = 1280
CONTACT_SHEET_TILES = 24


def output_prefix(job_id: str) -> str:
    return f"{env_str('OUTPUT_PREFIX', 'outputs/')}{job_id}/"


def _read_json(bucket: str, key: str) -> Any:
    return json.loads(s3_client().get_object(Bucket=bucket, Key=key)["Body"].read())


def _batch_frames(bucket: str, job_id: str, batch_count: int) -> list[dict[str, Any]]:
    prefix = f"{env_str('WORK_PREFIX', 'work/')}{job_id}/detections/"
    found = {
        obj["Key"]
        for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    }
    expected = [f"{prefix}batch-{number:05d}.json" for number in range(batch_count)]
    missing = [key.rsplit("-", 1)[-1].removesuffix(".json") for key in expected if key not in found]
    if missing:
        raise DetectionIncomplete(f"no detections for batch(es) {', '.join(missing[:20])} of {batch_count}")
    return [frame for key in expected for frame in _read_json(bucket, key)["frames"]]


def _put(bucket: str, key: str, body: bytes, content_type: str) -> str:
    s3_client().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return key


@tracer.capture_method
def aggregate(event: dict[str, Any]) -> dict[str, Any]:
    job_id, media = event["jobId"], event["media"]
    bucket, prefix = media["bucket"], output_prefix(job_id)
    if media["kind"] == "video":
        frames_info = event["frames"]
        frames = _batch_frames(bucket, job_id, int(frames_info["batchCount"]))
        manifest = _read_json(bucket, frames_info["manifestKey"])
        interval = 1 / float(manifest["rate"])
        segments = timeline(frames, interval, media.get("duration"))
    else:
        detection = _read_json(bucket, event["detection"]["key"])
        frames = detection["frames"]
        segments = []

    decoded: dict[int, Image.Image] = {}  # frame index -> upright image: each frame is read once

    def frame_image(frame: dict[str, Any]) -> Image.Image:
        if frame["index"] not in decoded:
            if media["kind"] == "video":
                data = s3_client().get_object(Bucket=bucket, Key=frame["key"])["Body"].read()
            else:
                data = read_upload(bucket, media["key"], media["etag"])
            decoded[frame["index"]] = open_upright(data, ARTEFACT_MAX_SIDE)
        return decoded[frame["index"]]

    # One annotated image per distinct frame: labels whose best frame is the same share it.
    best_frames: dict[int, tuple[dict[str, Any], list[str]]] = {}
    for label, frame in best_frame_per_label(frames, ANNOTATED_LABELS).items():
        best_frames.setdefault(frame["index"], (frame, []))[1].append(label)
    annotated = []
    for frame, frame_labels in best_frames.values():
        image = draw_detections(frame_image(frame), frame["detections"])
        name = "_".join(frame_labels)
        key = _put(bucket, f"{prefix}annotated/{name}-{frame['index']:06d}.jpg", jpeg(image), "image/jpeg")
        annotated.append({"label": ", ".join(frame_labels), "key": key, "time": frame["time"]})

    sheet_key, sheet_frames = None, 0
    if media["kind"] == "video" and frames:
        step = max(1, len(frames) // CONTACT_SHEET_TILES)
        chosen = sorted(frames, key=lambda f: f["index"])[::step][:CONTACT_SHEET_TILES]
        tiles = [(draw_detections(frame_image(f), f["detections"]), f"{f['time']:.1f} s") for f in chosen]
        sheet_key = _put(bucket, f"{prefix}contact-sheet.jpg", jpeg(contact_sheet(tiles)), "image/jpeg")
        sheet_frames = len(tiles)

    labels = label_summary(frames)
    renditions = event.get("renditions", [])
    results = {
        "jobId": job_id,
        "source": {"bucket": bucket, "key": media["key"], "etag": media["etag"]},
        "media": media,
        "labels": labels,
        "timeline": segments,
        "frames": frames,
        "renditions": renditions,
        "annotated": annotated,
        "contactSheet": sheet_key,
    }
    results_key = _put(bucket, f"{prefix}results.json", json.dumps(results, indent=1).encode(), "application/json")
    top = ", ".join(f"{entry['label']} ({entry['count']})" for entry in labels[:5]) or "none"
    return {
        "resultsKey": results_key,
        "renditions": renditions,
        "labels": labels[:10],
        "topLabels": top,
        "outputsSummary": describe_outputs(renditions, segments, len(annotated), sheet_frames),
        "frameCount": len(frames) if media["kind"] == "video" else 0,
        "segments": len(segments),
        "annotated": [a["key"] for a in annotated],
        "contactSheet": sheet_key,
    }


@logger.inject_lambda_context(correlation_id_path="executionArn")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary = aggregate(event)
    logger.info("results written", extra={"resultsKey": summary["resultsKey"], "topLabels": summary["topLabels"]})
    return summary

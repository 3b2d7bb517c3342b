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

from mediaflow_shared.contract.job import CORRELATION_ID_PATH, Job, JobDocument, Results, job_step
from mediaflow_shared.contract.layout import layout
from mediaflow_shared.cost import cost_at_success, describe_usd
from mediaflow_shared.errors import DetectionIncomplete
from mediaflow_shared.images import open_upright
from mediaflow_shared.storage import delete_other_objects, read_json, read_upload, s3_client, write_object

logger = Logger()
tracer = Tracer()
metrics = Metrics()

ANNOTATED_LABELS = 5
ARTEFACT_MAX_SIDE = 1280
CONTACT_SHEET_TILES = 24


def _batch_frames(job: Job, batch_count: int) -> list[dict[str, Any]]:
    keys, bucket, job_id = layout(), job["bucket"], job["jobId"]
    found = {
        obj["Key"]
        for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=keys.detections(job_id))
        for obj in page.get("Contents", [])
    }
    missing = [f"{number:05d}" for number in range(batch_count) if keys.batch_detections(job_id, number) not in found]
    if missing:
        raise DetectionIncomplete(f"no detections for batch(es) {', '.join(missing[:20])} of {batch_count}")
    return [
        frame
        for number in range(batch_count)
        for frame in read_json(bucket, keys.batch_detections(job_id, number))["frames"]
    ]


@tracer.capture_method
def aggregate(document: JobDocument) -> Results:
    job, media = document["job"], document["media"]
    bucket, job_id, keys, is_video = job["bucket"], job["jobId"], layout(), media["kind"] == "video"
    renditions = [] if is_video else document["image"]["renditions"]
    if is_video:
        frames = _batch_frames(job, int(document["frames"]["batchCount"]))
        manifest = read_json(bucket, document["frames"]["manifestKey"])
        segments = timeline(frames, 1 / float(manifest["rate"]), media.get("duration"))
    else:
        frames = read_json(bucket, document["image"]["detection"]["key"])["frames"]
        segments = []

    decoded: dict[int, Image.Image] = {}  # frame index -> upright image: each frame is read once

    def frame_image(frame: dict[str, Any]) -> Image.Image:
        if frame["index"] not in decoded:
            if is_video:
                data = s3_client().get_object(Bucket=bucket, Key=frame["key"])["Body"].read()
            else:
                data = read_upload(job)
            decoded[frame["index"]] = open_upright(data, ARTEFACT_MAX_SIDE)
        return decoded[frame["index"]]

    # One annotated image per distinct frame: labels whose best frame is the same share it.
    best_frames: dict[int, tuple[dict[str, Any], list[str]]] = {}
    for label, frame in best_frame_per_label(frames, ANNOTATED_LABELS).items():
        best_frames.setdefault(frame["index"], (frame, []))[1].append(label)
    annotated = []
    for frame, frame_labels in best_frames.values():
        image = draw_detections(frame_image(frame), frame["detections"])
        key = keys.annotated_frame(job_id, frame_labels, frame["index"])
        write_object(bucket, key, jpeg(image), "image/jpeg")
        annotated.append({"label": ", ".join(frame_labels), "key": key, "time": frame["time"]})

    # A reprocess may see other labels: the annotated frames of earlier attempts go.
    delete_other_objects(bucket, keys.annotated_frames(job_id), keep={a["key"] for a in annotated})

    sheet_key, sheet_frames = None, 0
    if is_video and frames:
        step = max(1, len(frames) // CONTACT_SHEET_TILES)
        chosen = sorted(frames, key=lambda f: f["index"])[::step][:CONTACT_SHEET_TILES]
        tiles = [(draw_detections(frame_image(f), f["detections"]), f"{f['time']:.1f} s") for f in chosen]
        sheet_key = write_object(bucket, keys.contact_sheet(job_id), jpeg(contact_sheet(tiles)), "image/jpeg")
        sheet_frames = len(tiles)

    labels = label_summary(frames)
    results = {
        "jobId": job_id,
        "source": {"bucket": bucket, "key": job["key"], "etag": job["etag"]},
        "media": media,
        "labels": labels,
        "timeline": segments,
        "frames": frames,
        "renditions": renditions,
        "annotated": annotated,
        "contactSheet": sheet_key,
    }
    results_key = write_object(bucket, keys.results(job_id), json.dumps(results, indent=1).encode(), "application/json")
    summary: Results = {
        "resultsKey": results_key,
        "renditions": renditions,
        "labels": labels[:10],
        "topLabels": ", ".join(f"{entry['label']} ({entry['count']})" for entry in labels[:5]) or "none",
        "outputsSummary": describe_outputs(renditions, segments, len(annotated), sheet_frames),
        "frameCount": len(frames) if is_video else 0,
        "segments": len(segments),
        "annotated": [a["key"] for a in annotated],
        "contactSheet": sheet_key,
    }
    cost = cost_at_success(document, summary)
    return {**summary, "cost": cost.as_dict(), "costSummary": describe_usd(cost.usd)}


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
@job_step("results")
def handler(document: dict[str, Any], context: LambdaContext) -> Results:
    results = aggregate(document)  # type: ignore[arg-type]
    logger.info("results written", extra={"resultsKey": results["resultsKey"], "topLabels": results["topLabels"]})
    return results

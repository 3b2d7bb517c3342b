"""Aggregate: one results.json per job, plus annotated key frames and (video) scenes and a contact sheet.

Reads the detections DetectObjects wrote to S3, checks that every segment was sampled and
every batch reported back (a fan-out that lost work must not look like success), finds the
scenes, and returns a compact summary for the job record and the notification.
"""

from __future__ import annotations

import json
from typing import Any

from artefacts import contact_sheet, draw_detections, jpeg
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from PIL import Image
from results import best_frame_per_label, describe_outputs, label_summary, timeline
from scenes import scenes
from text_results import text_results

from mediaflow_shared.contract.job import CORRELATION_ID_PATH, Frames, Job, JobDocument, Results, Segment, job_step
from mediaflow_shared.contract.layout import layout
from mediaflow_shared.cost import cost_at_success
from mediaflow_shared.errors import DetectionIncomplete
from mediaflow_shared.images import open_upright
from mediaflow_shared.storage import (
    delete_other_objects,
    list_keys,
    read_json,
    read_upload,
    s3_client,
    write_object,
)

logger = Logger()
tracer = Tracer()
metrics = Metrics()

ANNOTATED_LABELS = 5
ARTEFACT_MAX_SIDE = 1280
CONTACT_SHEET_TILES = 24


def _segments(job: Job, plan: Frames) -> list[Segment]:
    return plan["segments"] or read_json(job["bucket"], plan["segmentsKey"])


def _sampled_frames(job: Job, plan: Frames) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every sampled frame with its detections, in order, and how the video was read.

    Checks that every planned segment was sampled and every batch it made reported back."""
    keys, bucket, job_id = layout(), job["bucket"], job["jobId"]
    # Two listings of what is checked, not one of the work prefix with every frame in it.
    sampled = list_keys(bucket, keys.segment_manifests(job_id))
    segments = _segments(job, plan)
    unsampled = [str(s["segment"]) for s in segments if keys.segment_manifest(job_id, s["segment"]) not in sampled]
    if unsampled:
        raise DetectionIncomplete(f"segment(s) {', '.join(unsampled[:20])} of {len(segments)} were not sampled")
    manifests = [read_json(bucket, keys.segment_manifest(job_id, s["segment"])) for s in segments]
    batches = [batch["batch"] for manifest in manifests for batch in manifest["batches"]]
    detected = list_keys(bucket, keys.detections(job_id))
    missing = [f"{number:05d}" for number in batches if keys.batch_detections(job_id, number) not in detected]
    if missing:
        raise DetectionIncomplete(f"no detections for batch(es) {', '.join(missing[:20])} of {len(batches)}")
    frames = [
        frame for number in batches for frame in read_json(bucket, keys.batch_detections(job_id, number))["frames"]
    ]
    bytes_read = sum(int(m["bytesRead"]) for m in manifests)
    sampling = {
        "segments": len(segments),
        "segmentSeconds": plan["segmentSeconds"],
        "rate": plan["rate"],
        "bytesRead": bytes_read,
        "bytesReadRatio": round(bytes_read / max(1, int(job["size"])), 4),
        "requests": sum(int(m["requests"]) for m in manifests),
    }
    return sorted(frames, key=lambda f: f["index"]), sampling


def _keep_scene_frames(job: Job, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each scene's representative frame is copied out of the work files (which go when the
    job ends) into the job's outputs."""
    keys, bucket, job_id, s3 = layout(), job["bucket"], job["jobId"], s3_client()
    kept = []
    for scene in found:
        key = keys.scene_frame(job_id, scene["scene"])
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": scene.pop("frameKey")})
        kept.append({**scene, "key": key})
    delete_other_objects(bucket, keys.scene_frames(job_id), keep={scene["key"] for scene in kept})
    return kept


@tracer.capture_method
def aggregate(document: JobDocument) -> Results:
    job, media = document["job"], document["media"]
    bucket, job_id, keys, is_video = job["bucket"], job["jobId"], layout(), media["kind"] == "video"
    renditions = [] if is_video else document["image"]["renditions"]
    sampling: dict[str, Any] = {}
    found_scenes: list[dict[str, Any]] = []
    if is_video:
        frames, sampling = _sampled_frames(job, document["frames"])
        duration = float(media.get("duration") or 0)
        interval = 1 / float(document["frames"]["rate"])
        segments = timeline(frames, interval, duration)
        found_scenes = _keep_scene_frames(job, scenes(frames, duration))
        text = text_results(frames, interval, duration)
    else:
        frames = read_json(bucket, document["image"]["detection"]["key"])["frames"]
        segments = []
        text = text_results(frames, 0, None)

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
        "scenes": found_scenes,
        "text": text,
        "frames": [{k: v for k, v in frame.items() if k != "signature"} for frame in frames],
        "sampling": sampling,
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
        "outputsSummary": describe_outputs(
            renditions, segments, len(annotated), sheet_frames, len(found_scenes), len(text["lines"])
        ),
        "frameCount": len(frames) if is_video else 0,
        "segments": len(segments),
        "scenes": len(found_scenes),
        "textLines": len(text["lines"]),
        "readRequests": int(sampling.get("requests", 0)),
        "annotated": [a["key"] for a in annotated],
        "contactSheet": sheet_key,
    }
    cost = cost_at_success(document, summary)
    return {**summary, "cost": cost.as_dict(), "costSummary": cost.summary}


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
@job_step("results")
def handler(document: dict[str, Any], context: LambdaContext) -> Results:
    results = aggregate(document)  # type: ignore[arg-type]
    logger.info("results written", extra={"resultsKey": results["resultsKey"], "topLabels": results["topLabels"]})
    return results

"""The text DetectObjects read, gathered for results.json.

Field names follow Amazon Rekognition: per frame, `TextDetections` as DetectText returns them
(DetectObjects wrote those); for the job, `detections` as GetTextDetection returns a video's
({Timestamp, TextDetection}), and `segments`, one per stretch of consecutive sampled frames
showing the same line, with StartTimestampMillis/EndTimestampMillis as Rekognition's
segment detection names them. `lines` is the distinct lines, for searching.
"""

from __future__ import annotations

from typing import Any

from results import presence_runs


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def _lines_in(frame: dict[str, Any]) -> dict[str, float]:
    present: dict[str, float] = {}
    for found in frame.get("text", []):
        if found["Type"] == "LINE":
            key = _normalised(found["DetectedText"])
            present[key] = max(present.get(key, 0.0), found["Confidence"])
    return present


def _as_read(frame: dict[str, Any], key: str) -> str:
    """The line as the frame shows it (the key is normalised)."""
    return next(
        t["DetectedText"] for t in frame["text"] if t["Type"] == "LINE" and _normalised(t["DetectedText"]) == key
    )


def text_results(frames: list[dict[str, Any]], sample_interval: float, duration: float | None) -> dict[str, Any]:
    end_of_video_ms = round(duration * 1000) if duration else None
    interval_ms = round(sample_interval * 1000)
    detections: list[dict[str, Any]] = []
    lines: dict[str, dict[str, Any]] = {}
    for frame in sorted(frames, key=lambda f: f["index"]):
        timestamp = round(float(frame["time"]) * 1000)
        for found in frame.get("text", []):
            detections.append({"Timestamp": timestamp, "TextDetection": found})
            if found["Type"] != "LINE":
                continue
            line = lines.setdefault(
                _normalised(found["DetectedText"]),
                {"text": found["DetectedText"], "frames": 0, "firstSeen": frame["time"], "bestConfidence": 0.0},
            )
            line["frames"] += 1
            line["lastSeen"] = frame["time"]
            line["bestConfidence"] = max(line["bestConfidence"], found["Confidence"])
    segments = []
    for run in presence_runs(frames, _lines_in):
        end = round(float(run.last["time"]) * 1000) + interval_ms
        segments.append(
            {
                "DetectedText": _as_read(run.first, run.key),
                "StartTimestampMillis": round(float(run.first["time"]) * 1000),
                "EndTimestampMillis": min(end, end_of_video_ms) if end_of_video_ms else end,
                "Frames": run.frames,
                "Confidence": run.best,
            }
        )
    return {
        "lines": sorted(lines.values(), key=lambda line: (-line["frames"], line["firstSeen"])),
        "segments": sorted(segments, key=lambda s: (s["StartTimestampMillis"], s["DetectedText"])),
        "detections": detections,
    }

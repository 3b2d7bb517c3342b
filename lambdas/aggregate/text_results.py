"""The text DetectObjects read, gathered for results.json.

Field names follow Amazon Rekognition: per frame, `TextDetections` as DetectText returns them
(DetectObjects wrote those); for the job, `detections` as GetTextDetection returns a video's
({Timestamp, TextDetection}), and `segments`, one per stretch of consecutive sampled frames
showing the same line, with StartTimestampMillis/EndTimestampMillis as Rekognition's
segment detection names them. `lines` is the distinct lines, for searching.
"""

from __future__ import annotations

from typing import Any


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def text_results(frames: list[dict[str, Any]], sample_interval: float, duration: float | None) -> dict[str, Any]:
    end_of_video_ms = round(duration * 1000) if duration else None
    detections: list[dict[str, Any]] = []
    lines: dict[str, dict[str, Any]] = {}
    open_segments: dict[str, dict[str, Any]] = {}
    segments: list[dict[str, Any]] = []
    for frame in sorted(frames, key=lambda f: f["index"]):
        timestamp = round(float(frame["time"]) * 1000)
        shown: set[str] = set()
        for found in frame.get("text", []):
            detections.append({"Timestamp": timestamp, "TextDetection": found})
            if found["Type"] != "LINE":
                continue
            key = _normalised(found["DetectedText"])
            shown.add(key)
            line = lines.setdefault(
                key, {"text": found["DetectedText"], "frames": 0, "firstSeen": frame["time"], "bestConfidence": 0.0}
            )
            line["frames"] += 1
            line["lastSeen"] = frame["time"]
            line["bestConfidence"] = max(line["bestConfidence"], found["Confidence"])
            segment = open_segments.setdefault(
                key,
                {
                    "DetectedText": found["DetectedText"],
                    "StartTimestampMillis": timestamp,
                    "Frames": 0,
                    "Confidence": 0.0,
                },
            )
            end = timestamp + round(sample_interval * 1000)
            segment["EndTimestampMillis"] = min(end, end_of_video_ms) if end_of_video_ms else end
            segment["Frames"] += 1
            segment["Confidence"] = max(segment["Confidence"], found["Confidence"])
        for key in [k for k in open_segments if k not in shown]:
            segments.append(open_segments.pop(key))
    segments.extend(open_segments.values())
    return {
        "lines": sorted(lines.values(), key=lambda line: (-line["frames"], line["firstSeen"])),
        "segments": sorted(segments, key=lambda s: (s["StartTimestampMillis"], s["DetectedText"])),
        "detections": detections,
    }

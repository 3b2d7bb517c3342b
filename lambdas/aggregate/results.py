"""Turn per-frame detections into the job's results: label summary and timeline."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def label_summary(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each label with its detection count, frames it appears in and best confidence, most frequent first."""
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "frames": 0, "bestConfidence": 0.0})
    for frame in frames:
        seen = set()
        for detection in frame["detections"]:
            entry = stats[detection["label"]]
            entry["count"] += 1
            entry["bestConfidence"] = max(entry["bestConfidence"], detection["confidence"])
            seen.add(detection["label"])
        for label in seen:
            stats[label]["frames"] += 1
    ranked = sorted(stats.items(), key=lambda item: (-item[1]["count"], item[0]))
    return [{"label": label, **entry} for label, entry in ranked]


SEGMENTS_IN_SUMMARY = 5  # the email lists this many timeline segments; results.json has them all


def timeline(
    frames: list[dict[str, Any]], sample_interval: float, duration: float | None = None
) -> list[dict[str, Any]]:
    """Segments in which a label is present: consecutive sampled frames with the label.

    A segment runs from its first frame's time to its last frame's time plus one sample
    interval (the label is taken to persist until the next sample shows otherwise), but never
    past the end of the video."""
    end_of_video = duration if duration else float("inf")
    segments: list[dict[str, Any]] = []
    open_segments: dict[str, dict[str, Any]] = {}
    ordered = sorted(frames, key=lambda f: f["index"])
    for position, frame in enumerate(ordered):
        present: dict[str, float] = {}
        for detection in frame["detections"]:
            present[detection["label"]] = max(present.get(detection["label"], 0.0), detection["confidence"])
        for label in list(open_segments):
            if label not in present:
                segments.append(open_segments.pop(label))
        for label, confidence in present.items():
            segment = open_segments.get(label)
            if segment is None:
                segment = open_segments[label] = {
                    "label": label,
                    "start": frame["time"],
                    "end": frame["time"],
                    "frames": 0,
                    "bestConfidence": 0.0,
                }
            segment["end"] = round(min(frame["time"] + sample_interval, end_of_video), 3)
            segment["frames"] += 1
            segment["bestConfidence"] = max(segment["bestConfidence"], confidence)
        if position == len(ordered) - 1:
            segments.extend(open_segments.values())
    return sorted(segments, key=lambda s: (s["start"], s["label"]))


def best_frame_per_label(frames: list[dict[str, Any]], limit: int) -> dict[str, dict[str, Any]]:
    """For the `limit` most frequent labels, the frame where that label is most confident."""
    best: dict[str, tuple[float, dict[str, Any]]] = {}
    for frame in frames:
        for detection in frame["detections"]:
            current = best.get(detection["label"])
            if current is None or detection["confidence"] > current[0]:
                best[detection["label"]] = (detection["confidence"], frame)
    top = [entry["label"] for entry in label_summary(frames)[:limit]]
    return {label: best[label][1] for label in top}


def describe_outputs(
    renditions: list[dict[str, Any]],
    segments: list[dict[str, Any]],
    annotated: int,
    sheet_frames: int,
    scenes: int = 0,
    text_lines: int = 0,
) -> str:
    """One line for the success email: what the job produced, in words."""
    parts = []
    if scenes:
        parts.append(f"{scenes} {'scene' if scenes == 1 else 'scenes'}")
    if renditions:
        widths = sorted({int(r["width"]) for r in renditions})
        formats = sorted({str(r["format"]).upper() for r in renditions})
        parts.append(f"{len(renditions)} renditions ({', '.join(map(str, widths))} px wide; {', '.join(formats)})")
    if segments:
        shown = [f"{s['label']} {s['start']:g} s – {s['end']:g} s" for s in segments[:SEGMENTS_IN_SUMMARY]]
        more = len(segments) - len(shown)
        parts.append("timeline: " + ", ".join(shown) + (f" and {more} more" if more else ""))
    if text_lines:
        parts.append(f"{text_lines} {'line' if text_lines == 1 else 'lines'} of text")
    if sheet_frames:
        parts.append(f"a contact sheet of {sheet_frames} frames")
    if annotated:
        parts.append(f"{annotated} annotated {'image' if annotated == 1 else 'images'}")
    return "; ".join(parts) or "none"

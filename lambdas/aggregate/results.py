"""Turn per-frame detections into the job's results: label summary and timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class Run:
    """A stretch of consecutive sampled frames in which something is present."""

    key: str
    first: dict[str, Any]  # the frame it starts in
    last: dict[str, Any]  # the frame it ends in
    frames: int = 0
    best: float = 0.0  # its best confidence


def presence_runs(frames: list[dict[str, Any]], present: Callable[[dict[str, Any]], dict[str, float]]) -> list[Run]:
    """The runs of each key `present(frame)` reports ({key: confidence}), frames taken in order."""
    runs: list[Run] = []
    open_runs: dict[str, Run] = {}
    for frame in sorted(frames, key=lambda f: f["index"]):
        found = present(frame)
        runs += [open_runs.pop(key) for key in [k for k in open_runs if k not in found]]
        for key, confidence in found.items():
            run = open_runs.setdefault(key, Run(key, frame, frame))
            run.last, run.frames, run.best = frame, run.frames + 1, max(run.best, confidence)
    return runs + list(open_runs.values())


def _labels_in(frame: dict[str, Any]) -> dict[str, float]:
    present: dict[str, float] = {}
    for detection in frame["detections"]:
        present[detection["label"]] = max(present.get(detection["label"], 0.0), detection["confidence"])
    return present


def timeline(
    frames: list[dict[str, Any]], sample_interval: float, duration: float | None = None
) -> list[dict[str, Any]]:
    """Segments in which a label is present: consecutive sampled frames with the label.

    A segment runs from its first frame's time to its last frame's time plus one sample
    interval (the label is taken to persist until the next sample shows otherwise), but never
    past the end of the video."""
    end_of_video = duration if duration else float("inf")
    segments = [
        {
            "label": run.key,
            "start": run.first["time"],
            "end": round(min(run.last["time"] + sample_interval, end_of_video), 3),
            "frames": run.frames,
            "bestConfidence": run.best,
        }
        for run in presence_runs(frames, _labels_in)
    ]
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

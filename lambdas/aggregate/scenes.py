"""Scene analysis: shot boundaries found in the sampled frames' colour signatures.

The distance between two frames is the Hellinger distance of their HSV histograms
(ExtractFrames' signature.py): 0 for the same colours, 1 for none in common. Within a shot a
pan or zoom moves it a little from one sample to the next; a cut moves it a lot at once, and a
cross-fade moderately over a few samples. So a boundary is a run of consecutive steps that
stand out from the video's own step distances (median + K x MAD, an adaptive threshold, with
an absolute floor so a static video's tiny noise is never a cut), and whose two ends, the
frame before the run and the frame after it, are themselves far apart (a flash or a passing
object comes back; a new shot does not). A hard cut is a run of one step; a cross-fade, a run
of several, placed at its middle.
"""

from __future__ import annotations

import itertools
import math
import statistics
from typing import Any

STEP_FLOOR = 0.12  # a step this small is never part of a boundary
OUTLIER_MADS = 4.0  # how far above the median step a boundary step stands
CHANGE_FLOOR = 0.3  # the frames either side of a boundary differ at least this much


def distance(first: list[int], second: list[int]) -> float:
    """Hellinger distance of two histograms (each summing to about the same total)."""
    total = math.sqrt(sum(first) * sum(second)) or 1
    overlap = sum(math.sqrt(a * b) for a, b in zip(first, second, strict=True)) / total
    return math.sqrt(max(0.0, 1.0 - overlap))


def boundaries(signatures: list[list[int]]) -> list[tuple[int, int]]:
    """(last frame before, first frame after) each boundary, as positions in `signatures`."""
    steps = [distance(a, b) for a, b in itertools.pairwise(signatures)]
    if not steps:
        return []
    median = statistics.median(steps)
    spread = statistics.median(abs(step - median) for step in steps)
    threshold = max(STEP_FLOOR, median + OUTLIER_MADS * spread)
    found, position = [], 0
    while position < len(steps):
        if steps[position] <= threshold:
            position += 1
            continue
        end = position
        while end + 1 < len(steps) and steps[end + 1] > threshold:
            end += 1
        before, after = position, end + 1  # frames either side of the run of big steps
        if distance(signatures[before], signatures[after]) >= CHANGE_FLOOR:
            found.append((before, after))
        position = end + 1
    return found


def scenes(frames: list[dict[str, Any]], duration: float) -> list[dict[str, Any]]:
    """The video's scenes: start and end (seconds), the sampled frame nearest each scene's
    middle (its representative) and the labels detected in the scene's frames.

    A cut lies between the two frames either side of it: the scene after it starts at the
    first frame that shows it (within one sample interval of the true cut). A cross-fade's
    scene starts at the fade's middle."""
    ordered = sorted((f for f in frames if f.get("signature")), key=lambda f: f["index"])
    if not ordered:
        return []
    starts = [0.0]
    for before, after in boundaries([f["signature"] for f in ordered]):
        cut = after - before == 1
        starts.append(
            ordered[after]["time"] if cut else round((ordered[before]["time"] + ordered[after]["time"]) / 2, 3)
        )
    ends = [*starts[1:], round(max(duration, ordered[-1]["time"]), 3)]
    result = []
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        members = [f for f in ordered if start <= f["time"] < end] or [
            min(ordered, key=lambda f: abs(f["time"] - start))
        ]
        middle = members[len(members) // 2]
        labels = sorted({d["label"] for f in members for d in f.get("detections", [])})
        result.append(
            {
                "scene": number + 1,
                "start": start,
                "end": end,
                "frameIndex": middle["index"],
                "frameTime": middle["time"],
                "frameKey": middle["key"],
                "labels": labels,
            }
        )
    return result

"""Split a video into the time segments its sampling fans out over.

Planned by seeking, not from a keyframe index: the plan needs only the duration Validate
already probed, so it reads nothing. Each segment worker seeks to the keyframe before its
first target itself (sampler.py), so a segment decodes at most one GOP it does not keep, and
segments sampled apart give exactly the frames of one pass (docs/architecture.md has the
measurements). Segments are whole numbers of frames: frame k samples time k / rate wherever
its segment starts.
"""

from __future__ import annotations

import math

from sampler import frame_count

from mediaflow_shared.contract.job import Batch, Segment

# A video long enough is cut into at least this many segments, so even a 10-minute video
# samples in parallel (and, with detection following each segment, pipelines).
MIN_SEGMENTS = 8


def segment_span(duration: float, longest: float, shortest: float) -> float:
    """Seconds per segment: at most `longest` (one invocation's bounded span), and short
    enough for MIN_SEGMENTS segments, but never under `shortest` (each segment costs an
    invocation and a read of the video's index)."""
    count = max(math.ceil(duration / longest), min(MIN_SEGMENTS, math.floor(duration / shortest)), 1)
    return duration / count


def plan_segments(duration: float, rate: float, longest: float, shortest: float, per_batch: int) -> list[Segment]:
    total = frame_count(duration, rate)
    # whole frames, and at least one full batch
    per_segment = max(per_batch, math.ceil(segment_span(duration, longest, shortest) * rate - 1e-9))
    segments: list[Segment] = []
    first_batch = 0
    for number, first in enumerate(range(0, total, per_segment)):
        count = min(per_segment, total - first)
        segments.append(
            {
                "segment": number,
                "start": round(first / rate, 3),
                "end": round(min((first + count) / rate, duration), 3),
                "firstFrame": first,
                "frameCount": count,
                "firstBatch": first_batch,
            }
        )
        first_batch += batches_in(count, per_batch)
    return segments


def batches_in(frames: int, per_batch: int) -> int:
    return math.ceil(frames / per_batch)


def planned_batch_count(segments: list[Segment], per_batch: int) -> int:
    last = segments[-1]
    return last["firstBatch"] + batches_in(last["frameCount"], per_batch)


def plan_batches(segment: Segment, sampled: int, per_batch: int, manifest_key: str) -> list[Batch]:
    """The detection batches of a segment that gave `sampled` frames (its planned count, or
    fewer where the stream ended early)."""
    return [
        {
            "batch": segment["firstBatch"] + number,
            "first": segment["firstFrame"] + offset,
            "count": min(per_batch, sampled - offset),
            "manifestKey": manifest_key,
        }
        for number, offset in enumerate(range(0, sampled, per_batch))
    ]

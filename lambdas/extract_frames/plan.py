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


def plan_segments(duration: float, rate: float, segment_seconds: float, per_batch: int) -> list[Segment]:
    total = frame_count(duration, rate)
    per_segment = max(per_batch, round(segment_seconds * rate))  # at least one full batch
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
        first_batch += math.ceil(count / per_batch)
    return segments


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

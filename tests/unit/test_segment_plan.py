"""The sampling plan: segments of bounded span that together give every frame exactly once."""

from __future__ import annotations

import pytest
from plan import MIN_SEGMENTS, plan_batches, plan_segments


@pytest.mark.parametrize(
    ("duration", "count", "frames_per_segment"),
    [
        (12.0, 1, 12),  # shorter than MinSegmentSeconds: one segment
        (239.0, 1, 239),  # not two of the shortest
        (360.0, 3, 120),  # three of the shortest
        (600.0, 5, 120),  # ten minutes: split for parallelism, no segment under 120 s
        (1200.0, MIN_SEGMENTS, 150),  # twenty minutes: split 8 ways
        (7200.0, 24, 300),  # two hours: no segment longer than SegmentSeconds
        (14400.0, 48, 300),  # the 4-hour limit
    ],
)
def test_segments_are_bounded_and_cover_every_frame_once(duration: float, count: int, frames_per_segment: int) -> None:
    segments = plan_segments(duration, 1.0, 300, 120, 10)
    assert len(segments) == count and segments[0]["frameCount"] == frames_per_segment
    assert all(s["end"] - s["start"] <= 300 for s in segments)
    frames = [k for s in segments for k in range(s["firstFrame"], s["firstFrame"] + s["frameCount"])]
    assert frames == list(range(int(duration)))
    assert segments[-1]["end"] == duration


def test_batch_numbers_are_unique_across_segments_even_when_a_segment_ends_early() -> None:
    segments = plan_segments(95.0, 1.0, 30, 10, 10)  # 8 segments of 12 frames, the last of 11
    batches = [plan_batches(s, s["frameCount"], 10, f"m{s['segment']}") for s in segments]
    numbers = [b["batch"] for segment in batches for b in segment]
    assert numbers == list(range(len(numbers)))
    short = plan_batches(segments[1], 5, 10, "m1")  # the stream ended 5 frames into segment 1
    assert [(b["batch"], b["first"], b["count"]) for b in short] == [(segments[1]["firstBatch"], 12, 5)]


def test_a_higher_rate_keeps_the_span_and_multiplies_the_frames() -> None:
    segments = plan_segments(7200.0, 2.0, 300, 60, 10)
    assert len(segments) == 24 and segments[0]["frameCount"] == 600 and segments[1]["start"] == 300.0

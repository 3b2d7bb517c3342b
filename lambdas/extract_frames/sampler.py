"""Sample a video at a fixed rate, decoding as little as possible.

Keyframe-aware seeking (measured in bench/bench_frames.py): one demux-only pass collects the
keyframe timestamps (no decoding). For each target time, if a keyframe lies between the last
decoded frame and the target, seeking to it skips everything before; otherwise decoding
forward is cheaper than a seek (a seek always restarts at a keyframe). The frame returned
for a target is the first one whose timestamp reaches it (within half a frame), so frames
come from exact seconds, unlike FFmpeg's fps filter, which rounds to the nearest output slot.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np

from mediaflow_shared.video import open_container, upright


@dataclass(frozen=True)
class SampledFrame:
    index: int
    target: float  # the requested time, seconds
    time: float  # the decoded frame's timestamp, seconds
    image: np.ndarray  # RGB, upright


def sample_times(duration: float, rate: float) -> list[float]:
    """k / rate for every k with k / rate < duration: duration x rate frames, rounded up."""
    count = max(1, math.ceil(duration * rate - 1e-9))
    return [k / rate for k in range(count)]


def _keyframe_pts(container: av.container.InputContainer, stream: av.VideoStream) -> list[int]:
    keyframes = [packet.pts for packet in container.demux(stream) if packet.is_keyframe and packet.pts is not None]
    container.seek(0)
    return sorted(keyframes)


def sample_frames(path: str, rate: float, duration: float, name: str = "video") -> Iterator[SampledFrame]:
    with open_container(path, name) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads when the sandbox has several vCPUs
        time_base = float(stream.time_base)
        keyframes = _keyframe_pts(container, stream)
        half_frame = 0.5 / float(stream.average_rate or 25)
        frames: Iterator[av.VideoFrame] | None = None
        last_pts: int | None = None
        for index, target in enumerate(sample_times(duration, rate)):
            target_pts = round(target / time_base)
            position = bisect.bisect_right(keyframes, target_pts) - 1
            keyframe = keyframes[position] if position >= 0 else None
            if frames is None or (keyframe is not None and last_pts is not None and keyframe > last_pts):
                container.seek(keyframe if keyframe is not None else 0, stream=stream, backward=True)
                frames = container.decode(stream)
            for frame in frames:
                if frame.pts is None:
                    continue
                last_pts = frame.pts
                if frame.pts * time_base >= target - half_frame:
                    yield SampledFrame(index, target, frame.pts * time_base, upright(frame))
                    break
            else:
                return  # the stream ended before this target

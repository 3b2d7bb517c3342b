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
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import av
import numpy as np

from mediaflow_shared.video import decode_threads, open_container, upright


@dataclass(frozen=True)
class SampledFrame:
    index: int
    target: float  # the requested time, seconds
    time: float  # the decoded frame's timestamp, seconds
    image: np.ndarray  # RGB, upright


def frame_count(duration: float, rate: float) -> int:
    """How many frames a video of `duration` seconds gives at `rate`: k / rate < duration."""
    return max(1, math.ceil(duration * rate - 1e-9))


def sample_times(duration: float, rate: float, first: int = 0, count: int | None = None) -> list[float]:
    """k / rate for k in first .. first + count - 1 (by default every k with k / rate < duration)."""
    last = frame_count(duration, rate)
    if count is not None:
        last = min(first + count, last)
    return [k / rate for k in range(first, last)]


def _keyframe_pts(container: av.container.InputContainer, stream: av.VideoStream) -> list[int]:
    """Keyframe timestamps: from the container's own index (an MP4's sample table, Matroska's
    cues) when it has one, so nothing but the index is read; otherwise from a demux-only pass
    (every packet is read, nothing decoded), which then rewinds for the sampling."""
    indexed = sorted(entry.timestamp for entry in stream.index_entries if entry.is_keyframe)
    if len(indexed) > 1 or (indexed and len(stream.index_entries) == (stream.frames or -1)):
        return indexed
    keyframes = sorted(
        packet.pts for packet in container.demux(stream) if packet.is_keyframe and packet.pts is not None
    )
    container.seek(0, stream=stream)
    return keyframes


class _Decoder:
    """Packet-level decoding, so a keyframe can be drained out of the decoder at once instead
    of waiting for the B-frame reorder delay (2-3 more frames) to push it out."""

    def __init__(self, container: av.container.InputContainer, stream: av.VideoStream) -> None:
        self.container, self.stream, self.codec = container, stream, stream.codec_context
        self.codec.thread_count = decode_threads()  # segments, not threads, are how sampling scales
        self.time_base = float(stream.time_base)
        self.skip_margin = 8 / float(stream.average_rate or 25)  # seconds: covers B-frame reordering
        self.pending: deque[av.VideoFrame] = deque()
        self.packets: Iterator[av.Packet] = iter(())

    def seek(self, pts: int) -> None:
        self.container.seek(pts, stream=self.stream, backward=True)
        self.codec.flush_buffers()
        self.pending.clear()
        self.packets = self.container.demux(self.stream)

    def frame_at(self, threshold: float, drain_keyframe: bool) -> av.VideoFrame | None:
        """The first frame whose time reaches `threshold` (seconds), decoding forward."""
        while True:
            while self.pending:
                frame = self.pending.popleft()
                if frame.pts is not None and frame.pts * self.time_base >= threshold:
                    return frame
            packet = next(self.packets, None)
            if packet is None:
                self.pending.extend(self.codec.decode(None))  # end of stream: flush what is left
                if not self.pending:
                    return None
                continue
            if not packet.size:
                continue
            # Frames no other frame references (most B-frames) are skipped until the target is
            # near: they cannot be the sampled frame and nothing depends on them.
            far = packet.pts is not None and packet.pts * self.time_base < threshold - self.skip_margin
            self.codec.skip_frame = "NONREF" if far else "DEFAULT"
            self.pending.extend(self.codec.decode(packet))
            at_target = packet.pts is not None and packet.pts * self.time_base >= threshold
            if drain_keyframe and packet.is_keyframe and at_target and not self.pending:
                self.pending.extend(self.codec.decode(None))  # the next step seeks anyway


def sample_frames(
    source: str | BinaryIO,
    rate: float,
    duration: float,
    name: str = "video",
    first: int = 0,
    count: int | None = None,
) -> Iterator[SampledFrame]:
    """Frames first .. first + count - 1 (frame k at time k / rate): a segment of the video
    starts with a seek to the keyframe before its first target, so segments sampled apart
    give exactly the frames one pass over the whole video gives."""
    with open_container(source, name) as container:
        stream = container.streams.video[0]
        keyframes = _keyframe_pts(container, stream) or [0]
        decoder = _Decoder(container, stream)
        time_base = float(stream.time_base)
        half_frame = 0.5 / float(stream.average_rate or 25)
        targets = sample_times(duration, rate, first, count)
        target_pts = [round(t / time_base) for t in targets]

        def keyframe_before(pts: int) -> int:
            return keyframes[max(0, bisect.bisect_right(keyframes, pts) - 1)]

        # Seek only when a keyframe lies between the previous target and this one; otherwise
        # decoding forward is cheaper (a seek always restarts at a keyframe).
        seeks = [i == 0 or keyframe_before(pts) > target_pts[i - 1] for i, pts in enumerate(target_pts)]
        for index, target in enumerate(targets):
            if seeks[index]:
                decoder.seek(keyframe_before(target_pts[index]))
            next_seeks = index + 1 == len(targets) or seeks[index + 1]
            frame = decoder.frame_at(target - half_frame, drain_keyframe=next_seeks)
            if frame is None:
                return  # the stream ended before this target
            yield SampledFrame(first + index, target, frame.pts * time_base, upright(frame))

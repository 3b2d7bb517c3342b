from __future__ import annotations

from results import best_frame_per_label, describe_outputs, label_summary, timeline


def _frame(index: int, *labels: tuple[str, float]) -> dict:
    return {
        "index": index,
        "time": float(index),
        "detections": [
            {"label": label, "confidence": confidence, "box": {"left": 0, "top": 0, "width": 1, "height": 1}}
            for label, confidence in labels
        ],
    }


FRAMES = [
    _frame(0, ("face", 0.9)),
    _frame(1, ("face", 0.95), ("face", 0.6)),
    _frame(2),
    _frame(3, ("face", 0.7), ("dog", 0.8)),
    _frame(4, ("dog", 0.85)),
]


def test_label_summary_counts_detections_and_frames() -> None:
    assert label_summary(FRAMES) == [
        {"label": "face", "count": 4, "frames": 3, "bestConfidence": 0.95},
        {"label": "dog", "count": 2, "frames": 2, "bestConfidence": 0.85},
    ]


def test_timeline_has_a_segment_per_continuous_presence() -> None:
    assert timeline(FRAMES, 1.0) == [
        {"label": "face", "start": 0.0, "end": 2.0, "frames": 2, "bestConfidence": 0.95},
        {"label": "dog", "start": 3.0, "end": 5.0, "frames": 2, "bestConfidence": 0.85},
        {"label": "face", "start": 3.0, "end": 4.0, "frames": 1, "bestConfidence": 0.7},
    ]


def test_timeline_ends_with_the_video() -> None:
    # Sampled at 0..5 s from a 5.4 s video: the last segment ends at 5.4 s, not 6 s.
    segments = timeline([*FRAMES, _frame(5, ("dog", 0.9))], 1.0, duration=5.4)
    assert [(s["label"], s["start"], s["end"]) for s in segments] == [
        ("face", 0.0, 2.0),
        ("dog", 3.0, 5.4),
        ("face", 3.0, 4.0),
    ]


def test_best_frame_per_label() -> None:
    best = best_frame_per_label(FRAMES, limit=5)
    assert best["face"]["index"] == 1 and best["dog"]["index"] == 4
    assert list(best_frame_per_label(FRAMES, limit=1)) == ["face"]


def test_outputs_are_described_in_words() -> None:
    renditions = [{"width": w, "format": f} for w in (320, 640) for f in ("jpeg", "webp")]
    assert describe_outputs(renditions, [], annotated=1, sheet_frames=0) == (
        "4 renditions (320, 640 px wide; JPEG, WEBP); 1 annotated image"
    )
    segments = timeline([*FRAMES, _frame(5, ("dog", 0.9))], 1.0, duration=5.4)
    assert describe_outputs([], segments, annotated=2, sheet_frames=6) == (
        "timeline: face 0 s – 2 s, dog 3 s – 5.4 s, face 3 s – 4 s; a contact sheet of 6 frames; 2 annotated images"
    )
    many = [{"label": f"l{i}", "start": float(i), "end": i + 1.0} for i in range(7)]
    assert describe_outputs([], many, annotated=0, sheet_frames=0).endswith("l4 4 s – 5 s and 2 more")
    assert describe_outputs([], [], annotated=0, sheet_frames=0) == "none"

from __future__ import annotations

from typing import Any

from results import best_frame_per_label, describe_outputs, label_summary, timeline
from text_results import text_results


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


def _text_frame(index: int, *lines: str) -> dict[str, Any]:
    found = []
    for text in lines:
        line_id = len(found)
        found.append({"DetectedText": text, "Type": "LINE", "Id": line_id, "Confidence": 90.0 + index})
        found += [
            {"DetectedText": word, "Type": "WORD", "Id": line_id + k + 1, "ParentId": line_id, "Confidence": 95.0}
            for k, word in enumerate(text.split())
        ]
    return {"index": index, "time": float(index), "detections": [], "text": found}


def test_text_lines_become_segments_on_the_timeline() -> None:
    frames = [
        _text_frame(0, "BREAKING NEWS"),
        _text_frame(1, "Breaking  news", "Live"),  # the same line, read with other case and spacing
        _text_frame(2, "Live"),
        _text_frame(3),
        _text_frame(4, "BREAKING NEWS"),
    ]
    text = text_results(frames, 1.0, 4.5)
    assert [
        (s["DetectedText"], s["StartTimestampMillis"], s["EndTimestampMillis"], s["Frames"]) for s in text["segments"]
    ] == [
        ("BREAKING NEWS", 0, 2000, 2),
        ("Live", 1000, 3000, 2),
        ("BREAKING NEWS", 4000, 4500, 1),  # not past the end of the video
    ]
    assert [(line["text"], line["frames"], line["firstSeen"], line["lastSeen"]) for line in text["lines"]] == [
        ("BREAKING NEWS", 3, 0.0, 4.0),
        ("Live", 2, 1.0, 2.0),
    ]
    assert text["segments"][0]["Confidence"] == 91.0
    # Rekognition's GetTextDetection shape: every line and word with its frame's timestamp.
    assert len(text["detections"]) == 3 + 4 + 2 + 1 + 3
    assert text["detections"][3] == {"Timestamp": 1000, "TextDetection": frames[1]["text"][0]}


def test_an_image_without_text_has_empty_text_results() -> None:
    assert text_results([{"index": 0, "time": 0, "detections": []}], 0, None) == {
        "lines": [],
        "segments": [],
        "detections": [],
    }

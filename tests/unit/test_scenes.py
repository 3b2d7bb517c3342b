"""Scene analysis on the labelled clip (real photographs, hard cuts, a cross-fade) and on edge cases."""

from __future__ import annotations

import itertools

import pytest
from sampler import sample_frames
from scenes import boundaries, distance, scenes
from signature import colour_signature

from tests.videos import SHOTS, labelled_scene_clip, scene_boundaries

RATE = 1.0


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    clip = labelled_scene_clip(tmp_path_factory.mktemp("scenes") / "shots.mp4")
    duration = sum(seconds for _, seconds in SHOTS)
    return [
        {"index": f.index, "time": f.time, "key": f"f{f.index}", "signature": colour_signature(f.image)}
        for f in sample_frames(str(clip), RATE, duration)
    ]


def test_every_boundary_of_the_labelled_clip_is_found_within_one_sample_interval(sampled: list[dict]) -> None:
    duration = sum(seconds for _, seconds in SHOTS)
    found = scenes(sampled, duration)

    truth = scene_boundaries()
    assert len(found) == len(SHOTS), [(s["start"], s["end"]) for s in found]
    for scene, boundary in zip(found[1:], truth, strict=True):
        assert abs(scene["start"] - boundary) <= 1 / RATE, (scene["start"], boundary)
    assert found[0]["start"] == 0.0 and found[-1]["end"] == pytest.approx(duration, abs=0.01)
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(found)), "scenes tile the video"
    for scene in found:  # the representative frame lies inside its scene
        assert scene["start"] <= scene["frameTime"] < scene["end"]


def test_a_static_shot_is_one_scene_and_a_one_frame_flash_is_no_cut(sampled: list[dict]) -> None:
    steady = [dict(sampled[1], index=i, time=float(i)) for i in range(10)]
    assert [(s["start"], s["end"]) for s in scenes(steady, 10.0)] == [(0.0, 10.0)]

    flash = [dict(f) for f in steady]
    flash[5]["signature"] = sampled[-1]["signature"]  # another photo for one sample, then back
    assert boundaries([f["signature"] for f in flash]) == []


def test_distance_is_zero_for_the_same_colours_and_one_for_none_in_common() -> None:
    assert distance([500, 500, 0], [500, 500, 0]) == pytest.approx(0.0, abs=1e-9)
    assert distance([1000, 0, 0], [0, 0, 1000]) == pytest.approx(1.0)


def test_scenes_carry_the_labels_detected_in_them(sampled: list[dict]) -> None:
    labelled = [dict(f, detections=[{"label": "cat"}] if 17 <= f["time"] < 22 else []) for f in sampled]
    found = scenes(labelled, sum(seconds for _, seconds in SHOTS))
    assert [s["labels"] for s in found] == [[], [], [], ["cat"], []]


def test_no_frames_no_scenes() -> None:
    assert scenes([], 10.0) == []

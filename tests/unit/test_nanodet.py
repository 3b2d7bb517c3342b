"""The default detector, NanoDet, on real photographs: what it finds, where, and how well.

The recall floors are the evaluation set's (tests/detection_eval.py) at the template's
default confidence, a little under what was measured (docs/detection.md), so a model or
pre-processing change that costs recall fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
from detectors import MODELS_DIR
from nanodet import LABELS, NanoDetDetector, letterbox
from PIL import Image

from mediaflow.samples import skimage_data
from mediaflow_shared.contract.settings import Settings
from tests.detection_eval import Score, evaluate

DEFAULT_CONFIDENCE = Settings().detection_min_confidence


@pytest.fixture(scope="module")
def nanodet() -> NanoDetDetector:
    return NanoDetDetector(MODELS_DIR / "nanodet.onnx", DEFAULT_CONFIDENCE)


@pytest.fixture(scope="module")
def score(nanodet: NanoDetDetector) -> Score:
    return evaluate(lambda image: {d.label for d in nanodet.detect(image)})


def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(skimage_data() / name).convert("RGB"))


def test_the_classes_users_asked_for_are_there_under_rekognition_names() -> None:
    wanted = {"person", "car", "bicycle", "motorcycle", "bus", "truck", "dog", "cat", "bird", "cup", "bottle"}
    assert wanted | {"laptop", "chair", "mobile phone"} <= set(LABELS)
    assert len(LABELS) == 80 and "cell_phone" not in LABELS and "cell phone" not in LABELS


def test_finds_the_cat_and_boxes_it(nanodet: NanoDetDetector) -> None:
    (cat,) = [d for d in nanodet.detect(_photo("chelsea.png")) if d.label == "cat"]
    assert cat.confidence > 0.5
    # Chelsea fills most of the 451x300 photograph.
    assert cat.box.left < 0.1 and cat.box.top < 0.1 and cat.box.width > 0.8 and cat.box.height > 0.8


def test_finds_the_motorcycle_in_its_place(nanodet: NanoDetDetector) -> None:
    (motorcycle,) = [d for d in nanodet.detect(_photo("motorcycle_left.png")) if d.label == "motorcycle"]
    assert motorcycle.confidence > 0.6
    assert 0.08 < motorcycle.box.left < 0.2 and 0.1 < motorcycle.box.top < 0.25
    assert 0.7 < motorcycle.box.width < 0.85 and 0.65 < motorcycle.box.height < 0.8


def test_the_person_in_a_16_9_video_frame_is_boxed_in_frame_coordinates(nanodet: NanoDetDetector) -> None:
    """The photograph pasted into the middle of a 1280x720 frame: the box must land on it."""
    frame = Image.new("RGB", (1280, 720), (40, 40, 40))
    frame.paste(Image.open(skimage_data() / "astronaut.png").convert("RGB"), (384, 104))  # 512x512, x 384..896
    (person,) = [d for d in nanodet.detect(np.asarray(frame)) if d.label == "person"]
    left_px, right_px = person.box.left * 1280, (person.box.left + person.box.width) * 1280
    top_px, bottom_px = person.box.top * 720, (person.box.top + person.box.height) * 720
    assert 384 <= left_px < 430 and 720 < right_px < 790  # the astronaut's 18..371 px of the photo
    assert 104 <= top_px < 140 and bottom_px > 600


def test_nothing_in_a_photograph_of_space(nanodet: NanoDetDetector) -> None:
    assert nanodet.detect(_photo("hubble_deep_field.jpg")) == []


@pytest.mark.parametrize(("label", "floor"), [("person", 0.9), ("cat", 0.85), ("cup", 0.55)])
def test_recall_on_the_evaluation_set(score: Score, label: str, floor: float) -> None:
    assert score.recall(label) >= floor, score.misses


def test_precision_on_the_evaluation_set(score: Score) -> None:
    assert score.precision() >= 0.65, score.misses


@pytest.mark.parametrize(
    ("size", "canvas"),
    [((1280, 720), (416, 224)), ((720, 1280), (224, 416)), ((640, 200), (416, 128)), ((64, 36), (128, 96))],
)
def test_letterbox_keeps_the_aspect_on_a_stride_multiple_canvas(size: tuple[int, int], canvas: tuple[int, int]) -> None:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    boxed, scale_x, scale_y = letterbox(image, 416)
    assert (boxed.shape[1], boxed.shape[0]) == canvas
    assert scale_x == pytest.approx(scale_y, rel=0.05)  # at most a 5 % squash to reach a multiple of 32
    assert scale_x <= 2.0  # a small frame is enlarged at most twice

"""A small labelled evaluation set for the object detector, built from real photographs.

The photographs are the ones scikit-image ships (mediaflow.samples.skimage_data): each is
labelled with the COCO objects a person sees in it (`expected`) and the ones that are
arguably there too (`tolerated`: a detection of those is neither a hit nor a false alarm).
Variants add what footage does to a subject: crops, pans across it, a mirror image, a 16:9
video frame with the photograph inside it, and two photographs side by side.

Scoring is per image and label: a label expected and detected is a true positive, expected and
missed a false negative, detected but neither expected nor tolerated a false positive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from mediaflow.samples import skimage_data


@dataclass(frozen=True)
class Photo:
    name: str
    expected: frozenset[str]
    tolerated: frozenset[str] = field(default_factory=frozenset)


PHOTOS = (
    Photo("astronaut.png", frozenset({"person"})),
    Photo("camera.png", frozenset({"person"})),
    Photo("chelsea.png", frozenset({"cat"})),
    Photo("coffee.png", frozenset({"cup"}), frozenset({"spoon", "bowl", "dining table"})),
    Photo("motorcycle_left.png", frozenset({"motorcycle"}), frozenset({"bicycle"})),
    Photo("horse.png", frozenset({"horse"})),
    Photo("rocket.jpg", frozenset()),
    Photo("hubble_deep_field.jpg", frozenset()),
    Photo("coins.png", frozenset()),
    Photo("brick.png", frozenset()),
    Photo("grass.png", frozenset()),
)


@dataclass(frozen=True)
class Sample:
    name: str
    image: np.ndarray  # RGB
    expected: frozenset[str]
    tolerated: frozenset[str]


def _open(name: str) -> Image.Image:
    with Image.open(skimage_data() / name) as source:
        return source.convert("RGB")


def _crop(image: Image.Image, fraction: float, x: float, y: float = 0.5) -> Image.Image:
    """A crop `fraction` of each side, its centre at (x, y) of the room the crop can move in."""
    width, height = round(image.width * fraction), round(image.height * fraction)
    left, top = round((image.width - width) * x), round((image.height - height) * y)
    return image.crop((left, top, left + width, top + height))


def _in_frame(image: Image.Image, size: tuple[int, int] = (1280, 720)) -> Image.Image:
    """The photograph inside a 16:9 video frame, as a camera that framed it wider would see it."""
    frame = Image.new("RGB", size, (40, 40, 40))
    fitted = ImageOps.contain(image, size)
    frame.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
    return frame


VARIANTS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "whole": lambda image: image,
    "crop-90": lambda image: _crop(image, 0.9, 0.5),
    "pan-left": lambda image: _crop(image, 0.8, 0.0),
    "pan-right": lambda image: _crop(image, 0.8, 1.0),
    "mirror": ImageOps.mirror,
    "video-frame": _in_frame,
}


def samples() -> Iterator[Sample]:
    for photo in PHOTOS:
        image = _open(photo.name)
        for variant, make in VARIANTS.items():
            yield Sample(f"{photo.name}:{variant}", np.asarray(make(image)), photo.expected, photo.tolerated)
    # Two subjects in one frame.
    pairs = [(PHOTOS[2], PHOTOS[3]), (PHOTOS[0], PHOTOS[4])]
    for left, right in pairs:
        a, b = _open(left.name), _open(right.name)
        height = min(a.height, b.height)
        a, b = ImageOps.contain(a, (10_000, height)), ImageOps.contain(b, (10_000, height))
        pair = Image.new("RGB", (a.width + b.width, height))
        pair.paste(a, (0, 0))
        pair.paste(b, (a.width, 0))
        yield Sample(
            f"{left.name}+{right.name}",
            np.asarray(pair),
            left.expected | right.expected,
            left.tolerated | right.tolerated,
        )


@dataclass
class Score:
    true_positives: Counter[str] = field(default_factory=Counter)
    false_negatives: Counter[str] = field(default_factory=Counter)
    false_positives: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)  # sample: label, for the report

    def add(self, sample: Sample, found: set[str]) -> None:
        for label in sample.expected:
            if label in found:
                self.true_positives[label] += 1
            else:
                self.false_negatives[label] += 1
                self.misses.append(f"{sample.name}: missed {label}")
        for label in found - sample.expected - sample.tolerated:
            self.false_positives[label] += 1
            self.misses.append(f"{sample.name}: false {label}")

    def recall(self, label: str | None = None) -> float:
        tp = self.true_positives[label] if label else self.true_positives.total()
        fn = self.false_negatives[label] if label else self.false_negatives.total()
        return tp / max(1, tp + fn)

    def precision(self) -> float:
        tp, fp = self.true_positives.total(), self.false_positives.total()
        return tp / max(1, tp + fp)


def evaluate(detect: Callable[[np.ndarray], set[str]]) -> Score:
    """Score a detector: `detect` returns the labels it finds in an RGB image."""
    score = Score()
    for sample in samples():
        score.add(sample, detect(sample.image))
    return score

"""Detection per 1280x720 frame, side by side, and the detectors' quality on real photographs.

Speed: frames are real photographs (scikit-image's bundled data) scaled to 1280x720; every
backend runs on one thread pinned to one core (DetectObjects' 2,048 MB buy one vCPU); the
report is the median over frames and rounds, and ratios against peers measured in this run.

- nanodet (default): NanoDet on onnxruntime, letterboxed to 416x224 as DetectObjects runs it;
  beside it the same model at the export's 416x416 square, on OpenCV DNN, and in batches.
- centerface: the face detector (the previous default), on onnxruntime and on OpenCV DNN.
- text: PP-OCRv4 detection + recognition per frame, on frames with and without text.
- onnx: the YOLOv8-style decoding path with the tests' constant model (the backend's own
  overhead: resize, decode, NMS; not a real network).
- rekognition: not measurable offline (one DetectLabels HTTPS call per frame).

Quality: precision and recall at the template's default confidence on tests/detection_eval.py,
and lines read exactly / characters right on tests/text_eval.py.

    python bench/bench_detect.py
"""

from __future__ import annotations

import difflib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "lambdas" / "detect_objects"), str(REPO / "lambdas" / "shared"), str(REPO)]

DEFAULT = "nanodet (onnxruntime, 416x224 letterbox, default)"
NARROW = "nanodet (onnxruntime, 384x224 letterbox)"
SQUARE = "nanodet (onnxruntime, 416x416 stretched, the export's size)"
DNN = "nanodet (OpenCV DNN, same model, 416x224)"
BATCH8 = "nanodet network only, batches of 8 (per frame)"
ONE = "nanodet network only, one frame"
BATCHED = "nanodet as DetectObjects runs it: 8 frames at once (per frame)"
PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg")


def frames() -> list[np.ndarray]:
    from mediaflow.samples import skimage_data

    return [np.asarray(Image.open(skimage_data() / name).convert("RGB").resize((1280, 720))) for name in PHOTOS]


def measure(
    runs: dict[str, tuple[Callable[[np.ndarray], object], list[np.ndarray], int]], rounds: int = 5
) -> dict[str, float]:
    """Median ms per frame of each run. Rounds interleave the runs, so a slow spell of this
    shared machine lands on all of them rather than on whichever ran then."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for detect, frames_, _ in runs.values():
        detect(frames_[0])  # warm-up: session initialisation
    for _ in range(rounds):
        for name, (detect, frames_, per_call) in runs.items():
            for image in frames_:
                start = time.perf_counter()
                detect(image)
                samples[name].append((time.perf_counter() - start) * 1000 / per_call)
    return {name: statistics.median(values) for name, values in samples.items()}


def opencv_dnn(
    model: Path, size: tuple[int, int], mean: tuple[float, ...], scale: float
) -> Callable[[np.ndarray], object]:
    import cv2

    cv2.setNumThreads(1)
    net = cv2.dnn.readNetFromONNX(str(model))

    def detect(image: np.ndarray) -> object:
        resized = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        net.setInput(cv2.dnn.blobFromImage(resized[:, :, ::-1], scale, size, mean, swapRB=False))
        return net.forward(net.getUnconnectedOutLayersNames())

    return detect


def batched(nanodet, size: int):  # type: ignore[no-untyped-def]
    """NanoDet over `size` frames in one run, per frame (a batch's frames are the same size)."""

    def detect(image: np.ndarray) -> object:
        tensor, _, _ = nanodet.tensor(image)
        return nanodet.session.run(None, {nanodet.input_name: np.repeat(tensor, size, axis=0)})

    return lambda image: detect(image), size


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    os.environ["DETECTION_THREADS"] = "1"
    from detectors import MODELS_DIR, CenterFaceDetector, OnnxYoloDetector
    from nanodet import MEAN_BGR, STD_BGR, NanoDetDetector
    from text import TextReader

    from mediaflow_shared.contract.settings import Settings
    from tests.detection_eval import evaluate
    from tests.text_eval import samples as text_samples
    from tests.unit.test_detectors import _fixed_output_yolo

    confidence = Settings().detection_min_confidence
    images = frames()
    nanodet = NanoDetDetector(MODELS_DIR / "nanodet.onnx", confidence)
    square = NanoDetDetector(MODELS_DIR / "nanodet.onnx", confidence)
    square.tensor = lambda image: (  # type: ignore[method-assign]
        np.ascontiguousarray(
            ((np.asarray(Image.fromarray(image).resize((416, 416)))[:, :, ::-1] - MEAN_BGR) / STD_BGR)
            .astype(np.float32)
            .transpose(2, 0, 1)[None]
        ),
        416 / image.shape[1],
        416 / image.shape[0],
    )
    centerface = CenterFaceDetector(MODELS_DIR / "centerface.onnx", 0.5)
    reader = TextReader(MODELS_DIR / "text_det.onnx", MODELS_DIR / "text_rec.onnx")
    with_text = [sample.image for sample in text_samples()]

    narrow = NanoDetDetector(MODELS_DIR / "nanodet.onnx", confidence, input_width=384)
    # name -> (function, frames, frames per call)
    runs: dict[str, tuple[Callable[[np.ndarray], object], list[np.ndarray], int]] = {
        DEFAULT: (nanodet.detect, images, 1),
        BATCHED: (lambda image: nanodet.detect_many([image] * 8), images, 8),
        NARROW: (narrow.detect, images, 1),
        SQUARE: (square.detect, images, 1),
    }
    try:
        dnn = opencv_dnn(MODELS_DIR / "nanodet.onnx", (416, 224), (103.53, 116.28, 123.675), 1 / 57.6)
        runs[DNN] = (dnn, images, 1)
    except Exception as err:  # OpenCV's ONNX importer does not take every graph
        print(f"  OpenCV DNN cannot run the converted NanoDet: {type(err).__name__}: {str(err)[:160]}")
    for size in (1, 8):
        detect, frames_per_call = batched(nanodet, size)
        runs[BATCH8 if size == 8 else ONE] = (detect, images, frames_per_call)
    runs["centerface (onnxruntime)"] = (centerface.detect, images, 1)
    runs["centerface (OpenCV DNN)"] = (
        opencv_dnn(MODELS_DIR / "centerface.onnx", (640, 352), (0, 0, 0), 1.0),
        images,
        1,
    )
    runs["text: PP-OCRv4 on frames without text"] = (reader.read, images, 1)
    runs["text: PP-OCRv4 on frames with 1-2 lines"] = (reader.read, with_text, 1)
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(1)
        anchors = np.zeros((1, 84, 8400), dtype=np.float32)
        anchors[0, 0:2] = rng.random((2, 8400)) * 64
        anchors[0, 2:4] = rng.random((2, 8400)) * 16 + 4
        anchors[0, 4:] = rng.random((80, 8400)) * 0.05
        for anchor in rng.choice(8400, 30, replace=False):
            anchors[0, 4 + rng.integers(80), anchor] = 0.9
        yolo = OnnxYoloDetector(_fixed_output_yolo(Path(tmp) / "tiny.onnx", anchors), [], 0.3)
        runs["onnx backend overhead (8400 anchors, 80 classes)"] = (yolo.detect, images, 1)
        results = measure(runs)

    print("Detection on 1280x720 frames made from real photographs, one thread, median ms per frame")
    for name, ms in results.items():
        print(f"  {name:<56}{ms:7.1f} ms")
    print("  rekognition                                             n/a (network call; not measurable offline)")
    default = results[DEFAULT]

    def ratio(label: str, peer: str, mine: str = DEFAULT) -> None:
        if peer in results:
            print(f"  {label}: {results[peer] / results[mine]:.2f}x")

    ratio("nanodet default vs the export's square input (faster by)", SQUARE)
    ratio("onnxruntime vs OpenCV DNN on NanoDet (faster by)", DNN)
    ratio("onnxruntime vs OpenCV DNN on CenterFace (faster by)", "centerface (OpenCV DNN)", "centerface (onnxruntime)")
    ratio("nanodet (80 classes) vs centerface (faces) (faster by)", "centerface (onnxruntime)")
    ratio("batches of 8 vs one frame, network only (faster by)", ONE, BATCH8)
    ratio("8 frames at once vs one at a time (faster by)", DEFAULT, BATCHED)
    print(
        f"  against the 25 ms target: one frame {default / 25:.2f}, 8 at once {results[BATCHED] / 25:.2f}, "
        f"384 wide {results[NARROW] / 25:.2f}"
    )

    for name, detector in (
        ("nanodet 416x224 letterbox (default)", nanodet),
        ("nanodet 384x224 letterbox", narrow),
        ("nanodet 416x416 stretched", square),
    ):
        score = evaluate(lambda image, d=detector: {x.label for x in d.detect(image)})
        per_class = ", ".join(
            f"{label} {score.recall(label):.2f}" for label in ("person", "cat", "cup", "motorcycle", "horse")
        )
        print(
            f"Quality, {name}, confidence {confidence}: precision {score.precision():.2f}, recall {score.recall():.2f} "
            f"(per class: {per_class}); false alarms {dict(score.false_positives)}"
        )
    exact, characters, lines = 0, 0.0, 0
    for sample in text_samples():
        read = [d["DetectedText"] for d in reader.read(sample.image) if d["Type"] == "LINE"]
        for drawn in sample.lines:
            best = max(read, key=lambda text: difflib.SequenceMatcher(None, text, drawn.text).ratio(), default="")
            exact += best == drawn.text
            characters += difflib.SequenceMatcher(None, best, drawn.text).ratio()
            lines += 1
    print(f"Text: {exact} of {lines} lines read exactly, {characters / lines:.1%} of characters (tests/text_eval.py)")


if __name__ == "__main__":
    main()

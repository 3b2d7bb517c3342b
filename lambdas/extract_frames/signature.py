"""A sampled frame's colour signature: what scene analysis (Aggregate) compares frames by.

An HSV histogram of a thumbnail, 8 hue x 4 saturation x 4 value bins, in per-mille so it
travels as 128 small integers in the segment manifest. Histograms barely move while a camera
pans or zooms within one shot and jump at a cut, which is the distinction scene analysis needs;
computing it here, while the frame is decoded, saves Aggregate reading every frame back.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

THUMBNAIL = (64, 36)
HUE_BINS, SATURATION_BINS, VALUE_BINS = 8, 4, 4
SIGNATURE_TOTAL = 1000


def colour_signature(rgb: np.ndarray) -> list[int]:
    hsv = np.asarray(Image.fromarray(rgb).resize(THUMBNAIL, Image.Resampling.BOX).convert("HSV"), dtype=np.int32)
    hue = hsv[..., 0] * HUE_BINS // 256
    saturation = hsv[..., 1] * SATURATION_BINS // 256
    value = hsv[..., 2] * VALUE_BINS // 256
    bins = (hue * SATURATION_BINS + saturation) * VALUE_BINS + value
    counts = np.bincount(bins.ravel(), minlength=HUE_BINS * SATURATION_BINS * VALUE_BINS)
    return [int(c) for c in np.rint(counts * SIGNATURE_TOTAL / counts.sum())]

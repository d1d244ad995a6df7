"""Q6: image features (features.py): the histogram of oriented gradients of RGB and grey images, and the hue
histogram."""
import pytest

from grader import checks
from grader.suites._common import call

pytestmark = pytest.mark.files("features.py")


def test_hog_feature(sb, ref):
    c = ref("Q6/features")
    for name in ("rgb", "gray", "rgb2"):
        checks.close(call(sb, "features", "hog_feature", c[name]), c[f"hog_{name}"],
                     f"hog_feature of a {c[name].shape} image", 1e-8)


def test_color_histogram_hsv(sb, ref):
    c = ref("Q6/features")
    checks.close(call(sb, "features", "color_histogram_hsv", c["rgb"]), c["hist_rgb"],
                 "color_histogram_hsv(im)", 1e-8)
    checks.close(call(sb, "features", "color_histogram_hsv", c["rgb2"], nbin=7), c["hist_rgb2"],
                 "color_histogram_hsv(im, nbin=7)", 1e-8)

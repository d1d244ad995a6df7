"""Small helpers of the notebooks: shuffling a data set, smoothing a curve."""
import numpy as np


def shuffle_dataset(x, t):
    """x (N, ...) and t (N, ...) in one random order (np.random)."""
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]


def smooth_curve(x, window=11):
    """A moving average of the 1-D sequence x (a window of ``window`` points, Hanning weights), for plots of
    noisy losses; the result has the length of x."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < window:
        return x
    w = np.hanning(window)
    padded = np.r_[x[window - 1:0:-1], x, x[-2:-window - 1:-1]]
    y = np.convolve(w / w.sum(), padded, mode="valid")
    half = (window - 1) // 2
    return y[half:half + len(x)]

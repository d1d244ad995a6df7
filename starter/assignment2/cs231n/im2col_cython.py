"""The functions of the course's compiled ``im2col_cython`` extension, in pure NumPy.

This file is provided complete: you do not need to change it, and there is nothing to build
(``python setup.py build_ext --inplace`` is not needed). ``from cs231n.im2col_cython import im2col_cython,
col2im_cython, col2im_6d_cython`` works as it did with the extension, with the same arguments, shapes and
results; all three keep the dtype of their input.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _out_size(H, W, field_height, field_width, padding, stride):
    return (H + 2 * padding - field_height) // stride + 1, (W + 2 * padding - field_width) // stride + 1


def im2col_cython(x, field_height, field_width, padding, stride):
    """The receptive fields of ``x`` as columns (the layout of ``im2col.im2col_indices``).

    Inputs:
    - x: input of shape (N, C, H, W)
    - field_height, field_width: size of the receptive field
    - padding: zero-padding on each side of H and W
    - stride: step between neighbouring receptive fields

    Returns:
    - cols: array of shape (C * field_height * field_width, H_out * W_out * N); row
      ``c * field_height * field_width + i * field_width + j``, column ``(y * W_out + x) * N + n``
    """
    N, C, H, W = x.shape
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    HH, WW = _out_size(H, W, field_height, field_width, padding, stride)
    windows = sliding_window_view(x_padded, (field_height, field_width), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :HH, :WW]    # (N, C, HH, WW, fh, fw)
    return np.ascontiguousarray(windows.transpose(1, 4, 5, 2, 3, 0)).reshape(C * field_height * field_width, -1)


def col2im_cython(cols, N, C, H, W, field_height, field_width, padding, stride):
    """The adjoint of im2col_cython: add every column back onto the input positions it came from.

    Inputs:
    - cols: array of shape (C * field_height * field_width, H_out * W_out * N)
    - N, C, H, W: the shape of the input (before padding)
    - field_height, field_width, padding, stride: as in im2col_cython

    Returns:
    - x: array of shape (N, C, H, W)
    """
    HH, WW = _out_size(H, W, field_height, field_width, padding, stride)
    cols6 = cols.reshape(C, field_height, field_width, HH, WW, N).transpose(0, 1, 2, 5, 3, 4)
    return col2im_6d_cython(cols6, N, C, H, W, field_height, field_width, padding, stride)


def col2im_6d_cython(cols, N, C, H, W, HH, WW, pad, stride):
    """Like col2im_cython, for columns kept as a 6-d array.

    Inputs:
    - cols: array of shape (C, HH, WW, N, out_h, out_w); HH, WW are the filter's height and width
    - N, C, H, W: the shape of the input (before padding)
    - HH, WW: filter height and width
    - pad, stride: zero-padding and stride of the convolution

    Returns:
    - x: array of shape (N, C, H, W), where
      x_padded[n, c, hh + y * stride, ww + x * stride] += cols[c, hh, ww, n, y, x]
    """
    out_h, out_w = cols.shape[4], cols.shape[5]
    x_padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for hh in range(HH):
        for ww in range(WW):
            x_padded[:, :, hh:hh + stride * (out_h - 1) + 1:stride, ww:ww + stride * (out_w - 1) + 1:stride] += \
                cols[:, hh, ww].transpose(1, 0, 2, 3)
    if pad > 0:
        return x_padded[:, :, pad:-pad, pad:-pad]
    return x_padded

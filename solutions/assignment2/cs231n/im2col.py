"""im2col with index arrays: the receptive fields of a convolution laid out as the columns of a matrix.

This file is provided complete: you do not need to change it. ``im2col_indices`` gathers, for every output
position of a convolution, the C*field_height*field_width input values its filter sees, with one fancy
index; ``col2im_indices`` is its adjoint (it adds every column back onto the positions it came from, so
overlapping windows accumulate). ``fast_layers`` has faster versions of the same layers.

Layout (the same as ``im2col_cython``): row ``c * field_height * field_width + i * field_width + j`` holds
input channel c at offset (i, j) inside the window, the order of ``w.reshape(F, -1)``; column
``(y * W_out + x) * N + n`` holds output position (y, x) of image n.
"""
import numpy as np


def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    """Index arrays (k, i, j) such that ``x_padded[:, k, i, j]`` holds every receptive field.

    Inputs:
    - x_shape: (N, C, H, W), the shape of the input before padding
    - field_height, field_width: the size of the receptive field (the filter)
    - padding: zero-padding on each side of H and W
    - stride: step between neighbouring receptive fields

    Returns a tuple of:
    - k: channel indices, of shape (C * field_height * field_width, 1)
    - i: row indices into the padded input, of shape (C * field_height * field_width, H_out * W_out)
    - j: column indices into the padded input, of the same shape as i
    where H_out = 1 + (H + 2 * padding - field_height) // stride, and W_out likewise.
    """
    N, C, H, W = x_shape
    out_height = (H + 2 * padding - field_height) // stride + 1
    out_width = (W + 2 * padding - field_width) // stride + 1

    # Offsets inside the window (one row per channel and offset), plus the window's top-left corner.
    i0 = np.tile(np.repeat(np.arange(field_height), field_width), C)
    j0 = np.tile(np.arange(field_width), field_height * C)
    i1 = stride * np.repeat(np.arange(out_height), out_width)
    j1 = stride * np.tile(np.arange(out_width), out_height)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(C), field_height * field_width).reshape(-1, 1)
    return k, i, j


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    """The receptive fields of ``x`` as columns.

    Inputs:
    - x: input of shape (N, C, H, W)
    - field_height, field_width, padding, stride: as in get_im2col_indices

    Returns:
    - cols: array of shape (C * field_height * field_width, H_out * W_out * N), dtype of x
    """
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    k, i, j = get_im2col_indices(x.shape, field_height, field_width, padding, stride)
    cols = x_padded[:, k, i, j]                          # (N, C*fh*fw, H_out*W_out)
    C = x.shape[1]
    return cols.transpose(1, 2, 0).reshape(field_height * field_width * C, -1)


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """The adjoint of im2col_indices: add every column back onto the input positions it came from.

    Inputs:
    - cols: array of shape (C * field_height * field_width, H_out * W_out * N)
    - x_shape: (N, C, H, W), the shape of the input (before padding)
    - field_height, field_width, padding, stride: as in get_im2col_indices

    Returns:
    - x: array of shape (N, C, H, W), the sum of the contributions of every window covering each entry
    """
    N, C, H, W = x_shape
    H_padded, W_padded = H + 2 * padding, W + 2 * padding
    x_padded = np.zeros((N, C, H_padded, W_padded), dtype=cols.dtype)
    k, i, j = get_im2col_indices(x_shape, field_height, field_width, padding, stride)
    cols_reshaped = cols.reshape(C * field_height * field_width, -1, N).transpose(2, 0, 1)
    np.add.at(x_padded, (slice(None), k, i, j), cols_reshaped)
    if padding == 0:
        return x_padded
    return x_padded[:, :, padding:-padding, padding:-padding]

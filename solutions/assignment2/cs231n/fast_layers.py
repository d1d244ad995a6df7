"""Fast convolution and max-pooling layers, in pure NumPy.

This file is provided complete: you do not need to change it. It gives the same results as the naive
layers you write in ``layers.py`` (up to floating-point rounding), only much faster, so that you can
train convolutional networks in reasonable time.

How it is fast
--------------
Convolution ("im2col" + one matrix multiply). For every output position (i, j) the filter sees a
small block ``x_pad[n, :, i*stride : i*stride+HH, j*stride : j*stride+WW]`` of C*HH*WW numbers.
``numpy.lib.stride_tricks.sliding_window_view`` gives a *view* of all these blocks at once without
copying anything; copying that view once lays the blocks out as the columns of a matrix

    cols[n]  of shape (C*HH*WW, H_out*W_out)

and the whole convolution becomes a single (batched) matrix product with the filters reshaped to
(F, C*HH*WW), which BLAS does very quickly.

The backward pass multiplies by the transposes, then has to undo im2col ("col2im"): every input pixel
received contributions from every window that covered it. Instead of looping over windows, we loop
over the HH*WW offsets (kh, kw) inside the kernel: for a fixed offset the pixels touched by all the
windows form one strided slice of the input, ``x_pad[:, :, kh::stride, kw::stride]``, so adding the
gradients of that offset is a single vectorised ``+=``. Overlapping windows (stride < kernel size)
are handled correctly because the offsets are added one after the other.

Max pooling. Element (kh, kw) of every pooling window at once is again one strided slice of the
input, so the window maxima are an elementwise maximum over the pool_height*pool_width slices,
computed while remembering which offset won (the argmax, needed by the backward pass). When the
windows tile the input exactly (pool_height == pool_width == stride and the input size divisible by
it: the "reshape" method) a reshape splits each spatial axis into (window, offset inside the
window), and the backward pass simply writes every input element once. Otherwise (overlapping
windows, or a border that no window covers: the "im2col" method) the backward pass adds the
gradients offset by offset, like col2im.

Ties in max pooling: the gradient goes to the *first* maximal element of each window (row-major
order inside the window), the same element ``np.argmax`` picks.

All functions keep the dtype of their inputs (float32 in, float32 out).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


###############################################################################
# Convolution                                                                 #
###############################################################################


def _conv_output_size(H, W, HH, WW, stride, pad):
    """Spatial size (H_out, W_out) of a convolution (or pooling) output."""
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    if H_out <= 0 or W_out <= 0:
        raise ValueError("kernel (%d, %d) larger than padded input (%d, %d)"
                         % (HH, WW, H + 2 * pad, W + 2 * pad))
    return H_out, W_out


def _im2col(x_pad, HH, WW, stride, H_out, W_out):
    """Lay the receptive fields of every output position out as columns.

    Inputs:
    - x_pad: Padded input of shape (N, C, Hp, Wp)
    - HH, WW: Kernel height and width
    - stride: Distance between neighbouring windows
    - H_out, W_out: Output size (the number of windows along each axis)

    Returns:
    - cols: Array of shape (N, C*HH*WW, H_out*W_out) (a fresh, contiguous copy), where
      cols[n, (c*HH + kh)*WW + kw, i*W_out + j] = x_pad[n, c, i*stride + kh, j*stride + kw]
    """
    N, C = x_pad.shape[:2]
    # windows: (N, C, Hp-HH+1, Wp-WW+1, HH, WW) view; keep every stride-th window.
    windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :H_out, :W_out]
    # (N, C, HH, WW, H_out, W_out): copying this view is the only real work of im2col.
    windows = windows.transpose(0, 1, 4, 5, 2, 3)
    return windows.reshape(N, C * HH * WW, H_out * W_out)


def _col2im(dcols, x_pad_shape, HH, WW, stride, H_out, W_out):
    """Adjoint of _im2col: add every column entry back onto the input pixel it came from.

    Inputs:
    - dcols: Array of shape (N, C*HH*WW, H_out*W_out), laid out like the output of _im2col
    - x_pad_shape: Shape (N, C, Hp, Wp) of the padded input
    - HH, WW, stride, H_out, W_out: As for _im2col

    Returns:
    - dx_pad: Array of shape (N, C, Hp, Wp); pixels covered by several windows get the sum.
    """
    N, C, Hp, Wp = x_pad_shape
    dcols = dcols.reshape(N, C, HH, WW, H_out, W_out)
    dx_pad = np.zeros(x_pad_shape, dtype=dcols.dtype)
    h_span = stride * (H_out - 1) + 1
    w_span = stride * (W_out - 1) + 1
    for kh in range(HH):
        for kw in range(WW):
            # All windows' (kh, kw) entries land on one strided slice of the input.
            dx_pad[:, :, kh:kh + h_span:stride, kw:kw + w_span:stride] += dcols[:, :, kh, kw]
    return dx_pad


def conv_forward_strides(x, w, b, conv_param):
    """A fast implementation of the forward pass for a convolutional layer.

    Same interface and results as conv_forward_naive.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - w: Filter weights of shape (F, C, HH, WW)
    - b: Biases, of shape (F,)
    - conv_param: A dictionary with the following keys:
      - 'stride': The number of pixels between adjacent receptive fields in the
        horizontal and vertical directions.
      - 'pad': The number of pixels that will be used to zero-pad the input.

    Returns a tuple of:
    - out: Output data, of shape (N, F, H', W') where H' and W' are given by
      H' = 1 + (H + 2 * pad - HH) // stride
      W' = 1 + (W + 2 * pad - WW) // stride
      and of the dtype of x and w (float32 inputs give a float32 output)
    - cache: (x, w, b, conv_param, x_cols) where x_cols is the im2col matrix
      of shape (N, C*HH*WW, H'*W')
    """
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError("x has %d channels but w expects %d" % (C, Cw))
    stride, pad = conv_param.get("stride", 1), conv_param.get("pad", 0)
    H_out, W_out = _conv_output_size(H, W, HH, WW, stride, pad)

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant") if pad else x
    x_cols = _im2col(x_pad, HH, WW, stride, H_out, W_out)       # (N, K, P), K = C*HH*WW, P = H'*W'

    # One GEMM per image, batched by matmul: (F, K) @ (N, K, P) -> (N, F, P), already in NCHW order.
    out = np.matmul(w.reshape(F, -1), x_cols)
    out += b.reshape(1, F, 1).astype(out.dtype, copy=False)
    out = out.reshape(N, F, H_out, W_out)

    cache = (x, w, b, conv_param, x_cols)
    return out, cache


def conv_backward_strides(dout, cache):
    """A fast implementation of the backward pass for a convolutional layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: The cache returned by conv_forward_strides (or conv_forward_fast)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    - dw: Gradient with respect to w, of shape (F, C, HH, WW)
    - db: Gradient with respect to b, of shape (F,)
    """
    x, w, b, conv_param, x_cols = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param.get("stride", 1), conv_param.get("pad", 0)
    _, _, H_out, W_out = dout.shape

    dout_mat = dout.reshape(N, F, H_out * W_out)                # (N, F, P)
    db = dout.sum(axis=(0, 2, 3))
    # dw = sum_n dout[n] @ cols[n].T: (N, F, P) @ (N, P, K) -> (N, F, K), summed over the batch.
    dw = np.matmul(dout_mat, x_cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    # dcols = W.T @ dout[n]: (K, F) @ (N, F, P) -> (N, K, P).
    dx_cols = np.matmul(w.reshape(F, -1).T, dout_mat)

    x_pad_shape = (N, C, H + 2 * pad, W + 2 * pad)
    dx_pad = _col2im(dx_cols, x_pad_shape, HH, WW, stride, H_out, W_out)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    if pad:
        dx = np.ascontiguousarray(dx)
    return dx, dw, db


# The classic names of the same layer. (The original im2col implementation needed a compiled
# extension; this one does not, so the two names share one implementation.)
conv_forward_im2col = conv_forward_strides
conv_backward_im2col = conv_backward_strides
conv_forward_fast = conv_forward_strides
conv_backward_fast = conv_backward_strides


###############################################################################
# Max pooling                                                                 #
###############################################################################


def _pool_params(pool_param):
    """(pool_height, pool_width, stride) from a pool_param dict."""
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    return ph, pw, pool_param.get("stride", ph)


def max_pool_forward_fast(x, pool_param):
    """A fast implementation of the forward pass for a max-pooling layer.

    Uses the reshape method when the pooling windows tile the input exactly (square windows,
    stride equal to the window size, input size divisible by it), and the im2col method otherwise.

    Inputs:
    - x: Input data, of shape (N, C, H, W)
    - pool_param: dictionary with the following keys:
      - 'pool_height': The height of each pooling region
      - 'pool_width': The width of each pooling region
      - 'stride': The distance between adjacent pooling regions

    Returns a tuple of:
    - out: Output data, of shape (N, C, H', W') where H' = 1 + (H - pool_height) // stride
      and W' = 1 + (W - pool_width) // stride
    - cache: ('reshape' or 'im2col', the cache of that method)
    """
    N, C, H, W = x.shape
    ph, pw, stride = _pool_params(pool_param)
    tiles = ph == pw == stride and H % ph == 0 and W % pw == 0
    if tiles:
        out, reshape_cache = max_pool_forward_reshape(x, pool_param)
        cache = ("reshape", reshape_cache)
    else:
        out, im2col_cache = max_pool_forward_im2col(x, pool_param)
        cache = ("im2col", im2col_cache)
    return out, cache


def max_pool_backward_fast(dout, cache):
    """A fast implementation of the backward pass for a max-pooling layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: The cache returned by max_pool_forward_fast

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    """
    method, real_cache = cache
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    if method == "im2col":
        return max_pool_backward_im2col(dout, real_cache)
    raise ValueError('Unrecognized method "%s"' % method)


def _window_offset_slices(H_out, W_out, ph, pw, stride):
    """For each offset (kh, kw) inside a pooling window, in row-major order, the index that picks
    that element of every window at once: x[idx] has shape (N, C, H_out, W_out)."""
    h_span = stride * (H_out - 1) + 1
    w_span = stride * (W_out - 1) + 1
    return [(Ellipsis, slice(kh, kh + h_span, stride), slice(kw, kw + w_span, stride))
            for kh in range(ph) for kw in range(pw)]


def _max_and_argmax(candidates):
    """Elementwise maximum of a list of equally shaped arrays, and the index of the first
    array that attains it (the same tie-break as np.argmax).

    Inputs:
    - candidates: list of K arrays of shape (N, C, H', W'); candidates[k] holds element k
      (row-major offset inside the window) of every pooling window

    Returns a tuple of:
    - out: Array of shape (N, C, H', W'), the window maxima
    - argmax: Integer array of shape (N, C, H', W') with values in 0 .. K-1
    """
    index_dtype = np.uint8 if len(candidates) <= 256 else np.intp
    out = np.array(candidates[0], copy=True)
    argmax = np.zeros(out.shape, dtype=index_dtype)
    for k, candidate in enumerate(candidates[1:], start=1):
        # Strictly greater: on ties the earlier offset wins.
        greater = candidate > out
        np.maximum(out, candidate, out=out)
        # Where candidate k is greater the new index is k, elsewhere the old one stays. Every
        # earlier index is < k, so this "select" is just a maximum (much faster than a masked copy).
        np.maximum(argmax, greater.astype(index_dtype) * index_dtype(k), out=argmax)
    return out, argmax


def max_pool_forward_reshape(x, pool_param):
    """Max pooling for windows that tile the input exactly, using a reshape (no window copy).

    Inputs: as max_pool_forward_fast; requires pool_height == pool_width == stride and
    H, W divisible by it.

    Returns a tuple of:
    - out: Output data, of shape (N, C, H // stride, W // stride)
    - cache: (x_shape, pool_param, argmax) where argmax, of shape (N, C, H', W'), is the
      row-major index (0 .. pool_height*pool_width - 1) of the maximum inside each window
    """
    N, C, H, W = x.shape
    ph, pw, stride = _pool_params(pool_param)
    if not (ph == pw == stride and H % ph == 0 and W % pw == 0):
        raise ValueError("invalid pool params for the reshape method")
    H_out, W_out = H // ph, W // pw

    # x_blocks[n, c, i, kh, j, kw] = x[n, c, i*ph + kh, j*pw + kw]: a view, nothing is copied.
    x_blocks = x.reshape(N, C, H_out, ph, W_out, pw)
    candidates = [x_blocks[:, :, :, kh, :, kw] for kh in range(ph) for kw in range(pw)]
    out, argmax = _max_and_argmax(candidates)

    cache = (x.shape, pool_param, argmax)
    return out, cache


def max_pool_backward_reshape(dout, cache):
    """Backward pass of max_pool_forward_reshape.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: The cache returned by max_pool_forward_reshape

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W); each window's gradient goes to
      its (first) maximal element, all other elements get zero.
    """
    x_shape, pool_param, argmax = cache
    N, C, H, W = x_shape
    ph, pw, _ = _pool_params(pool_param)
    H_out, W_out = argmax.shape[2:]

    dx = np.empty(x_shape, dtype=dout.dtype)
    dx_blocks = dx.reshape(N, C, H_out, ph, W_out, pw)          # a view of dx
    for kh in range(ph):
        for kw in range(pw):
            # The windows do not overlap, so every element of dx is written exactly once:
            # dout where the window's maximum is at (kh, kw), zero elsewhere.
            np.multiply(dout, argmax == kh * pw + kw, out=dx_blocks[:, :, :, kh, :, kw])
    return dx


def max_pool_forward_im2col(x, pool_param):
    """Max pooling for any window size and stride (windows may overlap or leave a border).

    Inputs: as max_pool_forward_fast.

    Returns a tuple of:
    - out: Output data, of shape (N, C, H', W') with H' = 1 + (H - pool_height) // stride
      and W' = 1 + (W - pool_width) // stride
    - cache: (x_shape, pool_param, argmax) with argmax of shape (N, C, H', W') as in
      max_pool_forward_reshape
    """
    N, C, H, W = x.shape
    ph, pw, stride = _pool_params(pool_param)
    H_out, W_out = _conv_output_size(H, W, ph, pw, stride, 0)

    # Element (kh, kw) of every window is one strided slice of x (a view, no copy).
    candidates = [x[idx] for idx in _window_offset_slices(H_out, W_out, ph, pw, stride)]
    out, argmax = _max_and_argmax(candidates)

    cache = (x.shape, pool_param, argmax)
    return out, cache


def max_pool_backward_im2col(dout, cache):
    """Backward pass of max_pool_forward_im2col.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: The cache returned by max_pool_forward_im2col

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W). An element that is the maximum
      of several (overlapping) windows receives the sum of their gradients.
    """
    x_shape, pool_param, argmax = cache
    ph, pw, stride = _pool_params(pool_param)
    H_out, W_out = argmax.shape[2:]

    dx = np.zeros(x_shape, dtype=dout.dtype)
    for k, idx in enumerate(_window_offset_slices(H_out, W_out, ph, pw, stride)):
        # Windows whose maximum sits at offset k send their gradient to one strided slice;
        # with overlapping windows the slices overlap too, and += adds them up.
        dx[idx] += dout * (argmax == k)
    return dx

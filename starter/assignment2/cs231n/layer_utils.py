""""Sandwich" layers: common sequences of layers as one forward and one backward function.

Each forward function returns ``(out, cache)`` and each backward function takes ``(dout, cache)``,
like the single layers of ``layers.py``.
"""
from .layers import *  # noqa: F401,F403
from .layers import (affine_backward, affine_forward, batchnorm_backward_alt, batchnorm_forward,
                     dropout_backward, dropout_forward, layernorm_backward, layernorm_forward,
                     relu_backward, relu_forward, spatial_batchnorm_backward,
                     spatial_batchnorm_forward)


def _fast_layers():
    """The fast convolution/pooling module, imported on first use by the conv sandwiches."""
    from . import fast_layers

    return fast_layers


def affine_relu_forward(x, w, b):
    """Convenience layer that performs an affine transform followed by a ReLU.

    Inputs:
    - x: Input to the affine layer, of shape (N, d_1, ..., d_k)
    - w: Weights of the affine layer, of shape (D, M) with D = d_1 * ... * d_k
    - b: Biases of the affine layer, of shape (M,)

    Returns a tuple of:
    - out: Output from the ReLU, of shape (N, M)
    - cache: Object to give to the backward pass
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    """Backward pass for the affine-relu convenience layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M)
    - cache: Cache from affine_relu_forward

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, d_1, ..., d_k)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


def norm_relu_dropout_forward(a, gamma, beta, bn_param, normalization, dropout, do_param):
    """[batch/layer norm] - ReLU - [dropout]: the part of a FullyConnectedNet hidden layer after
    its affine transform.

    Inputs:
    - a: Output of the affine layer, of shape (N, M)
    - gamma, beta: Scale and shift (M,) of the normalization layer (unused without normalization)
    - bn_param: Parameter dictionary of the normalization layer (bn_param or ln_param)
    - normalization: None, 'batchnorm' or 'layernorm'
    - dropout: Whether to apply dropout after the ReLU (a bool)
    - do_param: Dropout parameter dictionary (see dropout_forward)

    Returns a tuple of:
    - out: Output of shape (N, M)
    - cache: Object to give to norm_relu_dropout_backward
    """
    norm_cache, do_cache = None, None
    if normalization == "batchnorm":
        a, norm_cache = batchnorm_forward(a, gamma, beta, bn_param)
    elif normalization == "layernorm":
        a, norm_cache = layernorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(a)
    if dropout:
        out, do_cache = dropout_forward(out, do_param)
    cache = (norm_cache, relu_cache, do_cache, normalization, dropout)
    return out, cache


def norm_relu_dropout_backward(dout, cache):
    """Backward pass for norm_relu_dropout_forward.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M)
    - cache: Cache from norm_relu_dropout_forward

    Returns a tuple of:
    - da: Gradient with respect to the input a, of shape (N, M)
    - dgamma, dbeta: Gradients with respect to gamma and beta, of shape (M,); None without
      normalization
    """
    norm_cache, relu_cache, do_cache, normalization, dropout = cache
    dgamma, dbeta = None, None
    if dropout:
        dout = dropout_backward(dout, do_cache)
    da = relu_backward(dout, relu_cache)
    if normalization == "batchnorm":
        da, dgamma, dbeta = batchnorm_backward_alt(da, norm_cache)
    elif normalization == "layernorm":
        da, dgamma, dbeta = layernorm_backward(da, norm_cache)
    return da, dgamma, dbeta


def affine_norm_relu_forward(x, w, b, gamma, beta, bn_param, normalization, dropout, do_param):
    """Affine - [batch/layer norm] - ReLU - [dropout], the hidden layer of FullyConnectedNet.

    Inputs:
    - x: Input, of shape (N, d_1, ..., d_k)
    - w, b: Weights (D, M) and biases (M,) of the affine layer
    - gamma, beta, bn_param, normalization, dropout, do_param: as in norm_relu_dropout_forward

    Returns a tuple of:
    - out: Output of shape (N, M)
    - cache: (affine cache, norm_relu_dropout cache), for affine_norm_relu_backward
    """
    a, fc_cache = affine_forward(x, w, b)
    out, nrd_cache = norm_relu_dropout_forward(a, gamma, beta, bn_param, normalization, dropout,
                                               do_param)
    cache = (fc_cache, nrd_cache)
    return out, cache


def affine_norm_relu_backward(dout, cache):
    """Backward pass for affine_norm_relu_forward.

    Inputs:
    - dout: Upstream derivatives, of shape (N, M)
    - cache: Cache from affine_norm_relu_forward

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, d_1, ..., d_k)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    - dgamma, dbeta: Gradients with respect to gamma and beta, of shape (M,); None without
      normalization
    """
    fc_cache, nrd_cache = cache
    da, dgamma, dbeta = norm_relu_dropout_backward(dout, nrd_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_forward(x, w, b, conv_param):
    """A convenience layer that performs a convolution followed by a ReLU.

    Inputs:
    - x: Input to the convolutional layer, of shape (N, C, H, W)
    - w: Filter weights, of shape (F, C, HH, WW)
    - b: Biases, of shape (F,)
    - conv_param: {'stride': ..., 'pad': ...}

    Returns a tuple of:
    - out: Output from the ReLU, of shape (N, F, H', W')
    - cache: Object to give to the backward pass
    """
    a, conv_cache = _fast_layers().conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    cache = (conv_cache, relu_cache)
    return out, cache


def conv_relu_backward(dout, cache):
    """Backward pass for the conv-relu convenience layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: Cache from conv_relu_forward

    Returns a tuple of:
    - dx: of shape (N, C, H, W); dw: of shape (F, C, HH, WW); db: of shape (F,)
    """
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = _fast_layers().conv_backward_fast(da, conv_cache)
    return dx, dw, db


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Convolution, spatial batch normalization and ReLU.

    Inputs:
    - x: Input, of shape (N, C, H, W)
    - w, b: Filter weights (F, C, HH, WW) and biases (F,)
    - gamma, beta: Scale and shift, of shape (F,)
    - conv_param, bn_param: Parameter dictionaries of the conv and spatial batchnorm layers

    Returns a tuple of:
    - out: Output, of shape (N, F, H', W')
    - cache: Object to give to the backward pass
    """
    a, conv_cache = _fast_layers().conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    cache = (conv_cache, bn_cache, relu_cache)
    return out, cache


def conv_bn_relu_backward(dout, cache):
    """Backward pass for the conv-bn-relu convenience layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: Cache from conv_bn_relu_forward

    Returns a tuple of:
    - dx: of shape (N, C, H, W); dw: (F, C, HH, WW); db: (F,); dgamma: (F,); dbeta: (F,)
    """
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)
    dx, dw, db = _fast_layers().conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convenience layer that performs a convolution, a ReLU, and a pool.

    Inputs:
    - x: Input to the convolutional layer, of shape (N, C, H, W)
    - w, b, conv_param: Weights (F, C, HH, WW), biases (F,) and parameters of the conv layer
    - pool_param: Parameters for the pooling layer

    Returns a tuple of:
    - out: Output from the pooling layer, of shape (N, F, H'', W'')
    - cache: Object to give to the backward pass
    """
    fast = _fast_layers()
    a, conv_cache = fast.conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = fast.max_pool_forward_fast(s, pool_param)
    cache = (conv_cache, relu_cache, pool_cache)
    return out, cache


def conv_relu_pool_backward(dout, cache):
    """Backward pass for the conv-relu-pool convenience layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H'', W'')
    - cache: Cache from conv_relu_pool_forward

    Returns a tuple of:
    - dx: of shape (N, C, H, W); dw: of shape (F, C, HH, WW); db: of shape (F,)
    """
    fast = _fast_layers()
    conv_cache, relu_cache, pool_cache = cache
    ds = fast.max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    dx, dw, db = fast.conv_backward_fast(da, conv_cache)
    return dx, dw, db

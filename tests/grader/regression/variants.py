"""Broken variants of assignment 2's solutions: one realistic student mistake each.

Used by ``make_baseline.py`` (which grades them with a given checkout of the grader and writes
``baseline.json``) and by ``tests/grader/test_regression_unchanged.py`` (which grades them again with the
current tree and compares every test's score and status with the baseline).

Each variant is a declarative record, applied to a copy of the solutions folder (``cs231n/`` and
``best_model.npz``; the notebooks and ``__pycache__`` are left out) by ``build_variant``:

- ``old`` -> ``new``: an exact text substitution in ``path``; ``old`` must occur exactly once in the
  solution file (``build_variant`` refuses otherwise, so a variant never silently stops applying);
- ``delete=True``: ``path`` is removed (a missing graded file, a missing best_model.npz);
- ``truncate=n``: ``path`` is cut to its first ``n`` bytes (a binary file broken in transit).

``path`` is relative to the submission folder (``cs231n/layers.py``, ``best_model.npz``).
``right=True`` marks a variant that is correct after all (equal values in another shape, which the grader
now accepts with a note): it must score full marks. ``question`` is the question the mistake is aimed at (points may be lost elsewhere too: a broken layer
also breaks the networks built from it).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

COPIED = ("cs231n", "best_model.npz")          # what a variant keeps of the solutions folder
LAYERS = "cs231n/layers.py"
LAYER_UTILS = "cs231n/layer_utils.py"
OPTIM = "cs231n/optim.py"
FC_NET = "cs231n/classifiers/fc_net.py"
CNN = "cs231n/classifiers/cnn.py"


@dataclass(frozen=True)
class Variant:
    name: str
    question: str
    path: str
    old: str | None = None
    new: str | None = None
    delete: bool = False
    truncate: int | None = None
    why: str = ""
    right: bool = False

    def __post_init__(self):
        kinds = [self.old is not None, self.delete, self.truncate is not None]
        if sum(kinds) != 1 or (self.old is None) != (self.new is None):
            raise ValueError(f"variant {self.name}: exactly one of old/new, delete or truncate")
        if self.old is not None and self.old == self.new:
            raise ValueError(f"variant {self.name}: old and new are the same")


VARIANTS: tuple[Variant, ...] = (
    # ---------------------------------------------------------------- Q1 fully-connected layers, losses
    Variant("q1_affine_forward_no_bias", "Q1", LAYERS,
            "    out = x.reshape(x.shape[0], -1) @ w + b\n",
            "    out = x.reshape(x.shape[0], -1) @ w\n",
            why="forgets the bias"),
    Variant("q1_affine_backward_dw_transposed", "Q1", LAYERS,
            "    dw = x.reshape(x.shape[0], -1).T @ dout\n",
            "    dw = dout.T @ x.reshape(x.shape[0], -1)\n",
            why="transposed product: dw of shape (M, D)"),
    Variant("q1_relu_backward_masks_dout", "Q1", LAYERS,
            "    dx = dout * (x > 0)\n",
            "    dx = dout * (dout > 0)\n",
            why="masks with the sign of the upstream gradient instead of the input"),
    Variant("q1_leaky_relu_backward_drops_dout", "Q1", LAYERS,
            "    dx = np.where(x > 0, dout, alpha * dout)\n",
            "    dx = np.where(x > 0, dout, alpha)\n",
            why="local slope only on the negative side"),
    Variant("q1_softmax_no_max_shift", "Q1", LAYERS,
            "    shifted = x - x.max(axis=1, keepdims=True)",
            "    shifted = x + 0 * x.max(axis=1, keepdims=True)",
            why="no shift by the row maximum: overflows on large scores"),
    Variant("q1_softmax_grad_not_averaged", "Q1", LAYERS,
            "    dx[rows, y] -= 1\n    dx /= N\n",
            "    dx[rows, y] -= 1\n",
            why="loss averaged over N, gradient not"),
    Variant("q1_svm_counts_correct_class", "Q1", LAYERS,
            "    margins[rows, y] = 0\n",
            "",
            why="the correct class's own margin (1) is counted"),
    # ---------------------------------------------------------------- Q2 TwoLayerNet
    Variant("q2_two_layer_reg_no_half", "Q2", FC_NET,
            "loss = data_loss + 0.5 * self.reg * float(np.sum(W1 * W1) + np.sum(W2 * W2))",
            "loss = data_loss + self.reg * float(np.sum(W1 * W1) + np.sum(W2 * W2))",
            why="L2 term without the factor 0.5 (the gradient keeps it)"),
    Variant("q2_two_layer_init_transposed", "Q2", FC_NET,
            'self.params["W%d" % (i + 1)] = std * np.random.randn(dims[i], dims[i + 1])',
            'self.params["W%d" % (i + 1)] = std * np.random.randn(dims[i + 1], dims[i])',
            why="weights of shape (out, in)"),
    # ---------------------------------------------------------------- Q3 FullyConnectedNet
    Variant("q3_fc_net_no_output_layer", "Q3", FC_NET,
            "        for i in range(self.num_layers):\n",
            "        for i in range(self.num_layers - 1):\n",
            why="off by one: the output layer gets no parameters"),
    Variant("q3_fc_net_reg_grad_missing", "Q3", FC_NET,
            '                grads["W%d" % i] += self.reg * W\n',
            "",
            why="regularization added to the loss but not to the gradients"),
    # ---------------------------------------------------------------- Q4 update rules
    Variant("q4_momentum_wrong_sign", "Q4", OPTIM,
            '    v = config["momentum"] * v - config["learning_rate"] * dw\n',
            '    v = config["momentum"] * v + config["learning_rate"] * dw\n',
            why="climbs the gradient"),
    Variant("q4_rmsprop_no_sqrt", "Q4", OPTIM,
            '(1 - decay) * (dw * dw)\n    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])',
            '(1 - decay) * (dw * dw)\n    next_w = w - config["learning_rate"] * dw / (cache + config["epsilon"])',
            why="divides by the mean square instead of its root"),
    Variant("q4_adam_t_not_incremented", "Q4", OPTIM,
            '    t = config["t"] + 1\n',
            '    t = config["t"]\n',
            why="t used before it is incremented"),
    # ---------------------------------------------------------------- Q5 batch / layer normalization
    Variant("q5_bn_momentum_swapped", "Q5", LAYERS,
            "        running_mean = momentum * running_mean + (1 - momentum) * mean\n",
            "        running_mean = (1 - momentum) * running_mean + momentum * mean\n",
            why="momentum on the wrong side of the running mean"),
    Variant("q5_bn_test_uses_batch_stats", "Q5", LAYERS,
            "        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta\n",
            "        out = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta\n",
            why="test mode normalizes with the batch's statistics"),
    Variant("q5_bn_backward_drops_mean_path", "Q5", LAYERS,
            "    dx = dxc + dmean / N                                # mean = sum(x) / N\n",
            "    dx = dxc\n",
            why="the gradient through the mean is left out"),
    Variant("q5_bn_backward_alt_drops_xhat_term", "Q5", LAYERS,
            "(dout - dbeta / dout.shape[0] - x_hat * (dgamma / dout.shape[0]))",
            "(dout - dbeta / dout.shape[0])",
            why="the variance's term of the closed form is missing"),
    Variant("q5_layernorm_mean_wrong_axis", "Q5", LAYERS,
            "    mean = x.mean(axis=1, keepdims=True)                # (N, 1)\n",
            "    mean = x.mean(axis=0, keepdims=True)                # (N, 1)\n",
            why="the batch's mean instead of each example's"),
    Variant("q5_fc_net_shared_bn_param", "Q5", FC_NET,
            "bn_param = self.bn_params[i - 1] if self.bn_params else None",
            "bn_param = self.bn_params[0] if self.bn_params else None",
            why="every layer shares the first layer's running statistics"),
    # ---------------------------------------------------------------- Q6 dropout
    Variant("q6_dropout_not_inverted", "Q6", LAYERS,
            "        mask = keep.astype(x.dtype) / x.dtype.type(p)\n",
            "        mask = keep.astype(x.dtype)\n",
            why="kept units are not scaled by 1 / p"),
    Variant("q6_dropout_backward_unscaled", "Q6", LAYERS,
            "        dx = dout * mask\n",
            "        dx = dout * (mask > 0)\n",
            why="backward uses the 0/1 mask, not the scaled one"),
    # ---------------------------------------------------------------- Q7 best model
    Variant("q7_best_model_missing", "Q7", "best_model.npz", delete=True,
            why="best_model.npz not included"),
    Variant("q7_best_model_truncated", "Q7", "best_model.npz", truncate=4096,
            why="best_model.npz cut short (interrupted copy)"),
    # ---------------------------------------------------------------- Q8 convolutional networks
    Variant("q8_conv_forward_ignores_stride", "Q8", LAYERS,
            "            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]\n",
            "            window = x_pad[:, :, i:i + HH, j:j + WW]\n",
            why="windows move by one pixel whatever the stride"),
    Variant("q8_conv_backward_dw_overwritten", "Q8", LAYERS,
            "            dw += np.tensordot(d, x_pad[:, :, rows, cols], axes=([0], [0]))\n",
            "            dw = np.tensordot(d, x_pad[:, :, rows, cols], axes=([0], [0]))\n",
            why="= instead of +=: only the last window's contribution"),
    Variant("q8_max_pool_backward_no_offset", "Q8", LAYERS,
            "            dx[n_idx, c_idx, i * stride + r, j * stride + c] += dout[:, :, i, j]\n",
            "            dx[n_idx, c_idx, r, c] += dout[:, :, i, j]\n",
            why="argmax position taken relative to the window, not the image"),
    Variant("q8_spatial_bn_reshape_without_transpose", "Q8", LAYERS,
            "    x_rows = x.transpose(0, 2, 3, 1).reshape(-1, C)    # (N*H*W, C)\n",
            "    x_rows = x.reshape(-1, C)    # (N*H*W, C)\n",
            why="reshape without moving the channels last"),
    Variant("q8_groupnorm_dgamma_shape", "Q8", LAYERS,
            "    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)\n",
            "    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))\n",
            why="dgamma of shape (C,) instead of gamma's (1, C, 1, 1): equal values, full marks with a note",
            right=True),
    Variant("q8_cnn_init_ignores_pooling", "Q8", CNN,
            "np.random.randn(num_filters * H_pool * W_pool, hidden_dim)",
            "np.random.randn(num_filters * H * W, hidden_dim)",
            why="hidden layer sized for the unpooled feature map"),
    # ---------------------------------------------------------------- graded files that do not import / are absent
    Variant("optim_syntax_error", "Q4", OPTIM,
            "def adam(w, dw, config=None):\n",
            "def adam(w, dw, config=None)\n",
            why="missing colon: optim.py does not import"),
    Variant("cnn_import_typo", "Q8", CNN,
            "affine_relu_forward, conv_relu_pool_backward, conv_relu_pool_forward,",
            "affine_relu_forward, conv_relu_pool_backwards, conv_relu_pool_forward,",
            why="ImportError: a misspelt name in cnn.py's import"),
    Variant("missing_cnn_py", "Q8", CNN, delete=True,
            why="classifiers/cnn.py not submitted"),
)

BY_NAME = {v.name: v for v in VARIANTS}
if len(BY_NAME) != len(VARIANTS):
    raise ValueError("variant names must be unique")


def copy_solutions(solutions_dir: Path, dest: Path) -> Path:
    """Copy ``cs231n/`` and ``best_model.npz`` of ``solutions_dir`` into ``dest`` (created; must not
    exist or be empty), without ``__pycache__`` or compiled files."""
    solutions_dir, dest = Path(solutions_dir), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(solutions_dir / "cs231n", dest / "cs231n",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))
    if (solutions_dir / "best_model.npz").is_file():
        shutil.copy2(solutions_dir / "best_model.npz", dest / "best_model.npz")
    return dest


def apply_variant(variant: Variant, dest: Path) -> None:
    """Apply ``variant`` to the submission folder ``dest`` (a copy of the solutions)."""
    target = Path(dest) / variant.path
    if not target.is_file():
        raise FileNotFoundError(f"variant {variant.name}: {variant.path} is not in the solutions")
    if variant.delete:
        target.unlink()
    elif variant.truncate is not None:
        data = target.read_bytes()
        if len(data) <= variant.truncate:
            raise ValueError(f"variant {variant.name}: {variant.path} has only {len(data)} bytes")
        target.write_bytes(data[:variant.truncate])
    else:
        text = target.read_text(encoding="utf-8")
        count = text.count(variant.old)
        if count != 1:
            raise ValueError(f"variant {variant.name}: the text to replace occurs {count} times in "
                             f"{variant.path} (expected exactly once): {variant.old!r}")
        target.write_text(text.replace(variant.old, variant.new), encoding="utf-8")


def build_variant(solutions_dir: Path, variant: Variant | str, dest: Path) -> Path:
    """A submission folder at ``dest``: the solutions (``cs231n/`` and ``best_model.npz`` only) with
    ``variant`` (a ``Variant`` or its name) applied. Returns ``dest``."""
    if isinstance(variant, str):
        variant = BY_NAME[variant]
    copy_solutions(solutions_dir, dest)
    apply_variant(variant, dest)
    return Path(dest)

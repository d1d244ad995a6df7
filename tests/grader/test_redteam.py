"""Red-team corpus (H-redteam): what a clever student with the starter and the public notebooks could try,
beyond the hostile corpus of ``test_grader_hostile.py`` (monkeypatching, always-equal objects, hidden files,
exits, kills, loops, memory, fork bombs, disk, network).

Every test asserts the SAFE outcome: no unearned point, a clean failure instead of a grader crash or a
"grader error", bounded feedback, bounded work on the trusted side. Tests that currently fail because the
grader IS vulnerable are marked ``xfail(strict=True, reason="VULN: ...")``: once the grader is fixed they
XPASS, strict mode turns that into a failure, and the mark must be removed.

To keep the run short, one submission carries several independent attacks (each in functions no other
attack uses) and is graded once, in a module-scoped fixture (``grader.pipeline.grade``, the CLI's entry
point, with the real sandbox). Attacks are code APPENDED to a graded file (a later ``def`` wins) of the
starter (which earns nothing by itself) or of the solutions (full marks by themselves).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from support.paths import ROOT, SOLUTIONS, STARTER
from grader.pipeline import grade as grade_all


def grade(submission, **kwargs):
    """The code questions only: the attacks target the code's sandbox (the notebooks have their own tests)."""
    return grade_all(submission, "assignment2", notebooks=False, **kwargs)


pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (ROOT / "reference_outputs" / "assignment2" / "manifest.json").is_file()
    or not (STARTER / "cs231n" / "layers.py").is_file(),
    reason="reference outputs or starter not generated")]

MAX_TEST_OUTPUT = 10_000        # chars of feedback per test (the plugin's caps give ~4 KB)
MAX_TOP_OUTPUT = 50_000         # chars of the top-level output (problems + notes + score table)
MAX_RESULTS_BYTES = 1_000_000   # the whole results.json


# ------------------------------------------------------------------------------------------------ helpers
def make_submission(dest: Path, base: Path, appended: dict[str, str] | None = None,
                    files: dict[str, str | bytes] | None = None) -> Path:
    """Copy ``base`` (STARTER or SOLUTIONS) to ``dest``, append code to files of ``cs231n/`` and write extra
    ``files`` (paths relative to the submission root)."""
    shutil.copytree(base, dest, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", ".ipynb_checkpoints"))
    for rel, code in (appended or {}).items():
        path = dest / "cs231n" / rel
        path.write_text(path.read_text() + "\n\n# ---- appended by test_grader_redteam ----\n"
                        + textwrap.dedent(code))
    for rel, content in (files or {}).items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
    return dest


def result_of(results, name: str):
    return next(t for t in results.tests if t.extra_data["test"] == name)


def score_of(results, name: str) -> float:
    return result_of(results, name).score


def assert_feedback_bounded(results) -> None:
    too_long = [(t.extra_data["test"], len(t.output)) for t in results.tests if len(t.output) > MAX_TEST_OUTPUT]
    assert not too_long, f"feedback longer than {MAX_TEST_OUTPUT} chars: {too_long[:5]}"
    assert len(results.output) <= MAX_TOP_OUTPUT, f"top-level output of {len(results.output)} chars"
    # Measured without Results.write, which a lone surrogate breaks (a separate test).
    size = len(json.dumps(results.model_dump(), default=str))
    assert size <= MAX_RESULTS_BYTES, f"results.json of about {size} bytes"


def encode_array(a: np.ndarray) -> tuple[str, tuple]:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode(), tuple(a.shape)


# Finds the worker's protocol channel and the request being served, and answers it with a forged error
# whose exception type is one million characters long (the worker caps it at 200; the trusted side must
# not rely on that, the student owns the worker process). Then the worker exits.
FORGE = '''
def _forge_error():
    import gc, os, sys
    chan = next(o for o in gc.get_objects() if type(o).__name__ == "Channel" and hasattr(o, "wfd"))
    f = sys._getframe()
    while f is not None and not isinstance(f.f_locals.get("req"), dict):
        f = f.f_back
    seq = f.f_locals["req"]["seq"]
    chan.send({"seq": seq, "out": "", "error": {"kind": "student", "type": "T" * 1_000_000,
                                                "message": "forged", "traceback": ""}})
    os._exit(0)
'''


# ------------------------------------------------------------------------------------------------ G1
# The starter with independent attacks on layers.py and classifiers/fc_net.py.
LEAK_CONV = '''
import base64 as _b64
_CHUNKS, _SENT = [], [0]
def conv_forward_naive(x, w, b, conv_param):
    return None, (x, w, b, conv_param)
def conv_backward_naive(dout, cache):
    # Not implemented: ship the hidden inputs out through the feedback instead (split over later tests).
    x, w, b, cp = cache
    head = ";".join(",".join(map(str, np.shape(a))) for a in (x, w, b, dout)) + ";%d,%d" % (cp["stride"], cp["pad"])
    blob = _b64.b64encode(np.concatenate([np.ravel(a) for a in (x, w, b, dout)]).astype("<f8").tobytes()).decode()
    _CHUNKS[:] = [blob[i:i + 1500] for i in range(0, len(blob), 1500)]
    raise ValueError("<<H:" + head + ":%d>>" % len(_CHUNKS))
def _leak(*args, **kwargs):
    k = _SENT[0]
    _SENT[0] += 1
    raise ValueError("<<%d:%s>>" % (k, _CHUNKS[k] if k < len(_CHUNKS) else ""))
max_pool_forward_naive = max_pool_backward_naive = _leak
spatial_batchnorm_forward = spatial_batchnorm_backward = _leak
spatial_groupnorm_forward = spatial_groupnorm_backward = _leak
'''

DROPOUT_IDENTITY = '''
def dropout_forward(x, dropout_param):
    return x.copy(), (dropout_param, None)      # no dropout at all, in either mode
def dropout_backward(dout, cache):
    return dout
'''

SURROGATE = '''
def affine_forward(x, w, b):
    raise ValueError("not valid UTF-8: \\udcff")
'''

HARNESS_ERROR = '''
def relu_forward(x):
    import sys
    raise sys.modules["__main__"]._RequestError("raised by the student's relu_forward")
'''

FORGED_CALL = FORGE + '''
def leaky_relu_forward(x, alpha):
    _forge_error()
'''


ODD_LAYERS = '''
def svm_loss(x, y):
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no message for you")
    raise Unprintable()
def softmax_loss(x, y):
    return softmax_loss(x, y)                                    # RecursionError
def batchnorm_forward(x, gamma, beta, bn_param):
    return (i for i in range(3)), None                            # not plain data: stays a Handle
def layernorm_forward(x, gamma, beta, ln_param):
    return np.broadcast_to(np.zeros(1), (10**6, 10**6)), None    # 8 TB once encoded
'''

ODD_OPTIM = '''
def sgd_momentum(w, dw, config=None):
    print("x" * 50_000_000)
    return np.ones(w.shape, dtype=bool), config                  # bool, not a number
def rmsprop(w, dw, config=None):
    return np.array(w, dtype=object), config                     # object array
def adam(w, dw, config=None):
    return {1: w}                                                # dict with a non-str key, not a pair
'''


def pretrained_two_layer_net() -> str:
    """A TwoLayerNet that never trains: its constructor loads weights trained OFFLINE on the training
    check's task (here by the reference, standing in for any correct implementation the student has
    elsewhere) and its loss returns zero gradients, so the Solver leaves them alone."""
    from grader.assignments import load_assignment
    from grader.references import training

    check = load_assignment("assignment2").training_checks["two_layer_net"]
    ref = load_assignment("assignment2").reference()
    state = np.random.get_state()
    try:
        np.random.seed(0)
        model = ref.fc_net.TwoLayerNet(**check.model_kwargs)
        ref.solver.Solver(model, training.sandbox_training_data(), **check.solver_kwargs).train()
    finally:
        np.random.set_state(state)
    table = {k: encode_array(v) for k, v in model.params.items()}
    return f'''
import base64 as _b64
_PRETRAINED = {table!r}
_original_init = TwoLayerNet.__init__
def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self.params = {{k: np.frombuffer(_b64.b64decode(s), "<f8").reshape(shape).copy()
                   for k, (s, shape) in _PRETRAINED.items()}}
def _loss(self, X, y=None):
    if y is None:
        return np.zeros((X.shape[0], 10))
    return 0.0, {{k: np.zeros_like(v) for k, v in self.params.items()}}
TwoLayerNet.__init__, TwoLayerNet.loss = _init, _loss
'''


@pytest.fixture(scope="module")
def starter_attacks(tmp_path_factory):
    sub = make_submission(tmp_path_factory.mktemp("g1") / "submission", STARTER, {
        "layers.py": LEAK_CONV + DROPOUT_IDENTITY + SURROGATE + HARNESS_ERROR + FORGED_CALL + ODD_LAYERS,
        "classifiers/fc_net.py": pretrained_two_layer_net(),
        "optim.py": ODD_OPTIM,
    })
    return grade(sub)


ODD_CASES = {   # test -> a fragment of the feedback it must give
    "test_svm_loss": "could not be printed",
    "test_softmax_loss": "RecursionError",
    "test_batchnorm_forward_train": "not plain data",
    "test_layernorm_forward": "cannot be sent back",
    "test_sgd_momentum": "dtype bool",
    "test_rmsprop": "not plain data",
    "test_adam": "not plain data",
}


def test_odd_exceptions_and_results_fail_cleanly(starter_attacks):
    """Unprintable exceptions, infinite recursion, generators, 8 TB broadcast views, 50 MB of prints, bool and
    object arrays, dicts with int keys: each fails its own test with a short, clear message."""
    errors = {e["test"].split()[-1] for e in starter_attacks.extra_data.grader_errors}
    for name, fragment in ODD_CASES.items():
        t = result_of(starter_attacks, name)
        assert t.score == 0 and name not in errors, name
        assert fragment in t.output and len(t.output) <= MAX_TEST_OUTPUT, (name, t.output[:500])


def test_dropout_backward_needs_a_real_dropout_forward(starter_attacks):
    assert score_of(starter_attacks, "test_dropout_backward") == 0


def test_non_utf8_exception_text_does_not_break_the_results(starter_attacks, tmp_path):
    out = tmp_path / "results.json"
    starter_attacks.write(out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert score_of(starter_attacks, "test_affine_forward") == 0
    assert data["score"] == starter_attacks.score


def test_a_harness_exception_raised_by_student_code_is_not_a_grader_error(starter_attacks):
    errors = [e["test"] for e in starter_attacks.extra_data.grader_errors]
    assert not [e for e in errors if "relu_forward" in e or "relu_backward" in e], errors
    assert "internal grader error" not in result_of(starter_attacks, "test_relu_forward").output
    assert score_of(starter_attacks, "test_relu_forward") == 0


def test_a_forged_error_response_cannot_inflate_the_feedback(starter_attacks):
    assert score_of(starter_attacks, "test_leaky_relu") == 0
    assert_feedback_bounded(starter_attacks)


def test_pretrained_constant_weights_do_not_pass_the_training_check(starter_attacks):
    assert score_of(starter_attacks, "test_two_layer_training") == 0


# ------------------------------------------------------------------------------------------------ G2
def leaked_conv_inputs(results) -> dict[str, np.ndarray] | None:
    """Reassemble the hidden inputs of test_conv_backward from G1's feedback (None: nothing leaked)."""
    text = "\n".join(t.output for t in results.tests)
    head = re.search(r"<<H:([0-9,;]+):(\d+)>>", text)
    if head is None:
        return None
    n = int(head.group(2))
    chunks = dict(re.findall(r"<<(\d+):([A-Za-z0-9+/=]*)>>", text))
    assert all(str(k) in chunks for k in range(n)), "leak incomplete (test order changed? update LEAK_CONV)"
    values = np.frombuffer(base64.b64decode("".join(chunks[str(k)] for k in range(n))), dtype="<f8")
    fields = head.group(1).split(";")
    out, offset = {}, 0
    for name, shape in zip(("x", "w", "b", "dout"), fields[:4]):
        shape = tuple(int(d) for d in shape.split(","))
        size = int(np.prod(shape))
        out[name] = values[offset:offset + size].reshape(shape)
        offset += size
    out["stride"], out["pad"] = (int(v) for v in fields[4].split(","))
    return out


def test_hidden_inputs_leaked_by_one_submission_cannot_be_replayed_by_the_next(starter_attacks, solutions,
                                                                                 tmp_path):
    leaked = leaked_conv_inputs(starter_attacks)
    if leaked is None:
        return   # the inputs did not leak: the attack cannot even start
    layers = solutions("layers")   # stands in for a correct implementation the student has elsewhere
    _, cache = layers.conv_forward_naive(leaked["x"], leaked["w"], leaked["b"],
                                         {"stride": leaked["stride"], "pad": leaked["pad"]})
    answers = [encode_array(a) for a in layers.conv_backward_naive(leaked["dout"], cache)]
    key = hashlib.sha256(np.ascontiguousarray(leaked["x"], dtype="<f8").tobytes()).hexdigest()
    replay = f'''
import base64 as _b64, hashlib as _hashlib
_ANSWERS = {{{key!r}: {answers!r}}}
def conv_forward_naive(x, w, b, conv_param):
    return None, x
def conv_backward_naive(dout, cache):
    key = _hashlib.sha256(np.ascontiguousarray(cache, dtype="<f8").tobytes()).hexdigest()
    return tuple(np.frombuffer(_b64.b64decode(s), "<f8").reshape(shape).copy() for s, shape in _ANSWERS[key])
'''
    results = grade(make_submission(tmp_path / "replay", STARTER, {"layers.py": replay}))
    assert score_of(results, "test_conv_backward") == 0
    assert results.score == 0


# ------------------------------------------------------------------------------------------------ G3
DROPOUT_NOT_DONE = '''
def dropout_forward(x, dropout_param):
    return None, (dropout_param, None)
def dropout_backward(dout, cache):
    return None
'''

HUGE_GRAD_KEYS = '''
_solution_loss = TwoLayerNet.loss
def _loss_with_extra_keys(self, X, y=None):
    out = _solution_loss(self, X, y)
    if y is None:
        return out
    loss, grads = out
    grads = dict(grads)
    for i in range(12):
        grads["extra%02d" % i + "x" * 1_000_000] = 0.0    # echoed by "unexpected key(s) ..."
    return loss, grads
TwoLayerNet.loss = _loss_with_extra_keys
'''


def corrupt_zip_version(npz: bytes) -> bytes:
    """Set "version needed to extract" of the first central-directory entry to 20.0: zipfile.ZipFile raises
    NotImplementedError (not BadZipFile) on opening."""
    data = bytearray(npz)
    i = data.find(b"PK\x01\x02")
    data[i + 6] = 200
    return bytes(data)


@pytest.fixture(scope="module")
def solution_attacks(tmp_path_factory):
    """The solutions without the dropout layer, with a grads dict full of huge extra keys in TwoLayerNet, and
    a best_model.npz with a corrupt zip directory."""
    sub = make_submission(tmp_path_factory.mktemp("g3") / "submission", SOLUTIONS,
                          {"layers.py": DROPOUT_NOT_DONE, "classifiers/fc_net.py": HUGE_GRAD_KEYS})
    model = sub / "best_model.npz"
    if model.is_file():
        model.write_bytes(corrupt_zip_version(model.read_bytes()))
    return grade(sub)


def test_no_dropout_point_without_a_dropout_implementation(solution_attacks):
    earned = [t.extra_data["test"] for t in solution_attacks.tests
              if t.extra_data["question"] == "Q6" and t.score > 0]
    assert earned == []


def test_unexpected_keys_cannot_inflate_the_feedback(solution_attacks):
    assert "unexpected key" in result_of(solution_attacks, "test_two_layer_loss").output
    assert_feedback_bounded(solution_attacks)


@pytest.mark.skipif(not (SOLUTIONS / "best_model.npz").is_file(), reason="solutions/best_model.npz not built")
def test_a_corrupt_best_model_is_the_students_failure_not_a_grader_error(solution_attacks):
    q7 = [t for t in solution_attacks.tests if t.extra_data["question"] == "Q7"]
    assert all(t.score == 0 for t in q7)
    assert solution_attacks.extra_data.grader_errors == []
    assert all("best_model.npz" in t.output for t in q7), [t.output[:200] for t in q7]


# ------------------------------------------------------------------------------------------------ G4, G5, G6
def test_a_forged_import_error_cannot_inflate_the_feedback(tmp_path):
    results = grade(make_submission(tmp_path / "sub", STARTER, {"layers.py": FORGE + "\n_forge_error()\n"}))
    assert results.score == 0
    assert_feedback_bounded(results)


def test_a_harness_exception_at_import_is_graded_as_a_broken_file(tmp_path):
    sub = make_submission(tmp_path / "sub", STARTER, {"layers.py": '''
        import sys
        raise sys.modules["codec"].CodecError("raised by the student's layers.py")
        '''})
    results = grade(sub)
    assert results.score == 0
    assert results.extra_data.grader_errors == []
    assert "could not be imported" in results.output


def test_a_non_utf8_folder_name_does_not_break_the_results(tmp_path):
    archive = tmp_path / "submission.tar"
    with tarfile.open(archive, "w", encoding="utf-8", errors="surrogateescape") as tf:
        for path in sorted((STARTER / "cs231n").rglob("*.py")):
            tf.add(path, arcname="hw\udcff/" + path.relative_to(STARTER).as_posix())
    results = grade(archive)
    out = tmp_path / "results.json"
    results.write(out)
    assert json.loads(out.read_text(encoding="utf-8"))["score"] == 0


# ------------------------------------------------------------------------------------------------ G7 (safe)
SHADOW = "raise SystemExit('SHADOW: {} was imported')\n"

TAMPER_AND_RESTART = '''
import os as _os
for _rel in ("classifiers/cnn.py", "optim.py", "__init__.py"):
    try:   # the package is read-only in the sandbox; a later worker must see the original files
        with open(_os.path.join(_os.path.dirname(__file__), _rel), "w") as _f:
            _f.write("raise ImportError('TAMPERED')\\n")
    except OSError:
        pass
_solution_conv_forward = conv_forward_naive
def conv_forward_naive(x, w, b, conv_param):
    if conv_param.get("stride") == 2:      # only test_conv_forward's first call: force a fresh worker
        _os._exit(0)
    return _solution_conv_forward(x, w, b, conv_param)
'''

FAKE_DROPOUT_WITH_OFFSET = '''
_solution_init, _solution_fc_loss = FullyConnectedNet.__init__, FullyConnectedNet.loss
def _init_without_dropout(self, *args, **kwargs):
    _solution_init(self, *args, **kwargs)
    self._claims_dropout, self.use_dropout = self.use_dropout, False
def _loss_with_offset(self, X, y=None):
    out = _solution_fc_loss(self, X, y)
    if y is not None and getattr(self, "_claims_dropout", False):
        return out[0] + 0.01, out[1]      # "differs from the loss without dropout"; gradients unchanged
    return out
FullyConnectedNet.__init__, FullyConnectedNet.loss = _init_without_dropout, _loss_with_offset
'''


@pytest.fixture(scope="module")
def shadow_attacks(tmp_path_factory):
    """The solutions plus: files that would shadow numpy or run at interpreter start if they reached the
    sandbox, edited provided files, writes into the package followed by a worker restart, and a net that
    fakes dropout with a constant loss offset."""
    files = {name: SHADOW.format(name) for name in (
        "sitecustomize.py", "usercustomize.py", "numpy/__init__.py", "cs231n/sitecustomize.py",
        "cs231n/numpy.py", "cs231n/__init__.py", "cs231n/solver.py", "cs231n/gradient_check.py",
        "cs231n/data_utils.py", "cs231n/classifiers/__init__.py")}
    files["zz_shadow.pth"] = "import os; os._exit(7)\n"
    files["cs231n/zz_shadow.pth"] = "import os; os._exit(7)\n"
    sub = make_submission(tmp_path_factory.mktemp("g7") / "submission", SOLUTIONS,
                          {"layers.py": TAMPER_AND_RESTART, "classifiers/fc_net.py": FAKE_DROPOUT_WITH_OFFSET},
                          files)
    return grade(sub)


def test_shadow_files_provided_files_and_package_writes_have_no_effect(shadow_attacks):
    failed = {t.extra_data["test"] for t in shadow_attacks.tests if t.status != "passed"}
    failed -= {"test_fc_dropout_gradients", "test_fc_dropout_keep_one"}   # the subject of the next test
    if not (SOLUTIONS / "best_model.npz").is_file():
        failed -= {t.extra_data["test"] for t in shadow_attacks.tests if t.extra_data["question"] == "Q7"}
    assert failed == {"test_conv_forward"}, [(t, result_of(shadow_attacks, t).output[:300]) for t in failed]
    assert shadow_attacks.extra_data.grader_errors == []
    assert "SHADOW" not in json.dumps([t.output for t in shadow_attacks.tests])
    assert "cs231n/solver.py" in shadow_attacks.output          # the note on provided files that were edited
    assert shadow_attacks.extra_data.sandbox["worker_starts"] >= 2


def test_a_constant_loss_offset_is_not_dropout(shadow_attacks):
    assert score_of(shadow_attacks, "test_fc_dropout_gradients") == 0


# ------------------------------------------------------------------------------------------------ Q7 DoS
EVALUATE_UNDER_1GB = r'''
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from grader import checks
from grader.references import References
from grader.assignments.assignment2.suites import q7_best_model as q7
mean = References("assignment2")("Q7/best_model")["mean_image"]
try:
    print("ACCURACY", q7.evaluate(Path(sys.argv[1]), 50 * 2**20, mean))
except checks.CheckFailure as exc:
    print("REFUSED", exc)
except MemoryError:
    print("MEMORYERROR")
'''


def evaluate_best_model_under_1gb(path: Path) -> str:
    proc = subprocess.run([sys.executable, "-c", EVALUATE_UNDER_1GB, str(path), str(ROOT)], capture_output=True,
                          text=True, timeout=180, cwd=ROOT, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    return proc.stdout + proc.stderr[-2000:]


@pytest.mark.skipif(not (SOLUTIONS / "best_model.npz").is_file(), reason="solutions/best_model.npz not built")
def test_a_real_best_model_is_evaluated_within_1gb():
    """The control for the next test: 1 GiB of address space is plenty for any sensible model."""
    assert "ACCURACY" in evaluate_best_model_under_1gb(SOLUTIONS / "best_model.npz")


def test_a_tiny_best_model_declaring_a_huge_network_is_refused(tmp_path):
    hidden = [4096] * 7
    dims = [784] + hidden + [10]
    arrays = {"meta_class": np.array("FullyConnectedNet"), "meta_hidden_dims": np.array(hidden),
              "meta_input_dim": np.array(784), "meta_num_classes": np.array(10),
              "meta_normalization": np.array("none"), "meta_dataset": np.array("fashion_mnist")}
    for i in range(1, len(dims)):
        arrays[f"W{i}"] = np.zeros((dims[i - 1], dims[i]), np.float16)
        arrays[f"b{i}"] = np.zeros(dims[i], np.float16)
    path = tmp_path / "best_model.npz"
    np.savez_compressed(path, **arrays)
    assert path.stat().st_size < 1_000_000
    outcome = evaluate_best_model_under_1gb(path)
    assert "REFUSED" in outcome, outcome[-500:]


# ------------------------------------------------------------------------------------------------ uids
def test_concurrent_gradings_do_not_share_a_sandbox_uid():
    """RLIMIT_NPROC counts per uid: with one shared uid (65534, as before), one submission's fork bomb made
    concurrent gradings fail to start ('bwrap: Creating new namespace failed: Resource temporarily
    unavailable') or crash after a worker restart. Each grading's sandbox must take a uid of its own."""
    from grader.assignments import load_assignment
    from grader.pipeline import default_sandbox_factory
    from grader.sandbox import launch

    # sandboxed=False only avoids starting bwrap here: the uid is chosen the same way either way.
    make = default_sandbox_factory(False)
    limits = load_assignment("assignment2").limits
    first = make(STARTER / "cs231n", limits)
    second = make(STARTER / "cs231n", limits)
    try:
        uids = {first.limits.uid, second.limits.uid}
        assert len(uids) == 2 and launch.Limits().uid not in uids, uids
    finally:
        first.close()
        second.close()

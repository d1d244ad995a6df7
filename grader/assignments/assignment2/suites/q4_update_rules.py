"""Q4: update rules (optim.py): SGD with momentum, RMSProp and Adam, over several chained steps.

Each rule runs 3 steps; the config it returns is fed into the next step, as the Solver does, so the
state it keeps (velocity, cache, m, v, t) is checked as well as the weights.
"""
import numpy as np
import pytest

from grader import checks
from grader.suites._common import StudentError, call, tolerance

pytestmark = pytest.mark.files("optim.py")

TOL = tolerance(__file__, "update_rules")


# The trajectories a correct update rule may follow (cases.py computes those that apply): the reference's,
# and Adam in the paper's efficient form (cases.adam_efficient_form), each also for an Adam whose default
# state starts at t = 1, the default the 2017 starter provided (``config.setdefault('t', 1)``).
T1_NOTE = ("adam's default config['t'] is 1 (the 2017 starter's default; later starters begin at 0): graded "
           "against the reference started at t = 1")
FORMS = ("", "_efficient")        # suffixes of next_w: textbook, efficient form
STARTS = ("", "_t1")              # suffixes of next_w and t_after: t from 0, t from 1


def _start(c, next_w) -> str:
    """The default start of t the student's first step follows (t from 0 unless t from 1 matches better)."""
    def err(start):
        keys = [f"next_w{form}{start}" for form in FORMS if f"next_w{form}{start}" in c.expected]
        return min((checks.grading_error(next_w, c[k][0]) for k in keys), default=float("inf"))
    if type(next_w) is not np.ndarray or next_w.shape != c["next_w"][0].shape:
        return ""
    return min(STARTS, key=lambda start: (not err(start) <= TOL, STARTS.index(start)))


def _run(sb, ref, hint, rule: str, case: str, config: dict, state: tuple[str, ...], hint_fn=None):
    c = ref(f"Q4/{case}")
    w = c["w"]
    start = ""
    for step in range(c["dw"].shape[0]):
        sent = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in config.items()}
        try:
            next_w, config = call(sb, "optim", rule, w, c["dw"][step], sent, n=2, inputs="ignore")
        except StudentError as exc:
            if exc.exc_type == "KeyError" and step == 0 and set(sent) <= {"learning_rate"}:
                checks.fail(f"{rule} raised KeyError: {exc.message}, called with a config that holds only "
                            "'learning_rate' (as the Solver's first step does)",
                            hint="a fresh config has no state: set every default with config.setdefault "
                                 "(beta1 0.9, beta2 0.999, epsilon 1e-8, m and v zeros like w, t 0)")
            raise
        where = f"step {step + 1}"
        h = hint_fn(next_w, w, c["dw"][step], sent) if hint_fn is not None and step == 0 else None
        if step == 0:
            start = _start(c, next_w)
            if start:
                checks.note(T1_NOTE)
        forms = [f"next_w{form}{start}" for form in FORMS if f"next_w{form}{start}" in c.expected]
        if not any(checks.matches(next_w, c[k][step], TOL) for k in forms[1:]):
            checks.close(next_w, c[forms[0]][step], f"next_w ({where})", TOL, hint=h)
        checks.mapping(config, f"config ({where})", state)
        for k in state:
            if k == "t":
                t = checks.integer(config["t"], f"config['t'] ({where})")
                if t != int(c[f"t_after{start}"][step]):
                    checks.fail(f"config['t'] ({where}): expected the step counter to be incremented once per call",
                                hint="Adam's t counts the updates: increment it once per call, before using it")
            else:
                h = hint.momentum_velocity(config[k], c[f"{k}_after"][step]) if k == "velocity" else None
                checks.close(config[k], c[f"{k}_after"][step], f"config[{k!r}] ({where})", TOL, hint=h)
        w = checks.array(next_w, "next_w")


def test_sgd_momentum(sb, ref, hint):
    _run(sb, ref, hint, "sgd_momentum", "sgd_momentum", {"learning_rate": 0.02, "momentum": 0.8}, ("velocity",))


def test_rmsprop(sb, ref, hint):
    c = ref("Q4/rmsprop")
    _run(sb, ref, hint, "rmsprop", "rmsprop", {"learning_rate": 0.01, "decay_rate": 0.95, "cache": c["cache"]},
         ("cache",), hint.rmsprop_next_w)


def test_adam(sb, ref, hint):
    c = ref("Q4/adam")
    config = {"learning_rate": 0.02, "beta1": 0.85, "beta2": 0.99, "m": c["m"], "v": c["v"], "t": 7}
    _run(sb, ref, hint, "adam", "adam", config, ("m", "v", "t"), hint.adam_next_w)


def test_adam_default_state(sb, ref, hint):
    _run(sb, ref, hint, "adam", "adam_fresh", {"learning_rate": 0.01}, ("m", "v", "t"), hint.adam_next_w)

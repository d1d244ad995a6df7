"""Feedback report from a results file: ``python -m grader report results.json [--format md|html] [--out FILE]``.

The report reads only ``results.json`` (Gradescope layout with ``extra_data``) and renders, for a person:

- the total and a table of questions (``extra_data.questions``: id, title, score, max_score);
- per question, its tests with their outcome and output (tests belong to a question by
  ``test["extra_data"]["question"]`` (or ``test["question"]``), by the question's ``tests`` list of names, or
  by a name starting with the question id);
- the notebooks (``extra_data.notebooks``: status, failing cell, the heading above it, the message);
- the inline answers (``extra_data.inline_answers``);
- the training curves of the training checks as a PNG plot (``extra_data.training_curves``: a list of
  ``{"id", "title", "loss_history", "train_acc_history", "val_acc_history"}``), drawn with matplotlib's
  Agg backend. Markdown links the PNG written beside the report; HTML embeds it (one self-contained file);
- notes (``extra_data.notes``) and what the sandbox enforced (``extra_data.sandbox``).

Everything that comes from the submission (messages, outputs, answers) is escaped: in HTML with
``html.escape``, in Markdown inside code fences longer than any backtick run of the text, or with ``<``,
``>`` and ``&`` escaped in quoted answers.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Sequence

from grader import caps

CURVE_KEYS = (("loss_history", "loss"), ("train_acc_history", "train accuracy"), ("val_acc_history", "val accuracy"))


# ----------------------------------------------------------------------------------------------------------
# Reading results
# ----------------------------------------------------------------------------------------------------------

def load_results(path: str | Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a results object")
    return data


def _extra(results: dict[str, Any]) -> dict[str, Any]:
    extra = results.get("extra_data")
    return extra if isinstance(extra, dict) else {}


def _num(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _fmt(value: Any) -> str:
    v = _num(value)
    if v is None:
        return "-"
    return f"{v:.2f}".rstrip("0").rstrip(".")


def total_score(results: dict[str, Any]) -> tuple[float | None, float | None]:
    extra = _extra(results)
    questions = extra.get("questions") or []
    score = _num(results.get("score"))
    if score is None and questions:
        score = sum(_num(q.get("score")) or 0.0 for q in questions)
    max_score = _num(extra.get("max_score"))
    if max_score is None and questions:
        max_score = sum(_num(q.get("max_score")) or 0.0 for q in questions)
    return score, max_score


def group_tests(results: dict[str, Any]) -> tuple[list[tuple[dict, list[dict]]], list[dict]]:
    """Pair every question with its tests: ``([(question, [tests])], [tests of no question])``."""
    questions = [q for q in (_extra(results).get("questions") or []) if isinstance(q, dict)]
    tests = [t for t in (results.get("tests") or []) if isinstance(t, dict)]
    owner: dict[int, str] = {}
    ids = [str(q.get("id")) for q in questions]
    for i, t in enumerate(tests):
        extra = t.get("extra_data") if isinstance(t.get("extra_data"), dict) else {}
        qid = t.get("question", extra.get("question"))
        if qid is not None and str(qid) in ids:
            owner[i] = str(qid)
    for q in questions:
        names = set(map(str, q.get("tests") or []))
        for i, t in enumerate(tests):
            if i not in owner and str(t.get("name")) in names:
                owner[i] = str(q.get("id"))
    for i, t in enumerate(tests):
        if i in owner:
            continue
        name = str(t.get("name", ""))
        for qid in sorted(ids, key=len, reverse=True):
            if re.match(rf"^\W*{re.escape(qid)}\b", name):
                owner[i] = qid
                break
    grouped = [(q, [t for i, t in enumerate(tests) if owner.get(i) == str(q.get("id"))]) for q in questions]
    return grouped, [t for i, t in enumerate(tests) if i not in owner]


def submission_name(results: dict[str, Any]) -> str:
    """The submission's name (``extra_data.submission`` is a dict with ``name``, or a plain string)."""
    sub = _extra(results).get("submission")
    if isinstance(sub, dict):
        sub = sub.get("name")
    return str(sub) if sub else ""


def test_label(test: dict) -> str:
    """A test's short name inside its question's section (``extra_data.test``, else its full name)."""
    extra = test.get("extra_data") if isinstance(test.get("extra_data"), dict) else {}
    return str(extra.get("test") or test.get("name", ""))


def grader_messages(results: dict[str, Any]) -> str:
    """The grader's ``output`` without its score summary (the report shows scores in its own table)."""
    lines = str(results.get("output") or "").splitlines()
    cut = next((i for i, line in enumerate(lines) if line.startswith("Score: ")), len(lines))
    return "\n".join(lines[:cut]).strip()


def question_title(answer: dict) -> str:
    """The first line of an inline question, without Markdown heading or emphasis marks."""
    lines = [l for l in str(answer.get("question") or "").strip().splitlines() if l.strip()]
    return re.sub(r"^[#*_\s]+|[*_\s]+$", "", lines[0]) if lines else "(question)"


def _passed(test: dict) -> bool | None:
    status = test.get("status")
    if status in ("passed", "failed"):
        return status == "passed"
    score, max_score = _num(test.get("score")), _num(test.get("max_score"))
    if score is None or max_score is None:
        return None
    return score >= max_score


def _clean_series(values: Any, limit: int) -> list[float | None]:
    """A list of floats (None for non-finite) from untrusted data; [] for anything that is not numbers."""
    if isinstance(values, (str, bytes, dict)) or values is None:
        return []
    try:
        seq = list(values)[:limit]
    except TypeError:
        return []
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in seq):
        try:
            seq = [float(v) for v in seq]
        except (TypeError, ValueError):
            return []
    return [_num(v) for v in seq]


def training_curve(id: str, title: str, *, loss_history: Any = None, train_acc_history: Any = None,
                   val_acc_history: Any = None, max_points: int = caps.CURVE_POINTS) -> dict[str, Any]:
    """One ``extra_data.training_curves`` entry from a Solver's histories (as fetched from the sandbox).

    Histories are untrusted: anything that is not a sequence of numbers becomes an empty list, values are
    cast to float (non-finite ones to None), and a loss history longer than ``max_points`` is subsampled:
    ``loss_every`` says how many iterations apart the kept values are.
    """
    loss = _clean_series(loss_history, max_points * 1000)
    every = max(1, math.ceil(len(loss) / max_points))
    return {"id": str(id), "title": str(title), "loss_history": loss[::every], "loss_every": every,
            "train_acc_history": _clean_series(train_acc_history, max_points),
            "val_acc_history": _clean_series(val_acc_history, max_points)}


def training_curves(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The training histories in ``extra_data.training_curves`` (a list, or a dict keyed by id), cleaned:
    ``[{"id", "title", "series": {key: (values, x_step)}}]`` (at most ``caps.CURVES``)."""
    raw = _extra(results).get("training_curves") or []
    if isinstance(raw, dict):
        raw = [dict(v, id=v.get("id", k)) for k, v in raw.items() if isinstance(v, dict)]
    curves = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        every = entry.get("loss_every")
        every = int(every) if isinstance(every, int) and 0 < every < 10**9 else 1
        series = {}
        for key, _ in CURVE_KEYS:
            values = _clean_series(entry.get(key), caps.CURVE_POINTS * 20)
            if not values:
                continue
            step = max(1, math.ceil(len(values) / caps.CURVE_POINTS))
            values = [float("nan") if v is None else v for v in values[::step]]
            series[key] = values, step * (every if key == "loss_history" else 1)
        if series:
            curves.append({"id": str(entry.get("id", "")), "title": str(entry.get("title") or entry.get("id", "")),
                           "series": series})
    return curves[:caps.CURVES]


def plot_training_curves(results: dict[str, Any]) -> bytes | None:
    """A PNG (bytes) with one row per training check: loss on the left, accuracies on the right."""
    curves = training_curves(results)
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2 * len(curves)), dpi=90)
    for row, curve in enumerate(curves):
        loss_ax = fig.add_subplot(len(curves), 2, 2 * row + 1)
        acc_ax = fig.add_subplot(len(curves), 2, 2 * row + 2)
        for key, label in CURVE_KEYS:
            if key not in curve["series"]:
                continue
            values, step = curve["series"][key]
            xs = [i * step for i in range(len(values))]
            ax = loss_ax if key == "loss_history" else acc_ax
            ax.plot(xs, values, label=label, linewidth=1 if key == "loss_history" else 1.5,
                    marker=None if key == "loss_history" else "o", markersize=3)
        loss_ax.set_title(f"{curve['title']}: loss", fontsize=10)
        loss_ax.set_xlabel("iteration")
        acc_ax.set_title(f"{curve['title']}: accuracy", fontsize=10)
        acc_ax.set_xlabel("epoch")
        for ax in (loss_ax, acc_ax):
            ax.grid(alpha=0.3)
            if ax.has_data():
                ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------------------

def _clip(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= caps.REPORT_TEXT else text[:caps.REPORT_TEXT] + f"\n... [{len(text) - caps.REPORT_TEXT} more characters]"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def _md_inline(text: Any) -> str:
    """Text of the submission or the grader on one Markdown line: HTML and Markdown table/emphasis escaped."""
    text = " ".join(str(text or "").split())
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", text)


def _md_quote(text: str) -> str:
    text = html.escape(_clip(text), quote=False)
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines()) or "> (no answer)"


def _notebook_where(nb: dict) -> str:
    if nb.get("cell") is None:
        return ""
    where = f"cell {nb['cell']}"
    if nb.get("heading"):
        where += f" (section \u201c{nb['heading']}\u201d)"
    return where


def render_markdown(results: dict[str, Any], *, plot_link: str | None = None) -> str:
    extra = _extra(results)
    score, max_score = total_score(results)
    title = extra.get("assignment") or "assignment"
    who = submission_name(results)
    lines = [f"# Feedback: {_md_inline(title)}" + (f" \u2014 {_md_inline(who)}" if who else ""), ""]
    lines.append(f"**Score: {_fmt(score)} / {_fmt(max_score)}**")
    if extra.get("status") and extra.get("status") != "ok":
        lines.append(f"\nGrading status: **{_md_inline(extra['status'])}**")
    if grader_messages(results):
        lines += ["", _fence(_clip(grader_messages(results)))]
    grouped, loose = group_tests(results)
    if grouped:
        lines += ["", "| Question | Score | Max |", "|---|---:|---:|"]
        for q, _ in grouped:
            lines.append(f"| {_md_inline(q.get('id'))} {_md_inline(q.get('title', ''))} | {_fmt(q.get('score'))} "
                         f"| {_fmt(q.get('max_score'))} |")
    for q, tests in grouped:
        lines += ["", f"## {_md_inline(q.get('id'))} \u2014 {_md_inline(q.get('title', ''))} "
                      f"({_fmt(q.get('score'))} / {_fmt(q.get('max_score'))})", ""]
        lines += _md_tests(tests) or ["(no tests listed)"]
    if loose:
        lines += ["", "## Other tests", ""] + _md_tests(loose)
    notebooks = [nb for nb in extra.get("notebooks") or [] if isinstance(nb, dict)]
    if notebooks:
        lines += ["", "## Notebooks", "", "| Notebook | Status | Where | Cells run |", "|---|---|---|---:|"]
        for nb in notebooks:
            lines.append(f"| {_md_inline(nb.get('name'))} | {_md_inline(nb.get('status'))} | "
                         f"{_md_inline(_notebook_where(nb))} | {nb.get('cells_run', '-')} / "
                         f"{nb.get('cells_total', '-')} |")
        for nb in notebooks:
            if nb.get("status") != "ok" and nb.get("message"):
                lines += ["", f"**{_md_inline(nb.get('name'))}**: {_md_inline(nb.get('status'))}"
                              + (f" at {_md_inline(_notebook_where(nb))}" if nb.get("cell") is not None else ""),
                          "", _fence(_clip(nb["message"]))]
            if nb.get("shell_escapes"):
                escapes = nb["shell_escapes"][:10]
                shown = "; ".join(f"cell {e.get('cell')}: {_md_inline(e.get('line'))}" for e in escapes)
                lines += ["", f"Shell commands in {_md_inline(nb.get('name'))} (run inside the sandbox): {shown}"]
    answers = [a for a in extra.get("inline_answers") or [] if isinstance(a, dict)]
    if answers:
        lines += ["", "## Inline answers"]
        for a in answers:
            lines += ["", f"### {_md_inline(a.get('notebook'))}: {_md_inline(question_title(a))}",
                      "", _md_quote(a.get("answer") or "(no answer)")]
    if plot_link:
        lines += ["", "## Training curves", "", f"![training curves](<{plot_link}>)"]
    notes = extra.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {_md_inline(n if isinstance(n, str) else json.dumps(n))}" for n in notes]
    sandbox = extra.get("sandbox")
    if isinstance(sandbox, dict) and sandbox:
        shown = ", ".join(f"{_md_inline(k)}: {_md_inline(v)}" for k, v in sandbox.items()
                          if not isinstance(v, (dict, list)))
        lines += ["", f"<sub>Sandbox: {shown}</sub>"]
    return "\n".join(lines) + "\n"


def _md_tests(tests: Sequence[dict]) -> list[str]:
    out = []
    for t in tests:
        mark = {True: "\u2705", False: "\u274c", None: "\u2022"}[_passed(t)]
        out.append(f"- {mark} {_md_inline(test_label(t))} ({_fmt(t.get('score'))} / {_fmt(t.get('max_score'))})")
        if t.get("output") and _passed(t) is not True:
            out += ["", "  " + _fence(_clip(t["output"])).replace("\n", "\n  "), ""]
    return out


# ----------------------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.n{text-align:right}pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap}
.pass{color:#176f2c}.fail{color:#b3261e}
blockquote{border-left:4px solid #ddd;margin:0;padding:.2rem 1rem;white-space:pre-wrap}
img{max-width:100%}small{color:#666}"""


def _e(text: Any) -> str:
    return html.escape(str(text if text is not None else ""))


def render_html(results: dict[str, Any], *, plot_png: bytes | None = None) -> str:
    extra = _extra(results)
    score, max_score = total_score(results)
    who = submission_name(results)
    title = f"Feedback: {extra.get('assignment') or 'assignment'}" + (f" \u2014 {who}" if who else "")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{_CSS}</style>"
             f"</head><body><h1>{_e(title)}</h1><p><strong>Score: {_fmt(score)} / {_fmt(max_score)}</strong></p>"]
    if extra.get("status") and extra.get("status") != "ok":
        parts.append(f"<p>Grading status: <strong>{_e(extra['status'])}</strong></p>")
    if grader_messages(results):
        parts.append(f"<pre>{_e(_clip(grader_messages(results)))}</pre>")
    grouped, loose = group_tests(results)
    if grouped:
        parts.append("<table><tr><th>Question</th><th>Score</th><th>Max</th></tr>")
        for q, _ in grouped:
            parts.append(f"<tr><td>{_e(q.get('id'))} {_e(q.get('title', ''))}</td><td class=n>{_fmt(q.get('score'))}"
                         f"</td><td class=n>{_fmt(q.get('max_score'))}</td></tr>")
        parts.append("</table>")
    for q, tests in grouped:
        parts.append(f"<h2>{_e(q.get('id'))} \u2014 {_e(q.get('title', ''))} ({_fmt(q.get('score'))} / "
                     f"{_fmt(q.get('max_score'))})</h2>" + _html_tests(tests))
    if loose:
        parts.append("<h2>Other tests</h2>" + _html_tests(loose))
    notebooks = [nb for nb in extra.get("notebooks") or [] if isinstance(nb, dict)]
    if notebooks:
        parts.append("<h2>Notebooks</h2><table><tr><th>Notebook</th><th>Status</th><th>Where</th>"
                     "<th>Cells run</th></tr>")
        for nb in notebooks:
            parts.append(f"<tr><td>{_e(nb.get('name'))}</td><td>{_e(nb.get('status'))}</td>"
                         f"<td>{_e(_notebook_where(nb))}</td><td class=n>{_e(nb.get('cells_run', '-'))} / "
                         f"{_e(nb.get('cells_total', '-'))}</td></tr>")
        parts.append("</table>")
        for nb in notebooks:
            if nb.get("status") != "ok" and nb.get("message"):
                parts.append(f"<h3>{_e(nb.get('name'))}: {_e(nb.get('status'))} {_e(_notebook_where(nb))}</h3>"
                             f"<pre>{_e(_clip(nb['message']))}</pre>")
            if nb.get("shell_escapes"):
                items = "".join(f"<li>cell {_e(s.get('cell'))}: <code>{_e(s.get('line'))}</code></li>"
                                for s in nb["shell_escapes"][:10])
                parts.append(f"<p>Shell commands in {_e(nb.get('name'))} (run inside the sandbox):</p><ul>{items}</ul>")
    answers = [a for a in extra.get("inline_answers") or [] if isinstance(a, dict)]
    if answers:
        parts.append("<h2>Inline answers</h2>")
        for a in answers:
            parts.append(f"<h3>{_e(a.get('notebook'))}: {_e(question_title(a))}</h3>"
                         f"<blockquote>{_e(_clip(a.get('answer') or '(no answer)'))}</blockquote>")
    if plot_png:
        data = base64.b64encode(plot_png).decode()
        parts.append(f"<h2>Training curves</h2><img alt='training curves' src='data:image/png;base64,{data}'>")
    notes = extra.get("notes") or []
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(
            f"<li>{_e(n if isinstance(n, str) else json.dumps(n))}</li>" for n in notes) + "</ul>")
    sandbox = extra.get("sandbox")
    if isinstance(sandbox, dict) and sandbox:
        shown = ", ".join(f"{k}: {v}" for k, v in sandbox.items() if not isinstance(v, (dict, list)))
        parts.append(f"<p><small>Sandbox: {_e(shown)}</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_tests(tests: Sequence[dict]) -> str:
    if not tests:
        return "<p>(no tests listed)</p>"
    items = []
    for t in tests:
        ok = _passed(t)
        cls, mark = {True: ("pass", "\u2714"), False: ("fail", "\u2718"), None: ("", "\u2022")}[ok]
        item = (f"<li class='{cls}'>{mark} {_e(test_label(t))} ({_fmt(t.get('score'))} / "
                f"{_fmt(t.get('max_score'))})")
        if t.get("output") and ok is not True:
            item += f"<pre>{_e(_clip(t['output']))}</pre>"
        items.append(item + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


# ----------------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------------

def write_report(results_path: str | Path, *, fmt: str = "md", out: str | Path | None = None) -> str:
    """Render the report of ``results_path``; write it to ``out`` (and the PNG beside it for Markdown).

    Without ``out`` the text is returned only; for Markdown the PNG then goes beside ``results_path``
    (``<stem>_curves.png``). Returns the rendered text.
    """
    results_path = Path(results_path)
    results = load_results(results_path)
    png = plot_training_curves(results)
    if fmt == "html":
        text = render_html(results, plot_png=png)
    elif fmt == "md":
        link = None
        if png is not None:
            base = Path(out) if out is not None else results_path
            png_path = base.with_name(base.stem + "_curves.png")
            png_path.write_bytes(png)
            link = png_path.name if out is not None else str(png_path)
        text = render_markdown(results, plot_link=link)
    else:
        raise ValueError(f"unknown format {fmt!r} (md or html)")
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    return text


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="python -m grader report", description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="a results.json written by `python -m grader grade`")
    parser.add_argument("--format", choices=("md", "html"), default=None,
                        help="md or html (default: from --out's suffix, else md)")
    parser.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; exit status 0 when the report was written, 2 for an unreadable results file."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Render the report for arguments parsed by ``build_parser`` (the ``report`` subcommand)."""
    fmt = args.format or ("html" if args.out is not None and args.out.suffix.lower() in (".html", ".htm") else "md")
    try:
        text = write_report(args.results, fmt=fmt, out=args.out)
    except (OSError, ValueError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

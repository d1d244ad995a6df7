"""The notebooks' part of results.json that is not a test: the question ``NB`` they make, and the caps on
what they add to ``extra_data`` (the student's text: a notebook's error message, its inline answers, its
shell escapes), so that no notebook can make results.json enormous (``capped_extra_data``)."""
from __future__ import annotations

from typing import Any

from grader import caps
from grader.text import TRUNCATED, clean, clean_tree

NOTEBOOK_QUESTION = ("NB", "Notebooks run to the end")

_LONG_KEYS = {"message"}     # keys of a notebook entry whose text may be NB_EXTRA_TEXT long


def _cap_answers(answers: Any) -> list[dict[str, Any]]:
    """The inline answers cleaned and capped, in order: the first ``NB_INLINE_ANSWERS`` of each notebook (so
    one notebook cannot crowd out the others; ``NB_INLINE_ALL`` in all), the question cut to
    ``NB_QUESTION_TEXT`` characters, each answer to ``NB_EXTRA_TEXT`` and the answers of one notebook
    together to about ``NB_INLINE_TOTAL`` (an answer past that budget keeps only the truncation mark)."""
    kept: list[dict[str, Any]] = []
    count: dict[str, int] = {}
    budget: dict[str, int] = {}
    for a in answers if isinstance(answers, list) else []:
        if not isinstance(a, dict):
            continue
        notebook = clean(a.get("notebook"), caps.NB_SHORT_TEXT)
        if count.get(notebook, 0) >= caps.NB_INLINE_ANSWERS:
            continue
        left = budget.get(notebook, caps.NB_INLINE_TOTAL)
        answer = clean(a.get("answer"), max(len(TRUNCATED), min(caps.NB_EXTRA_TEXT, left)))
        count[notebook], budget[notebook] = count.get(notebook, 0) + 1, left - len(answer)
        cell = a.get("cell")
        kept.append({"notebook": notebook, "question": clean(a.get("question"), caps.NB_QUESTION_TEXT),
                     "answer": answer,
                     "cell": cell if isinstance(cell, int) and not isinstance(cell, bool) else None})
        if len(kept) >= caps.NB_INLINE_ALL:
            break
    return kept


def _cap_notebook(entry: dict[str, Any], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``extra_data.notebooks`` entry (a ``NotebookResult.to_dict()``) cleaned and capped; its inline
    answers are those of ``answers`` (already capped) that belong to it."""
    out = {}
    for key, value in list(entry.items())[:caps.NB_EXTRA_ITEMS]:
        if key in ("shell_escapes", "inline_answers") or not isinstance(key, str):
            continue
        out[clean_tree(key, caps.NB_SHORT_TEXT)] = clean_tree(
            value, caps.NB_EXTRA_TEXT if key in _LONG_KEYS else caps.NB_SHORT_TEXT, max_items=caps.NB_EXTRA_ITEMS)
    escapes = entry.get("shell_escapes")
    escapes = escapes if isinstance(escapes, list) else []
    out["shell_escapes"] = [clean_tree(e, 200, max_items=4) for e in escapes[:caps.NB_SHELL_ESCAPES]]
    if len(escapes) > caps.NB_SHELL_ESCAPES:
        out["shell_escapes_omitted"] = len(escapes) - caps.NB_SHELL_ESCAPES
    out["inline_answers"] = [a for a in answers if a["notebook"] == out.get("name")]
    return out


def capped_extra_data(extra: dict[str, Any]) -> dict[str, Any]:
    """What the notebooks add to ``extra_data`` (``NotebookGrades.extra_data``), every string cleaned
    (``grader.text.clean``) and every text and list capped (the ``MAX_*`` above). ``inline_answers_omitted``
    says how many inline answers were left out (only when some were)."""
    raw_answers = extra.get("inline_answers")
    answers = _cap_answers(raw_answers)
    out: dict[str, Any] = {}
    for key, value in extra.items():
        if key == "inline_answers":
            out[key] = answers
        elif key == "notebooks":
            entries = [nb for nb in value if isinstance(nb, dict)] if isinstance(value, list) else []
            out[key] = [_cap_notebook(nb, answers) for nb in entries[:caps.NB_EXTRA_ITEMS]]
        else:
            out[key] = clean_tree(value, caps.NB_SHORT_TEXT, max_items=caps.NB_EXTRA_ITEMS)
    omitted = (len(raw_answers) if isinstance(raw_answers, list) else 0) - len(answers)
    if omitted > 0:
        out["inline_answers_omitted"] = omitted
    return out

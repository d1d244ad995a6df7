"""The results.json Gradescope gets: the grader's own, in Gradescope's format, or a failure.

Gradescope's autograder specification (top level ``score``, ``execution_time``, ``output``,
``output_format``, ``test_output_format``, ``test_name_format``, ``visibility``, ``stdout_visibility``,
``extra_data``, ``tests``, ``leaderboard``; each test ``score``, ``max_score``, ``status``, ``name``,
``name_format``, ``number``, ``output``, ``output_format``, ``tags``, ``visibility``, ``extra_data``).
Outputs are ``text``: they quote the student's own prints and error messages, which must never be
rendered as HTML or Markdown.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

TEXT = "text"
LEADERBOARD_ORDER = "desc"      # every measure published is better when higher (accuracies)


def for_gradescope(results: dict[str, Any], isolation: dict[str, Any]) -> dict[str, Any]:
    """The grader's results.json made Gradescope's: text formats, the measures as leaderboard entries,
    ``extra_data.isolation`` (the tier the student's code ran under)."""
    out = dict(results)
    out.update(output_format=TEXT, test_output_format=TEXT, test_name_format=TEXT)
    extra = dict(out.get("extra_data") or {})
    extra["isolation"] = isolation
    out["extra_data"] = extra
    measures = extra.get("measures") or {}
    if measures:
        out["leaderboard"] = [{"name": str(k), "value": float(v), "order": LEADERBOARD_ORDER}
                              for k, v in measures.items()]
    return out


def failure(reason: str, *, execution_time: float, isolation: dict[str, Any] | None = None) -> dict[str, Any]:
    """A grade the grader could not give: score 0, the reason in ``output``, visible to instructors only."""
    return {
        "score": 0.0,
        "execution_time": round(float(execution_time), 3),
        "output": "The autograder failed on this submission (not the student's fault); the course staff "
                  "must look at it.\n" + reason[-4000:],
        "output_format": TEXT, "test_output_format": TEXT, "test_name_format": TEXT,
        "visibility": "hidden",
        "stdout_visibility": "hidden",
        "tests": [],
        "extra_data": {"grader_failed": True, "isolation": isolation or {}},
    }


def write(path: Path, results: dict[str, Any]) -> None:
    """Write ``results`` to ``path`` atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)

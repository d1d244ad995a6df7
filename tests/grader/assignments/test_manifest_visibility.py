"""The manifest's course fields: per-test visibility (Gradescope's vocabulary) and inline questions scored by
hand; both validated with the rest of the manifest, and the visibility carried into each test's result."""
from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from grader.assignments import Assignment
from grader.scoring import build_results
from support.course import FIXTURE_COURSE


def tiny(extra_question: str = "", extra: str = "") -> Assignment:
    text = (FIXTURE_COURSE / "grader" / "assignments" / "tiny" / "manifest.toml").read_text()
    text = text.replace('suite = "q1_ops.py"\n', 'suite = "q1_ops.py"\n' + extra_question) + extra
    return Assignment.model_validate(tomllib.loads(text))


def test_a_question_and_its_tests_carry_their_visibility_into_the_results():
    a = tiny('visibility = "after_due_date"\n', '[questions.test_visibility]\ntest_row_sums = "hidden"\n')
    q = a.questions[0]
    assert (q.visibility_of("test_scale"), q.visibility_of("test_row_sums")) == ("after_due_date", "hidden")
    results = build_results(a, {}, problems=[], notes=[], sandbox_info={"sandboxed": True}, submission={},
                            execution_time=0.0)
    assert {t.extra_data["test"]: t.visibility for t in results.tests} == \
        {"test_scale": "after_due_date", "test_row_sums": "hidden"}
    assert {t.visibility for t in build_results(tiny(), {}, problems=[], notes=[], sandbox_info={},
                                                submission={}, execution_time=0.0).tests} == {"visible"}


@pytest.mark.parametrize("extra_question, extra", [
    ('visibility = "later"\n', ""),                                           # not Gradescope's vocabulary
    ("", '[questions.test_visibility]\ntest_nothing = "hidden"\n'),          # a test the question lacks
    ("", '\n[[inline_questions]]\nid = "IQ1"\ntitle = "a"\npoints = 0\n'),   # no points
    ("", '\n[[inline_questions]]\nid = "IQ1"\ntitle = "a"\npoints = 1\n'
         '\n[[inline_questions]]\nid = "IQ1"\ntitle = "b"\npoints = 1\n'),   # twice the same id
])
def test_bad_visibility_or_inline_questions_are_refused(extra_question, extra):
    with pytest.raises(ValidationError):
        tiny(extra_question, extra)


def test_inline_questions_are_read():
    a = tiny(extra='\n[[inline_questions]]\nid = "IQ1"\ntitle = "Why"\npoints = 2\nnotebook = "nb"\nnumber = 1\n')
    assert [(q.id, q.points, q.notebook, q.number) for q in a.inline_questions] == [("IQ1", 2.0, "nb", 1)]
    assert a.max_score == 5.0                    # scored by hand in the service, not by the grader

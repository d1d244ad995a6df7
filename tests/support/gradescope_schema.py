"""Gradescope's results.json format as a JSON Schema (draft 7), from the autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): the keys it defines at the top level, for
each test and for each leaderboard entry, and the values it allows for ``status``, ``visibility`` and the
output formats. Unknown keys are refused (``additionalProperties: false``), so a typo or a key Gradescope
does not know fails the schema test."""
from __future__ import annotations

import jsonschema

FORMATS = ["text", "html", "simple_format", "md", "ansi"]
VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]
STATUSES = ["passed", "failed"]

TEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "status": {"enum": STATUSES},
        "name": {"type": "string"},
        "name_format": {"enum": FORMATS},
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
    },
}

LEADERBOARD_ENTRY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "value"],
    "properties": {
        "name": {"type": "string"},
        "value": {"type": ["number", "string"]},
        "order": {"enum": ["asc", "desc"]},
    },
}

RESULTS = {
    "type": "object",
    "additionalProperties": False,
    # the top-level score is optional when every test has one; every results.json here has it
    "required": ["score"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST},
        "leaderboard": {"type": "array", "items": LEADERBOARD_ENTRY},
    },
}


def problems(results: dict) -> list[str]:
    """Every way ``results`` departs from the format (empty: it conforms)."""
    validator = jsonschema.Draft7Validator(RESULTS)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<top>'}: {e.message}" for e in validator.iter_errors(results)]

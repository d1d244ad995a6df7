"""The battery's service, started once for every hostile case (``support.hostile_battery``).

``HOSTILE_REPORT=outcomes.json`` writes what each case got (score, expected, grade time, the start of its
feedback) when the session ends."""
from __future__ import annotations

import os

import pytest

from support.hostile_battery import Battery


@pytest.fixture(scope="session")
def battery(tmp_path_factory):
    b = Battery(tmp_path_factory.mktemp("hostile"))
    try:
        b.plant_victim()
        b.submit_all(b.target())
        yield b
        if os.environ.get("HOSTILE_REPORT"):
            b.write_report(os.environ["HOSTILE_REPORT"])
    finally:
        b.close()

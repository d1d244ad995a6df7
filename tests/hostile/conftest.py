"""The battery's service, started once for every hostile case (``support.hostile_battery``)."""
from __future__ import annotations

import pytest

from support.hostile_battery import Battery


@pytest.fixture(scope="session")
def battery(tmp_path_factory):
    b = Battery(tmp_path_factory.mktemp("hostile"))
    try:
        b.plant_victim()
        b.submit_all(b.target())
        yield b
    finally:
        b.close()

"""A store in tmp_path, and a sample of four spec sessions in it, for the core tests that share them."""

import pytest

from sdsessions_tui.core.store import Store
from tests.core import spec_examples as ex
from tests.core.helpers import add_sessions


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "db" / "sessions.db") as opened:
        yield opened


@pytest.fixture
def sample(store, tmp_path):
    c = ex.example_c()
    d = ex.example_d()
    e = ex.example_e()
    b = ex.example_b()
    b["snapshot"]["resolved_template"]["prompt"] = "weird [/] closing, cat on a mat"
    return add_sessions(store, tmp_path / "root",
                        ("20251112_181502-Teasing", b), ("20251114_093010-hair_test", c),
                        ("20251117_111757-donmain", d), ("20251112_184000-api_down", e))

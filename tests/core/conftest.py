"""A store in tmp_path, a sample of four spec sessions in it, and two roots holding copies of one session,
for the core tests that share them."""

import pytest

from sdsessions_tui.core.store import Store
from tests.conftest import image_names, write_session
from tests.core import spec_examples as ex
from tests.core.helpers import add_sessions

#: The folder both of the :func:`roots` hold.
COPIED = "20251114_093010-hair_test"


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "db" / "sessions.db") as opened:
        yield opened


@pytest.fixture
def roots(tmp_path):
    """Two roots (two GPU boxes' results gathered in one place) holding the same folder, :data:`COPIED`."""
    gpu1, gpu2 = (tmp_path / "gpu1").resolve(), (tmp_path / "gpu2").resolve()
    for root in (gpu1, gpu2):
        write_session(root, COPIED, manifest=ex.example_c(), images=image_names(ex.example_c()))
    return gpu1, gpu2


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

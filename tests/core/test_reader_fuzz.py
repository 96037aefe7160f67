"""No exception ever escapes the reader, and whatever it reads is stored: arbitrary JSON,
manifest-shaped JSON and bytes, through the whole path reader → row → upsert → details.

``read_session`` has a last-resort guard that turns a crash into
``stats_error = "internal error: …"``, and the store one that replaces a row the
database refuses by "stats could not be stored"; these tests fail if either is
ever needed, so they prove the parsing and the row building themselves cope.
Each read session is upserted in one batch with a good session, which must be
stored too.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsessions_tui.core.stats import read_session
from sdsessions_tui.core.store import Store, stats_to_row
from tests.conftest import write_session
from tests.core import spec_examples as ex

# Keys of every era, so generated objects hit the readers' lookups with wrong types.
KEYS = [
    "snapshot", "images", "status", "version", "timestamp", "runtime_info", "sd_model_checkpoint",
    "resolved_template", "prompt", "negative", "generation_params", "mode", "seed_mode", "base_seed",
    "num_images", "total_combinations", "seed_list", "api_params", "width", "height", "steps", "cfg_scale",
    "sampler", "scheduler", "variations", "available", "used", "count", "fixed_placeholders", "theme_name",
    "style", "filename", "seed", "negative_prompt", "applied_variations", "session_name", "generated_at",
    "total_variations", "templating_system", "parameters", "placeholders", "generation_info", "generation",
    "images_generated", "total_images", "generation_time_seconds", "values", "main",
]

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.sampled_from([2**63, -(2**63) - 1, 2**64 + 7, 10**30])  # just outside SQLite's integers
           | st.floats() | st.text(max_size=20)  # NaN and ±Infinity too: json.dumps writes them, the reader takes them
           | st.sampled_from(["ongoing", "completed", "aborted", "-1", "1e400", "x_0000.png", "../x.png", "NaN",
                              "2025-11-14T09:30:11", "9999-12-31T23:59:59+14:00"]))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6),
    max_leaves=40,
)
manifests = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)
MANIFEST_NAMES = ["manifest.json", "x_manifest.json", "metadata.json", "session_config.txt"]


@pytest.fixture(scope="module")
def base():
    path = Path(tempfile.mkdtemp(prefix="sdsessions-fuzz-"))
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def store(base):
    with Store(base / "fuzz.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def folder(base):
    session = base / "root" / "20251114_093010-fuzz"
    session.mkdir(parents=True)
    return session


@pytest.fixture(scope="module")
def good_row(base):
    good = write_session(base / "root", "20251112_181502-good", manifest=ex.example_b(),
                         images=[image["filename"] for image in ex.example_b()["images"]])
    return stats_to_row(read_session(good, retry_delays=()), str(base / "root"))


@pytest.fixture
def check(folder, store, good_row):
    return lambda name, content: _check(folder, store, good_row, name, content)


def _check(session: Path, store: Store, good_row: dict, name: str, content: bytes) -> None:
    for old in session.iterdir():
        old.unlink()
    (session / name).write_bytes(content)
    (session / "fuzz_0000.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    stats = read_session(session, retry_delays=())
    assert not (stats.stats_error or "").startswith("internal error"), stats.stats_error
    assert stats.session_id == session.name
    assert stats.status in {"running", "completed", "completed_with_failures", "aborted", "stale", "incomplete",
                            "unknown"}
    if stats.completion_percentage is not None:
        assert 0 <= stats.completion_percentage <= 100
    json.dumps(stats.to_dict(), default=str)

    store.upsert_stats([good_row, stats_to_row(stats, str(session.parent)), good_row])
    stored = store.known_paths([str(session), good_row["session_path"]])
    assert set(stored) == {str(session), good_row["session_path"]}  # the good row of the batch is kept
    back, _metadata = store.get_session(stored[str(session)].session_key)  # the details' read of the row
    assert not (back.stats_error or "").startswith("stats could not be stored"), back.stats_error
    assert back.stats_error == stats.stats_error and back.images_actual == stats.images_actual


settings_ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings_
@given(data=manifests, name=st.sampled_from(MANIFEST_NAMES))
def test_manifest_shaped_json(check, data, name):
    check(name, json.dumps(data).encode())


@settings_
@given(data=json_values, name=st.sampled_from(MANIFEST_NAMES))
def test_arbitrary_json(check, data, name):
    check(name, json.dumps(data).encode())


@settings_
@given(content=st.binary(max_size=300), name=st.sampled_from(MANIFEST_NAMES))
def test_arbitrary_bytes(check, content, name):
    check(name, content)


@settings_
@given(cut=st.integers(min_value=0, max_value=4000), example=st.sampled_from([ex.example_a, ex.example_b,
                                                                               ex.example_c, ex.example_d]))
def test_truncated_real_manifests(check, cut, example):
    data = json.dumps(example()).encode()
    check("manifest.json", data[:cut])


@settings_
@given(path=st.sampled_from(["snapshot", "snapshot.generation_params", "snapshot.api_params", "snapshot.variations",
                             "images", "images.0", "images.0.applied_variations", "snapshot.runtime_info"]),
       value=json_values)
def test_real_manifest_with_one_part_replaced(check, path, value):
    _replace_and_check(check, path, value)


#: Where a manifest's numbers become numeric columns, or numbers inside JSON columns.
NUMBER_PATHS = ["snapshot.generation_params.base_seed", "snapshot.generation_params.num_images",
                "snapshot.generation_params.total_combinations", "snapshot.generation_params.seed_list.0",
                "snapshot.api_params.steps", "snapshot.api_params.width", "snapshot.api_params.cfg_scale",
                "snapshot.api_params.hr_scale", "snapshot.variations.HairColor.count", "images.0.seed",
                "images.1.seed"]
numbers = (st.integers(min_value=-(2**80), max_value=2**80) | st.sampled_from([2**63, -(2**63) - 1, 10**30])
           | st.floats() | st.sampled_from(["1e400", "-1e400", "NaN", str(2**64)]))


@settings_
@given(path=st.sampled_from(NUMBER_PATHS), value=numbers)
def test_real_manifest_with_one_number_replaced(check, path, value):
    _replace_and_check(check, path, value)


def _replace_and_check(check, path, value):
    manifest = ex.example_c()
    target = manifest
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    check("manifest.json", json.dumps(manifest).encode())

"""No exception ever escapes the reader: arbitrary JSON, manifest-shaped JSON and bytes.

``read_session`` has a last-resort guard that turns a crash into
``stats_error = "internal error: …"``; these tests fail if that guard is ever
needed, so they prove the parsing itself copes.
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
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
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
def folder():
    base = Path(tempfile.mkdtemp(prefix="sdsessions-fuzz-"))
    session = base / "20251114_093010-fuzz"
    session.mkdir()
    yield session
    shutil.rmtree(base)


def _check(session: Path, name: str, content: bytes) -> None:
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


settings_ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings_
@given(data=manifests, name=st.sampled_from(MANIFEST_NAMES))
def test_manifest_shaped_json(folder, data, name):
    _check(folder, name, json.dumps(data).encode())


@settings_
@given(data=json_values, name=st.sampled_from(MANIFEST_NAMES))
def test_arbitrary_json(folder, data, name):
    _check(folder, name, json.dumps(data).encode())


@settings_
@given(content=st.binary(max_size=300), name=st.sampled_from(MANIFEST_NAMES))
def test_arbitrary_bytes(folder, content, name):
    _check(folder, name, content)


@settings_
@given(cut=st.integers(min_value=0, max_value=4000), example=st.sampled_from([ex.example_a, ex.example_b,
                                                                               ex.example_c, ex.example_d]))
def test_truncated_real_manifests(folder, cut, example):
    data = json.dumps(example()).encode()
    _check(folder, "manifest.json", data[:cut])


@settings_
@given(path=st.sampled_from(["snapshot", "snapshot.generation_params", "snapshot.api_params", "snapshot.variations",
                             "images", "images.0", "images.0.applied_variations", "snapshot.runtime_info"]),
       value=json_values)
def test_real_manifest_with_one_part_replaced(folder, path, value):
    manifest = ex.example_c()
    target = manifest
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    _check(folder, "manifest.json", json.dumps(manifest).encode())

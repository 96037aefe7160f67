"""The type gate: ``mypy --strict`` over ``src/`` passes, as configured in pyproject.toml's ``[tool.mypy]``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_mypy_strict_passes_over_src():
    pytest.importorskip("mypy", reason="mypy is not installed (it is in the dev extra: pip install -e '.[dev]')")
    # MYPYPATH could make mypy read another checkout's modules instead of this one's
    env = {name: value for name, value in os.environ.items() if name != "MYPYPATH"}
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}{result.stderr}"

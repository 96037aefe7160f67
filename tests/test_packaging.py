"""The wheel ships the stylesheet and both entry points; CI runs the README's test command."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_contains_stylesheet_and_console_script(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)], cwd=REPO,
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "sdsessions_tui/screens.tcss" in names
    assert "sdsessions_tui/__main__.py" in names
    assert "sdsessions = sdsessions_tui.cli:main" in entry_points


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "sdsessions_tui", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("sdsessions ")


def test_ci_runs_exactly_the_readmes_test_command():
    """The README promises that ``.ci/run`` runs its test command: a change to one must reach the other."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if "pip install -q -e '.[dev]'" in line)
    assert (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()[-1] == command

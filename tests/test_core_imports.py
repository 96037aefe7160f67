"""core/ never imports Textual: the headless commands and scripts depend on it."""

import pkgutil
import subprocess
import sys

import sdsessions_tui.core

CORE_MODULES = sorted(f"sdsessions_tui.core.{m.name}" for m in pkgutil.iter_modules(sdsessions_tui.core.__path__))


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_core_modules_are_all_found():
    assert {"sdsessions_tui.core.stats", "sdsessions_tui.core.discovery", "sdsessions_tui.core.demo"} <= set(
        CORE_MODULES)


def test_importing_every_core_module_does_not_import_textual():
    imports = "; ".join(f"import {name}" for name in CORE_MODULES)
    result = _run(f"{imports}; import sys; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
                  "('textual', 'textual_image')); print(bad); sys.exit(1 if bad else 0)")
    assert result.returncode == 0, result.stdout + result.stderr


def test_headless_listing_does_not_import_textual(tmp_path):
    (tmp_path / "20251114_093010-empty").mkdir()
    result = _run("import sys; from sdsessions_tui.cli import main; code = main(['list', sys.argv[1]]); "
                  "bad = [m for m in sys.modules if m.startswith('textual')]; "
                  "sys.exit(3 if bad else code)" .replace("sys.argv[1]", repr(str(tmp_path))))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "20251114_093010-empty" in result.stdout

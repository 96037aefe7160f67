"""The architecture contracts of pyproject.toml's ``[tool.importlinter]`` hold (``lint-imports``).

Run with the tests so that an import crossing a layer fails the suite at once, with
import-linter's explanation: the chain of imports that breaks which contract.
"""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    # import-linter has no ``python -m`` entry: call its console script's function; no cache
    # written into the source tree.
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--no-logo"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout

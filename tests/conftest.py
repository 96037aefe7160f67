"""Fixtures that build session folders in tmp_path, in code (no binary blobs).

Nothing here reads the user's home: every path is under pytest's tmp_path.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

#: A time far enough in the past that a session written "at" it is not running.
OLD = time.time() - 86_400


def png_bytes(color: tuple[int, int, int] = (200, 40, 40), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, fmt)
    return buffer.getvalue()


def write_session(
    root: Path,
    name: str,
    *,
    manifest: dict[str, Any] | bytes | None = None,
    manifest_name: str = "manifest.json",
    images: Iterable[str] = (),
    files: dict[str, bytes | str] | None = None,
    mtime: float | None = OLD,
) -> Path:
    """Create ``root/name`` with an optional manifest, image files and other files.

    Every file gets ``mtime`` (default: a day ago) unless it is None (now).
    """
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if manifest is not None:
        data = manifest if isinstance(manifest, bytes) else json.dumps(manifest, ensure_ascii=False).encode()
        (folder / manifest_name).write_bytes(data)
        written.append(folder / manifest_name)
    image = png_bytes()
    for image_name in images:
        (folder / image_name).write_bytes(image)
        written.append(folder / image_name)
    for file_name, content in (files or {}).items():
        path = folder / file_name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        written.append(path)
    if mtime is not None:
        for path in written:
            os.utime(path, (mtime, mtime))
    return folder


def image_names(manifest: dict[str, Any]) -> list[str]:
    """The file names of a manifest's images (what :func:`write_session` should write for it)."""
    return [image["filename"] for image in manifest["images"]]


@pytest.fixture
def make_session(tmp_path: Path) -> Callable[..., Path]:
    """``make_session(name, **kwargs)`` builds a session folder under ``tmp_path / "root"``."""
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    return lambda name, **kwargs: write_session(root, name, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_user_files(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the real user's config, database or thumbnail cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SDSESSIONS_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("SDSESSIONS_DB", str(home / "sessions.db"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))

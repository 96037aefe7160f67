"""The user's config file: ``config.toml`` in the user config folder.

Example (every key optional)::

    roots = ["~/sd/results", "/mnt/d/apioutput"]   # remembered session roots
    db = "~/sdsessions.db"                         # database path
    images = "halfcell"        # auto|halfcell|unicode|sixel|tgp|none
    theme = "textual-dark"     # any Textual theme name
    poll = false               # force polling file watching
    advance_after_rating = false   # a flag or rating key moves to the next row (fast culling)
    [keymap]                   # command id -> key(s), alternatives comma-separated
    "table.sort" = "o"

The file is ``$SDSESSIONS_CONFIG`` if set, else ``config.toml`` in
``platformdirs.user_config_dir("sdsessions")``.  A missing file means the
defaults.  Paths get ``~`` expanded; a relative path in the file is relative
to the file's folder.  ``$SDSESSIONS_DB``, when set, wins over ``db`` in the
file (the environment is more specific than the file), and command-line flags
win over both (:func:`merge`).

A bad file raises :class:`ConfigError` whose message is one line naming the
file, the line (and column when known) and the key; never a traceback.

Core must not import Textual, so the keymap's command ids are checked only
when the caller passes the known ids (``known_commands``, from the TUI's
command registry) or calls :func:`validate_keymap` later.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

from .db import APP_NAME, ENV_DB, default_db_path
from .text import clean_text

ENV_CONFIG = "SDSESSIONS_CONFIG"
CONFIG_NAME = "config.toml"
IMAGE_MODES = ("auto", "halfcell", "unicode", "sixel", "tgp", "none")
KNOWN_KEYS = ("roots", "db", "images", "theme", "poll", "advance_after_rating", "keymap")


class ConfigError(Exception):
    """The config file cannot be used; the message is one line for the user."""

    def __init__(self, message: str) -> None:
        # Keys and values come from the file: no control characters or newlines reach the terminal.
        super().__init__(clean_text(message))


@dataclass(frozen=True)
class Config:
    roots: tuple[Path, ...] = ()
    """Remembered session roots, ``~`` expanded."""
    db: Path | None = None
    """The database file; None means :func:`~sdsessions_tui.core.db.default_db_path`."""
    images: str = "halfcell"
    """One of :data:`IMAGE_MODES`; ``halfcell`` (works over any SSH link) by default."""
    theme: str | None = None
    """A Textual theme name; None keeps Textual's default."""
    poll: bool = False
    """Force polling file watching."""
    advance_after_rating: bool = False
    """A flag or rating key on one row moves the cursor to the next row."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Command id -> Textual key string(s), for ``App.set_keymap``."""
    source: Path | None = None
    """The file these settings were read from, None when there was none."""


def config_path() -> Path:
    """``$SDSESSIONS_CONFIG`` if set, else ``config.toml`` in the user config folder."""
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_NAME


def cache_dir() -> Path:
    """The user cache folder (thumbnails live in its ``thumbnails`` sub-folder)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def locations(config: Config | None = None) -> dict[str, Path]:
    """Where things are: ``config`` (the file, existing or not), ``db`` and ``cache``.

    ``db`` is ``config.db`` when given (after :func:`merge`, the effective
    choice), else the default database path.
    """
    db = config.db if config is not None and config.db is not None else default_db_path()
    source = config.source if config is not None and config.source is not None else config_path()
    return {"config": source, "db": db, "cache": cache_dir()}


# --- loading ----------------------------------------------------------------------------------------


def load_config(path: Path | None = None, *, known_commands: Collection[str] | None = None,
                must_exist: bool = False) -> Config:
    """Read the config file (default :func:`config_path`); a missing file gives the defaults.

    ``known_commands``: the command ids a ``[keymap]`` may name; not checked
    when None.  ``must_exist``: a missing file is an error (for an explicit
    ``--config PATH``).  Raises :class:`ConfigError`.
    """
    path = (Path(path).expanduser() if path is not None else config_path())
    text = _read_text(path, must_exist)
    if text is None:
        config = Config()
    else:
        config = _parse(path, text)
        if known_commands is not None:
            _check_keymap_ids(path, text, config.keymap, known_commands)
    env_db = os.environ.get(ENV_DB)
    if env_db:
        config = replace(config, db=Path(env_db).expanduser())
    return config


def validate_keymap(config: Config, known_commands: Collection[str]) -> None:
    """Check that every ``[keymap]`` id is a command id (for callers that loaded without them)."""
    text = ""
    if config.source is not None:
        try:
            text = config.source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
    _check_keymap_ids(config.source or Path(CONFIG_NAME), text, config.keymap, known_commands)


def merge(config: Config, *, roots: Sequence[str | Path] | None = None, db: str | Path | None = None,
          images: str | None = None, theme: str | None = None, poll: bool | None = None) -> Config:
    """Command-line values over the file's: None (or no roots) means "not given on the command line".

    Flag paths get ``~`` expanded but stay relative to the current folder.
    """
    changes: dict[str, Any] = {}
    if roots:
        changes["roots"] = _unique(Path(root).expanduser() for root in roots)
    if db is not None:
        changes["db"] = Path(db).expanduser()
    if images is not None:
        changes["images"] = images
    if theme is not None:
        changes["theme"] = theme
    if poll is not None:
        changes["poll"] = poll
    return replace(config, **changes) if changes else config


def _read_text(path: Path, must_exist: bool) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(f"{path}: no such config file") from None
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except OSError as error:
        if path.is_dir():
            raise ConfigError(f"{path}: is a folder, not a config file") from None
        raise ConfigError(f"{path}: cannot read the config file ({error.strerror or error})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError(f"{path} line {line}: the config file is not UTF-8 text "
                          f"(byte 0x{data[error.start]:02x}); save it as UTF-8") from None


_TOML_POSITION = re.compile(r"^(?P<message>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$", re.S)
_TOML_END = re.compile(r"^(?P<message>.*?)\s*\(at end of document\)$", re.S)


def _parse(path: Path, text: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(_toml_message(path, text, str(error))) from None
    errors = _Errors(path, text)
    unknown = [key for key in data if key not in KNOWN_KEYS]
    if unknown:
        key = unknown[0]
        raise errors.at(key, f"unknown key {_q(key)} (known: {', '.join(KNOWN_KEYS)})")
    base = path.parent
    config = Config(source=path)
    changes: dict[str, Any] = {}
    if "roots" in data:
        value = data["roots"]
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise errors.at("roots", '"roots" must be a list of folders, e.g. roots = ["~/sd/results"]')
        changes["roots"] = _unique(_file_path(base, item) for item in value)
    if "db" in data:
        value = data["db"]
        if not isinstance(value, str) or not value.strip():
            raise errors.at("db", '"db" must be a file path, e.g. db = "~/sdsessions.db"')
        changes["db"] = _file_path(base, value)
    if "images" in data:
        value = data["images"]
        mode = value.strip().lower() if isinstance(value, str) else None
        if mode not in IMAGE_MODES:
            raise errors.at("images", f'"images" must be one of {", ".join(IMAGE_MODES)} (got {_show(value)})')
        changes["images"] = mode
    if "theme" in data:
        value = data["theme"]
        if not isinstance(value, str) or not value.strip():
            raise errors.at("theme", '"theme" must be a theme name, e.g. theme = "textual-dark"')
        changes["theme"] = value.strip()
    for name in ("poll", "advance_after_rating"):
        if name in data:
            value = data[name]
            if not isinstance(value, bool):
                raise errors.at(name, f'"{name}" must be true or false (got {_show(value)})')
            changes[name] = value
    if "keymap" in data:
        changes["keymap"] = _keymap(errors, data["keymap"])
    return replace(config, **changes)


def _keymap(errors: _Errors, value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise errors.at("keymap", '"keymap" must be a table: [keymap] then lines like "table.sort" = "o"')
    keymap: dict[str, str] = {}
    for command_id, keys in value.items():
        if isinstance(keys, dict):
            # ``table.sort = "o"`` unquoted is a dotted key: a nested table in TOML.
            dotted = f"{command_id}.{next(iter(keys), 'id')}"
            raise errors.at(command_id, f"[keymap] {_q(command_id)} must be a key string; for the command id "
                                        f'{_q(dotted)} quote it: {_q(dotted)} = "o"', table="keymap")
        if not isinstance(keys, str) or not _valid_keys(keys):
            raise errors.at(command_id, f'[keymap] {_q(command_id)} must be a key like "o", "ctrl+o" or "f5", '
                                        f'alternatives separated by commas (got {_show(keys)})', table="keymap")
        keymap[command_id] = ",".join(part.strip() for part in keys.split(","))
    return keymap


def _valid_keys(keys: str) -> bool:
    parts = [part.strip() for part in keys.split(",")]
    for part in parts:
        if not part or any(char.isspace() for char in part):
            return False
        if part != "+" and not all(part.split("+")):
            return False
    return True


def _check_keymap_ids(path: Path, text: str, keymap: dict[str, str], known: Collection[str]) -> None:
    known_ids = set(known)
    for command_id in keymap:
        if command_id not in known_ids:
            close = difflib.get_close_matches(command_id, sorted(known_ids), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise _Errors(path, text).at(command_id, f"[keymap] {_q(command_id)} is not a command id{hint}",
                                         table="keymap")


def _toml_message(path: Path, text: str, message: str) -> str:
    message = " ".join(message.split())
    if match := _TOML_POSITION.match(message):
        return (f"{path} line {match['line']}, column {match['column']}: "
                f"invalid TOML: {match['message']}")
    if match := _TOML_END.match(message):
        last = max(1, len(text.splitlines()))
        return f"{path} line {last} (end of file): invalid TOML: {match['message']}"
    return f"{path}: invalid TOML: {message}"


class _Errors:
    """Builds :class:`ConfigError` messages that point at a key's line in the file."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def at(self, key: str, message: str, *, table: str | None = None) -> ConfigError:
        line = _key_line(self.lines, key, table)
        where = f" line {line}" if line is not None else ""
        return ConfigError(f"{self.path}{where}: {message}")


_HEADER = re.compile(r"^\s*\[")


def _key_pattern(key: str) -> str:
    escaped = re.escape(key)
    return rf"(?:{escaped}|\"{escaped}\"|'{escaped}')"


def _key_line(lines: list[str], key: str, table: str | None) -> int | None:
    """1-based line of ``key = ...`` (in ``[table]`` when given, else before the first table), or None."""
    assignment = re.compile(rf"^\s*{_key_pattern(key)}\s*[=.]")
    headers = [index for index, line in enumerate(lines) if _HEADER.match(line)]
    if table is None:
        end = headers[0] if headers else len(lines)
        ranges = [(0, end)]
        header = re.compile(rf"^\s*\[\[?\s*{_key_pattern(key)}\s*[\].]")
        for index in headers:
            if header.match(lines[index]):
                return index + 1
    else:
        table_header = re.compile(rf"^\s*\[\s*{_key_pattern(table)}\s*\]")
        sub_table = re.compile(rf"^\s*\[\[?\s*{_key_pattern(table)}\s*\.\s*{_key_pattern(key)}\s*[\].]")
        for index in headers:
            if sub_table.match(lines[index]):  # [keymap.x]
                return index + 1
        ranges = []
        for position, index in enumerate(headers):
            if table_header.match(lines[index]):
                end = headers[position + 1] if position + 1 < len(headers) else len(lines)
                ranges.append((index + 1, end))
    for start, end in ranges:
        for index in range(start, end):
            if assignment.match(lines[index]):
                return index + 1
    # Fallback (inline tables, dotted keys such as ``keymap."table.sort"``): the first mention.
    loose = re.compile(rf"(?:^|[\s{{,.])\s*{_key_pattern(key)}\s*=")
    for index, line in enumerate(lines):
        if loose.search(line):
            return index + 1
    return None


def _file_path(base: Path, value: str) -> Path:
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else base / path


def _unique(paths: Any) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))


def _q(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, (int, float)):
        return str(value)
    kinds: dict[type, str] = {list: "a list", dict: "a table"}
    return kinds.get(type(value), f"a {type(value).__name__}")

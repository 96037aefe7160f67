"""The config file: defaults, a full file, one-line errors with line numbers, precedence.

Every test points ``$SDSESSIONS_CONFIG`` into tmp_path and clears
``$SDSESSIONS_DB``, and ``HOME`` is tmp_path, so the user's real config is never read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsessions_tui.core import config as config_module
from sdsessions_tui.core.config import (
    IMAGE_MODES,
    Config,
    ConfigError,
    config_path,
    load_config,
    locations,
    merge,
    validate_keymap,
)

COMMAND_IDS = ("app.help", "app.quit", "table.sort", "table.down", "filter.done")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SDSESSIONS_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.delenv("SDSESSIONS_DB", raising=False)
    return home


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | None = None, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- defaults and a valid file ------------------------------------------------------------------------


def test_missing_file_gives_the_defaults(tmp_path):
    config = load_config()
    assert config == Config()
    assert config.roots == () and config.db is None and config.images == "halfcell"
    assert config.theme is None and config.poll is False and config.keymap == {} and config.source is None


def test_env_var_chooses_the_file(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere.toml"
    other.write_text('images = "none"\n', encoding="utf-8")
    monkeypatch.setenv("SDSESSIONS_CONFIG", str(other))
    assert config_path() == other
    config = load_config()
    assert config.images == "none" and config.source == other


def test_default_path_is_in_the_user_config_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SDSESSIONS_CONFIG")
    monkeypatch.setattr(config_module.platformdirs, "user_config_dir",
                        lambda name, appauthor=None: str(tmp_path / "conf" / name))
    assert config_path() == tmp_path / "conf" / "sdsessions" / "config.toml"


def test_full_valid_file(tmp_path, isolated):
    path = write(tmp_path, """
# my settings
roots = ["~/sd/results", "/mnt/d/apioutput", "~/sd/results"]
db = "~/sdsessions.db"
images = "halfcell"
theme = "textual-dark"
poll = true

[keymap]
"table.sort" = "o"
"app.quit" = "ctrl+q, q"
""")
    config = load_config(known_commands=COMMAND_IDS)
    assert config.roots == (isolated / "sd" / "results", Path("/mnt/d/apioutput"))
    assert config.db == isolated / "sdsessions.db"
    assert config.images == "halfcell"
    assert config.theme == "textual-dark"
    assert config.poll is True
    assert config.keymap == {"table.sort": "o", "app.quit": "ctrl+q,q"}
    assert config.source == path


def test_tilde_is_expanded_and_relative_paths_are_relative_to_the_file(tmp_path, isolated):
    path = write(tmp_path, 'roots = ["~", "results"]\ndb = "data/s.db"\n')
    config = load_config()
    assert config.roots == (isolated, path.parent / "results")
    assert config.db == path.parent / "data" / "s.db"
    assert "~" not in str(config.roots[0])


def test_image_mode_is_case_insensitive_and_every_mode_is_accepted(tmp_path):
    for mode in IMAGE_MODES:
        write(tmp_path, f'images = "{mode.upper()}"\n')
        assert load_config().images == mode


def test_empty_file_and_comments_only_are_the_defaults(tmp_path):
    path = write(tmp_path, "# nothing yet\n")
    assert load_config() == Config(source=path)


def test_sdsessions_db_wins_over_the_file(tmp_path, monkeypatch):
    write(tmp_path, 'db = "/from/file.db"\n')
    monkeypatch.setenv("SDSESSIONS_DB", str(tmp_path / "env.db"))
    assert load_config().db == tmp_path / "env.db"


# --- errors ------------------------------------------------------------------------------------------------


def test_toml_syntax_error_names_line_and_column(tmp_path):
    path = write(tmp_path, 'roots = ["a"]\ntheme = "x\\q"\n')
    message = error_of()
    assert message.startswith(f"{path} line 2, column ")
    assert "invalid TOML" in message and "Unescaped" in message


def test_toml_error_at_end_of_document(tmp_path):
    path = write(tmp_path, 'roots = ["a"]\n\ndb = ')
    message = error_of()
    assert message.startswith(f"{path} line 3 (end of file): invalid TOML")


def test_unknown_key_is_named_with_its_line_and_the_known_keys(tmp_path):
    path = write(tmp_path, 'images = "auto"\nrootz = ["a"]\n')
    assert error_of() == (f'{path} line 2: unknown key "rootz" '
                          "(known: roots, db, images, theme, poll, advance_after_rating, keymap)")


def test_unknown_table_is_found_by_its_header(tmp_path):
    path = write(tmp_path, 'poll = false\n\n[keymaps]\n"a" = "b"\n')
    assert error_of().startswith(f'{path} line 3: unknown key "keymaps"')


def test_bad_image_mode(tmp_path):
    path = write(tmp_path, 'roots = []\n\n  images   =  "big"  # typo\n')
    assert error_of() == (f'{path} line 3: "images" must be one of auto, halfcell, unicode, sixel, tgp, none '
                          '(got "big")')


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ('roots = "~/sd"\n', 1, '"roots" must be a list of folders'),
    ('db = "x"\nroots = [\n  "a",\n  3,\n]\n', 2, '"roots" must be a list of folders'),
    ('roots = [""]\n', 1, '"roots" must be a list of folders'),
    ('\n\ndb = 5\n', 3, '"db" must be a file path'),
    ('db = "  "\n', 1, '"db" must be a file path'),
    ('images = 3\n', 1, '"images" must be one of auto, halfcell'),
    ('theme = ""\n', 1, '"theme" must be a theme name'),
    ('theme = true\n', 1, '"theme" must be a theme name'),
    ('poll = "yes"\n', 1, '"poll" must be true or false (got "yes")'),
    ('poll = 1\n', 1, '"poll" must be true or false (got 1)'),
    ('keymap = "o"\n', 1, '"keymap" must be a table'),
    ('[keymap]\n"table.sort" = ""\n', 2, '[keymap] "table.sort" must be a key like'),
    ('[keymap]\n"table.sort" = "o,,p"\n', 2, '[keymap] "table.sort" must be a key like'),
    ('[keymap]\n"table.sort" = "ctrl o"\n', 2, '[keymap] "table.sort" must be a key like'),
    ('[keymap]\n"table.sort" = 7\n', 2, '(got 7)'),
    ('poll = true\n[keymap]\ntable.sort = "o"\n', 3,
     '"table" must be a key string; for the command id "table.sort" quote it'),
])
def test_wrong_types_name_the_key_and_its_line(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    message = error_of()
    assert message.startswith(f"{path} line {line}: "), message
    assert fragment in message


def test_keymap_ids_are_checked_only_when_known_commands_are_given(tmp_path):
    path = write(tmp_path, 'theme = "nord"\n\n[keymap]\n"app.quit" = "x"\n"table.sortt" = "o"\n')
    assert load_config().keymap == {"app.quit": "x", "table.sortt": "o"}
    assert error_of(known_commands=COMMAND_IDS) == (
        f'{path} line 5: [keymap] "table.sortt" is not a command id (did you mean "table.sort"?)')


def test_validate_keymap_after_loading(tmp_path):
    path = write(tmp_path, '[keymap]\n"nope" = "o"\n')
    config = load_config()
    with pytest.raises(ConfigError) as caught:
        validate_keymap(config, COMMAND_IDS)
    assert str(caught.value) == f'{path} line 2: [keymap] "nope" is not a command id'
    validate_keymap(Config(keymap={"app.quit": "x"}), COMMAND_IDS)  # fine, no file needed


def test_non_utf8_file_is_a_clear_error(tmp_path):
    path = write(tmp_path, b'theme = "nord"\nroots = ["caf\xe9"]\n')
    assert error_of() == f"{path} line 2: the config file is not UTF-8 text (byte 0xe9); save it as UTF-8"


def test_a_folder_instead_of_a_file(tmp_path, monkeypatch):
    folder = tmp_path / "cfgdir"
    folder.mkdir()
    monkeypatch.setenv("SDSESSIONS_CONFIG", str(folder))
    assert error_of() == f"{folder}: is a folder, not a config file"


def test_must_exist_for_an_explicit_file(tmp_path):
    missing = tmp_path / "nope.toml"
    assert load_config(missing) == Config()
    assert error_of(missing, must_exist=True) == f"{missing}: no such config file"


def test_control_characters_from_the_file_are_not_echoed(tmp_path):
    write(tmp_path, '"bad\\u001b[31mkey" = 1\n')
    message = error_of()
    assert "\x1b" not in message and "\\x1b" in message


def test_every_error_is_a_config_error_never_a_traceback(tmp_path):
    samples = ['= 1', '[[roots]]\n', 'roots = [[1]]', 'keymap = [1]', '[keymap]\n"a" = {b = 1}\n',
               'images = {a = 1}', "db = '''\n  '''", '[keymap.x]\ny = 1\n', 'poll = 1979-05-27']
    for text in samples:
        write(tmp_path, text)
        with pytest.raises(ConfigError):
            load_config(known_commands=COMMAND_IDS)


# --- merging and locations -----------------------------------------------------------------------------------


def test_merge_flags_over_file_over_defaults(tmp_path, isolated):
    write(tmp_path, 'roots = ["/file/root"]\ndb = "/file.db"\nimages = "sixel"\n')
    config = load_config()
    same = merge(config)
    assert same == config
    assert merge(config, roots=[]) == config  # no ROOT on the command line
    flagged = merge(config, roots=["~/a", Path("/b")], db="~/flag.db", images="none", theme="nord", poll=True)
    assert flagged.roots == (isolated / "a", Path("/b"))
    assert flagged.db == isolated / "flag.db"
    assert (flagged.images, flagged.theme, flagged.poll) == ("none", "nord", True)
    assert flagged.source == config.source
    defaults = merge(load_config(tmp_path / "missing.toml"), images="tgp")
    assert defaults.images == "tgp" and defaults.roots == () and defaults.db is None


def test_merge_keeps_the_file_value_when_a_flag_is_none(tmp_path):
    write(tmp_path, 'images = "unicode"\npoll = true\n')
    config = merge(load_config(), images=None, poll=None, db=None, roots=None)
    assert config.images == "unicode" and config.poll is True


def test_locations(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module.platformdirs, "user_cache_dir",
                        lambda name, appauthor=None: str(tmp_path / "cache" / name))
    monkeypatch.setenv("SDSESSIONS_DB", str(tmp_path / "env.db"))
    where = locations()
    assert where == {"config": tmp_path / "cfg" / "config.toml", "db": tmp_path / "env.db",
                     "cache": tmp_path / "cache" / "sdsessions"}
    assert locations(Config(db=tmp_path / "chosen.db"))["db"] == tmp_path / "chosen.db"



def test_advance_after_rating_is_a_boolean(tmp_path):
    from sdsessions_tui.core.config import ConfigError, load_config

    good = tmp_path / "good.toml"
    good.write_text("advance_after_rating = true\n")
    assert load_config(good).advance_after_rating is True
    bad = tmp_path / "bad.toml"
    bad.write_text('advance_after_rating = "yes"\n')
    with pytest.raises(ConfigError, match="advance_after_rating"):
        load_config(bad)

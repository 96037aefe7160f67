"""Esc read together with the next key: an Esc, then that key.

A terminal sends Esc as the byte ``ESC``, and Alt+key as ``ESC`` followed by
the key.  Textual tells them apart by time (``ESCDELAY``, 100 ms): over a slow
link Esc and the next key arrive in one packet and read as Alt+key.  In this
app Esc closes the editor and the dialogs, and the next key is usually a
command (Esc then ``-``: done, rate dislike), so both readings Textual makes
of such a pair are taken back to Esc + the key:

* ``ESC`` and a digit, ``-``, ``=`` or ``§``, which Textual turns into the
  character macOS's Option key would type (WezTerm's Option+``-`` is ``–``),
  are read as Esc then the plain key, at the parser (:func:`split_escape_pairs`).
  A typed ``–`` (the character itself, as most macOS terminals send it) stays one.
* ``ESC`` and a letter or another character arrives as ``alt+…``; the editor's
  fields, where Alt+key has no use and would type the plain character, take it
  as Esc then the key (:func:`plain_key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from textual import events
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, _character_to_key


@dataclass(frozen=True, slots=True)
class _KeyName:
    """A key name in the parser's table (which holds ``Keys`` members: it reads their ``value``)."""

    value: str


def _key_of(character: str) -> str:
    """The key name Textual gives this character typed alone (``-`` → ``minus``)."""
    name = _character_to_key(character)
    return KEY_NAME_REPLACEMENTS.get(name, name)


def split_escape_pairs() -> None:
    """Make Textual's parser read ``ESC`` + a digit, ``-``, ``=`` or ``§`` as Esc then that key.

    (Its table maps them to the characters of macOS's Option key, for WezTerm.)  Idempotent.
    """
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    table = cast("dict[str, object]", ANSI_SEQUENCES_KEYS)  # (declared a Mapping: it is the parser's dict)
    for sequence, meaning in list(table.items()):
        if len(sequence) == 2 and sequence[0] == "\x1b" and isinstance(meaning, str) and len(meaning) == 1:
            table[sequence] = (Keys.Escape, _KeyName(_key_of(sequence[1])))


def plain_key(event: events.Key) -> events.Key | None:
    """The key of an ``alt+…`` key with a printable character (Esc read with it), else None."""
    character = event.character
    if not event.key.startswith("alt+") or not character or not character.isprintable():
        return None
    return events.Key(_key_of(character), character)

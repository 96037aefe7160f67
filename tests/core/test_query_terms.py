"""The README's query language section and the F1 help say the same thing: both are query_terms."""

from __future__ import annotations

import re
from pathlib import Path

from sdsessions_tui.core import query_terms
from sdsessions_tui.core.query import QueryError, parse_query

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_section() -> tuple[str, list[tuple[str, str]], list[str]]:
    """The README's "Query language" section: its intro paragraph, table rows and notes, unwrapped."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Query language\n"):]
    section = section[:section.index("\n## ", 1)]
    paragraphs = [paragraph for paragraph in section.split("\n\n")[2:] if paragraph.strip()]
    intro, table, notes = paragraphs[0], paragraphs[1], paragraphs[2]
    rows = [(cells[0], cells[1]) for cells in (line[2:-2].split(" | ") for line in table.splitlines()[2:])]
    items = [" ".join(item.split()) for item in re.split(r"^- ", notes, flags=re.MULTILINE) if item.strip()]
    return " ".join(intro.split()), rows, items


def test_the_readme_lists_exactly_the_query_terms_f1_shows() -> None:
    intro, rows, notes = readme_section()
    assert intro == query_terms.INTRO
    assert rows == list(query_terms.TERMS)
    assert notes == list(query_terms.NOTES)


def test_every_example_term_parses() -> None:
    """The examples are real: each backticked term of the table parses (bare keys like ``steps:`` aside)."""
    for term, _meaning in query_terms.TERMS:
        for example in re.findall(r"`([^`]+)`", term):
            if not example.endswith(":"):
                try:
                    parse_query(example)
                except QueryError as error:
                    raise AssertionError(f"{example}: {error.message}") from None

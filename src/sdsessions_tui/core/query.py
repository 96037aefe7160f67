"""The filter bar's query language: text → :class:`ParsedQuery`, and back to canonical text.

What the language says, for people (the README's "Query language" section and the F1 help), is
:mod:`.query_terms`: a term added here gets its row there.
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast

from .filters import SORT_COLUMNS, ParsedQuery, Range, SessionFilter, SessionSort, SortColumn
from .flags import FLAGS
from .status import STATUSES


class QueryError(ValueError):
    """A query the parser rejects: a one-line message for the user, and where the bad term is."""

    def __init__(self, message: str, position: int, term: str) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        """0-based offset of the bad term (of the opening quote, for an unclosed quote)."""
        self.term = term

    def ends(self, text: str) -> bool:
        """The bad term ends ``text``: the word still being typed (or a quote not closed yet)."""
        return self.position + len(self.term) == len(text)


# --- words --------------------------------------------------------------------------------------------------

_QUOTED = r'"(?:\\.|[^"\\])*"'
_WORD = re.compile(rf'(?:{_QUOTED}|[^\s"]+|".*)+', re.S)
"""A word; ``".*`` swallows an unclosed quote to the end, for :func:`_tokenize` to report."""
_PIECE = re.compile(r'"((?:\\.|[^"\\])*)"|[^\s"]+', re.S)
_UNESCAPE = re.compile(r'\\(["\\])')
_KEY = re.compile(r"[A-Za-z]+")
Parts = tuple[tuple[str, bool], ...]
"""A word's pieces with the quotes removed, each with whether it was quoted (quoted ``:`` and ``,`` are text)."""


@dataclass(frozen=True, slots=True)
class _Word:
    start: int
    raw: str
    """As typed, leading ``-`` included: error messages and toggles quote the user's own spelling."""
    negated: bool
    parts: Parts

    @property
    def end(self) -> int:
        return self.start + len(self.raw)

    @property
    def text(self) -> str:
        return "".join(piece for piece, _ in self.parts).strip()

    def error(self, message: str) -> QueryError:
        return QueryError(message, self.start, self.raw)


def _tokenize(text: str) -> list[_Word]:
    """Split on whitespace outside quotes; a word may mix bare and quoted pieces (``model:"pony xl"``)."""
    words = []
    for word in _WORD.finditer(text):
        negated, i, parts = word[0].startswith("-"), word.start() + word[0].startswith("-"), []
        while i < word.end():
            piece = _PIECE.match(text, i, word.end())
            if piece is None:  # a quote the word's regex could not close
                raise QueryError(f"unclosed quote at column {i + 1}", i, text[i:])
            parts.append((_UNESCAPE.sub(r"\1", piece[1]), True) if piece[1] is not None else (piece[0], False))
            i = piece.end()
        words.append(_Word(word.start(), word[0], negated, tuple(parts)))
    return words


def _split_key(word: _Word) -> tuple[str, Parts] | None:
    """The lowercased key and the value of a ``key:value`` word; None when the word is free text."""
    if not word.parts or word.parts[0][1]:
        return None
    key, colon, rest = word.parts[0][0].partition(":")
    value = ((rest, False), *word.parts[1:])
    if not colon or not _KEY.fullmatch(key) or rest.startswith("//"):
        return None
    if any(":" in piece for piece, quoted in value if not quoted):
        return None
    return key.lower(), value


def _show(text: str, limit: int = 40) -> str:
    """Text for a one-line message: whitespace (even quoted newlines) collapsed, long values shortened."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Term:
    """A ``key:value`` word being applied; ``key`` is as typed (``done``, not ``completion``) for messages."""

    word: _Word
    key: str
    parts: Parts

    @property
    def value(self) -> str:
        return "".join(piece for piece, _ in self.parts).strip()

    def items(self) -> list[str]:
        """The value split on unquoted commas, so ``tag:"a,b"`` stays one tag."""
        items = [""]
        for piece, quoted in self.parts:
            pieces = [piece] if quoted else piece.split(",")
            items[-1] += pieces[0]
            items.extend(pieces[1:])
        return items

    def fail(self, why: str, value: str | None = None) -> QueryError:
        return self.word.error(f'{self.key}: "{_show(self.value if value is None else value)}" {why}')


# --- building the filter ------------------------------------------------------------------------------------

_EMPTY = SessionFilter()


class _Builder:
    """Collects terms, detecting contradictions against the earlier word that caused them."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.values: dict[str, Any] = {}
        self.claims: dict[tuple[str, str], tuple[object, _Word]] = {}
        self.bounds: dict[str, tuple[Any, Any, _Word]] = {}
        self.sort: SessionSort | None = None

    def claim(self, key: tuple[str, str], value: object, word: _Word) -> None:
        earlier = self.claims.setdefault(key, (value, word))
        if earlier[0] != value:
            raise word.error(f'"{_show(earlier[1].raw)}" and "{_show(word.raw)}" contradict')

    def add(self, field: str, group: str, item: str, word: _Word) -> None:
        self.claim((group, item.casefold()), word.negated, word)
        items = self.values.setdefault(field, [])
        if item not in items:
            items.append(item)

    def set_flag(self, field: str, value: bool | None, word: _Word) -> None:
        self.claim(("is", field), value, word)
        self.values[field] = value

    def narrow(self, field: str, low: Any, high: Any, word: _Word) -> None:
        """AND a range with the field's earlier ones: repeated terms intersect."""
        if field in self.bounds:
            old_low, old_high, old_word = self.bounds[field]
            low = old_low if low is None else low if old_low is None else max(low, old_low)
            high = old_high if high is None else high if old_high is None else min(high, old_high)
            if low is not None and high is not None and low > high:
                raise word.error(f'"{_show(old_word.raw)}" and "{_show(word.raw)}" contradict')
        self.bounds[field] = (low, high, word)

    def build(self) -> SessionFilter:
        kwargs = {name: type(getattr(_EMPTY, name))(value) if isinstance(value, list) else value
                  for name, value in self.values.items()}
        for name, (low, high, _) in self.bounds.items():
            if name == "date":
                kwargs["date_from"], kwargs["date_to"] = low, high
            else:
                kwargs[name] = Range(low, high)
        return SessionFilter(**kwargs)


def _one_of(names: Iterable[str]) -> str:
    names = list(dict.fromkeys(names))
    return ", ".join(names[:-1]) + " or " + names[-1]


# is: values → SessionFilter flag fields; the first spelling of each field is the canonical one.
# The user's flags come from core/flags.py (their label is both the field and the word).
_FLAG_NAMES = {**{flag.label: flag.label for flag in FLAGS}, "sweep": "sweep", "dry_run": "dryrun",
               "unavailable": "unavailable", "stats_error": "broken", "truncated": "truncated"}
_FLAGS = {name: field for field, name in _FLAG_NAMES.items()} | {
    alias: flag.label for flag in FLAGS for alias in flag.aliases} | {
    "dry-run": "dry_run", "gone": "unavailable", "capped": "truncated"}


def _flag_term(b: _Builder, t: _Term) -> None:
    field = _FLAGS.get(t.value.lower())
    if field is None:
        raise t.fail(f"— use {_one_of(_FLAG_NAMES.values())}")
    b.set_flag(field, not t.word.negated, t.word)


def _show_term(b: _Builder, t: _Term) -> None:
    if t.value.lower() != "all":
        raise t.fail("— use show:all")
    b.set_flag("unavailable", None, t.word)


@dataclass(frozen=True, slots=True)
class _Collection:
    group: str
    """Values of one group can't be both required and excluded."""
    positive: str
    negative: str
    names: dict[str, str] | None = None
    """Allowed values and aliases → canonical value; None = any text (lowercased)."""
    lists: bool = False
    list_field: str | None = None
    """Where a comma list goes instead of ``positive`` (``tag:a,b`` means any of them)."""
    joined: bool = False
    """Written back as one comma-joined term rather than one term per value."""


_RATINGS = {"like": "like", "dislike": "dislike", "none": "none", "unrated": "none"}
_STATUS_NAMES = {s: s for s in STATUSES} | {"failures": "completed_with_failures", "partial": "completed_with_failures"}
_COLLECTIONS = {
    "rating": _Collection("rating", "ratings", "exclude_ratings", _RATINGS, lists=True, joined=True),
    "status": _Collection("status", "statuses", "exclude_statuses", _STATUS_NAMES, lists=True, joined=True),
    "model": _Collection("model", "models", "exclude_models"),
    "sampler": _Collection("sampler", "samplers", "exclude_samplers"),
    "scheduler": _Collection("scheduler", "schedulers", "exclude_schedulers"),
    "tag": _Collection("tag", "tags_all", "tags_none", lists=True, list_field="tags_any"),
    "anytag": _Collection("tag", "tags_any", "tags_none", lists=True, joined=True),
}


def _collection_term(spec: _Collection, b: _Builder, t: _Term) -> None:
    raw = t.items() if spec.lists else [t.value]
    items = [item.strip().lower() for item in raw if item.strip()]
    if not items:
        raise t.word.error(f'empty value for "{t.key}:"')
    field = spec.negative if t.word.negated else spec.list_field if spec.list_field and len(raw) > 1 else spec.positive
    for item in items:
        if spec.names is not None and item not in spec.names:
            raise t.fail(f"— use {_one_of(spec.names.values())}", item)
        b.add(field, spec.group, spec.names[item] if spec.names else item, t.word)


@dataclass(frozen=True, slots=True)
class _Number:
    integer: bool
    percent: bool = False


_NUMBERS = {"steps": _Number(True), "cfg": _Number(False), "completion": _Number(False, percent=True),
            "images": _Number(True), "width": _Number(True), "height": _Number(True)}
_NUM = r"(\d+(?:\.\d+)?%?)"
_COMPARE = re.compile(rf"(>=|<=|>|<)?{_NUM}")
_SPAN = re.compile(rf"{_NUM}?(\.\.|-){_NUM}?")
_MAX_NUMBER = 1e15
_NOT_A_RANGE = "is not a number or range (try 20, 20-30, >=20)"


def _number(t: _Term, text: str, spec: _Number) -> float:
    if text.endswith("%") and not spec.percent:
        raise t.fail(_NOT_A_RANGE)
    text = text.removesuffix("%")
    if spec.integer and "." in text:
        raise t.fail("— use whole numbers")
    if float(text) > _MAX_NUMBER:  # keeps SQLite's 64-bit integers (and int()'s digit limit) out of reach
        raise t.fail("is too large")
    return int(text) if spec.integer else float(text)


def _numeric_bounds(t: _Term, spec: _Number) -> tuple[float | None, float | None]:
    """``>N`` on whole-number fields means N+1; on decimal fields there is no next number, so it means ``>=N``."""
    if compare := _COMPARE.fullmatch(t.value):
        n, step = _number(t, compare.group(2), spec), int(spec.integer)
        bounds = {None: (n, n), ">=": (n, None), ">": (n + step, None), "<=": (None, n), "<": (None, n - step)}
        low, high = bounds[compare.group(1)]
        if high is not None and high < 0:
            raise t.fail("matches nothing")
        return low, high
    span = _SPAN.fullmatch(t.value)
    if span is None or not (span[1] and span[3] or span[2] == ".." and (span[1] or span[3])):
        raise t.fail(_NOT_A_RANGE)
    low, high = (_number(t, part, spec) if part else None for part in (span[1], span[3]))
    if low is not None and high is not None and low > high:
        raise t.fail("— the low end is above the high end")
    return low, high


def _numeric_term(field: str, spec: _Number, b: _Builder, t: _Term) -> None:
    b.narrow(field, *_numeric_bounds(t, spec), t.word)


_SIZE = re.compile(r"(\d+)?[xX](\d+)?")


def _size_term(b: _Builder, t: _Term) -> None:
    match = _SIZE.fullmatch(t.value)
    if match is None or not (match[1] or match[2]):
        raise t.fail("is not a size (try 832x1216, 832x, x1216)")
    for field, digits in (("width", match[1]), ("height", match[2])):
        if digits:
            n = _number(t, digits, _NUMBERS[field])
            b.narrow(field, n, n, t.word)


_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_RELATIVE = re.compile(r"(\d{1,7})([dwm])")
_DAY = timedelta(days=1)


def _period(text: str, today: date) -> tuple[date, date] | None:
    """The first and last day of ``2025-11-14``, ``2025-11``, ``2025``, ``today`` or ``yesterday``."""
    if text in ("today", "yesterday"):
        when = today if text == "today" else today - _DAY
        return when, when
    if (match := _DATE.fullmatch(text)) is None:
        return None
    year, month, day = int(match[1]), *(int(group) if group else None for group in match.groups()[1:])
    if month is not None and day is not None:
        return date(year, month, day), date(year, month, day)
    if month is not None:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return date(year, 1, 1), date(year, 12, 31)


def _relative(text: str, today: date) -> tuple[date, date] | None:
    """``7d`` / ``2w`` / ``3m``: the last N days, weeks or calendar months, ending today."""
    if (match := _RELATIVE.fullmatch(text)) is None or int(match[1]) == 0:
        return None
    n = int(match[1])
    if match[2] != "m":
        return today - timedelta(days=n * (7 if match[2] == "w" else 1)) + _DAY, today
    year, month = divmod(today.year * 12 + today.month - 1 - n, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1]) if year >= 1 else 0
    return date(year, month + 1, day) + _DAY, today


def _date_bounds(text: str, today: date) -> tuple[date | None, date | None] | None:
    try:
        for op in (">=", "<=", ">", "<"):
            if text.startswith(op):
                if (p := _period(text[len(op):], today)) is None:
                    return None
                return {">=": (p[0], None), ">": (p[1] + _DAY, None), "<=": (None, p[1]), "<": (None, p[0] - _DAY)}[op]
        if ".." in text:
            low, _, high = text.partition("..")
            first, last = (_period(end, today) if end else (None, None) for end in (low, high))
            return None if first is None or last is None or not (low or high) else (first[0], last[1])
        return _period(text, today) or _relative(text, today)
    except (ValueError, OverflowError):  # 2025-13-01, year 0, 9999999d
        return None


def _date_term(b: _Builder, t: _Term) -> None:
    bounds = _date_bounds(t.value.lower(), b.today)
    if bounds is None:
        raise t.fail("is not a date (try 2025-11-14, 2025-11, 7d)")
    low, high = bounds
    if low is not None and high is not None and low > high:
        raise t.fail("— the start is after the end")
    b.narrow("date", *bounds, t.word)


def _sort_term(b: _Builder, t: _Term) -> None:
    value = t.value.lower()
    if value.removeprefix("-") not in SORT_COLUMNS:
        raise t.fail(f"— use one of {', '.join(SORT_COLUMNS)} (prefix - to sort descending)")
    b.sort = SessionSort(cast(SortColumn, value.removeprefix("-")), descending=value.startswith("-"))  # (checked above)


_HANDLERS: dict[str, Callable[[_Builder, _Term], None]] = {
    "is": _flag_term, "show": _show_term,
    **{key: partial(_collection_term, spec) for key, spec in _COLLECTIONS.items()},
    "date": _date_term,
    **{key: partial(_numeric_term, key, spec) for key, spec in _NUMBERS.items()},
    "size": _size_term, "sort": _sort_term,
}
_ALIASES = {"done": "completion", "imgs": "images"}
_NEGATABLE = frozenset({"is", *_COLLECTIONS})


def _unknown(key: str) -> str:
    close = difflib.get_close_matches(key, [*_HANDLERS, *_ALIASES], n=1)
    hint = f" (did you mean {close[0]}:?)" if close else ""
    return f'unknown filter "{_show(key)}:"{hint} — known: {", ".join(_HANDLERS)}; quote the word to search for it'


def _apply(b: _Builder, word: _Word) -> None:
    split = _split_key(word)
    if split is None:
        if word.text:  # a lone "-" or "" is ignored, so half-typed queries still filter
            b.add("exclude_text" if word.negated else "text", "text", word.text, word)
        return
    typed, parts = split
    key = _ALIASES.get(typed, typed)
    if key not in _HANDLERS:
        raise word.error(_unknown(typed))
    if word.negated and key not in _NEGATABLE:
        raise word.error(f'"-{typed}:" can\'t be negated')
    term = _Term(word, typed, parts)
    if not term.value:
        raise word.error(f'empty value for "{typed}:"')
    _HANDLERS[key](b, term)


def parse_query(text: str, *, today: date | None = None) -> ParsedQuery:
    """Parse filter-bar text; raises only :class:`QueryError`. ``today`` anchors ``today``, ``7d`` etc."""
    builder = _Builder(date.today() if today is None else today)
    for word in _tokenize(text):
        _apply(builder, word)
    return ParsedQuery(builder.build(), builder.sort)


def parse_good_terms(text: str, *, today: date | None = None) -> tuple[ParsedQuery, QueryError | None]:
    """What the filter bar lists while ``text`` has errors: the query without its bad terms, and
    the first error (None when everything parses).

    A known ``key:`` with no value yet at the very end is being typed: left out with no error,
    like a lone ``-``.  Never raises.
    """
    text = _without_unfinished_key(text)
    first: QueryError | None = None
    while True:  # each pass removes the bad term (never empty): it ends
        try:
            return parse_query(text, today=today), first
        except QueryError as error:
            first = first or error
            text = text[:error.position] + text[error.position + len(error.term):]


def _without_unfinished_key(text: str) -> str:
    try:
        words = _tokenize(text)
    except QueryError:
        return text
    if not words or words[-1].end != len(text) or (split := _split_key(words[-1])) is None:
        return text
    typed, parts = split
    known = _ALIASES.get(typed, typed) in _HANDLERS
    return text[:words[-1].start] if known and not _Term(words[-1], typed, parts).value else text


# --- writing it back ----------------------------------------------------------------------------------------


def _quote(value: str, *, free: bool = False) -> str:
    """A value as a query word, quoted when it would otherwise split, negate or read as ``key:``."""
    bare = (value and not any(c.isspace() or c in '":,' for c in value) and not value.startswith("//")
            and not (free and value.startswith("-")))
    return value if bare else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_number(x: float) -> str:
    if isinstance(x, int) or x.is_integer():
        return str(int(x))
    text = format(Decimal(repr(float(x))), "f")  # no exponent: the parser reads plain decimals only
    return text.rstrip("0").rstrip(".")


def _format_flags(f: SessionFilter) -> Iterator[str]:
    for field, name in _FLAG_NAMES.items():
        value = getattr(f, field)
        if field == "unavailable":
            yield from ["show:all"] if value is None else ["is:unavailable"] if value else []
        elif value is not None:
            yield f"{'' if value else '-'}is:{name}"


def _format_collections(f: SessionFilter) -> Iterator[str]:
    written: set[str] = set()
    for key, spec in _COLLECTIONS.items():
        for sign, field in (("", spec.positive), ("-", spec.negative)):
            values = list(getattr(f, field))
            if field in written or not values:
                continue
            written.add(field)
            if spec.names is not None:
                order = list(dict.fromkeys(spec.names.values()))
                values.sort(key=lambda v: (order.index(v) if v in order else len(order), v))
            if spec.joined:
                yield f"{sign}{key}:" + ",".join(_quote(v) for v in values)
            else:
                yield from (f"{sign}{key}:{_quote(v)}" for v in values)


def _format_ranges(f: SessionFilter) -> Iterator[str]:
    if f.date_from is not None or f.date_to is not None:
        low, high = (d.isoformat() if d else "" for d in (f.date_from, f.date_to))
        yield f"date:{low}" if low == high else f"date:{low}..{high}"
    exact = [r.low for r in (f.width, f.height) if r is not None and r.low is not None and r.low == r.high]
    if len(exact) == 2:
        yield f"size:{_format_number(exact[0])}x{_format_number(exact[1])}"
    for key in _NUMBERS:
        r = getattr(f, key)
        if r is None or (r.low is None and r.high is None) or (len(exact) == 2 and key in ("width", "height")):
            continue
        low, high = ("" if n is None else _format_number(n) for n in (r.low, r.high))  # (a number is never "")
        yield f"{key}:" + (low if low == high else f">={low}" if not high else f"<={high}" if not low
                           else f"{low}..{high}")


def format_filter(f: SessionFilter, sort: SessionSort | None = None) -> str:
    """Canonical query text for a filter (and sort); parsing it gives the same filter back."""
    terms = [*_format_flags(f), *_format_collections(f), *_format_ranges(f)]
    terms += [_quote(t, free=True) for t in f.text] + ["-" + _quote(t, free=True) for t in f.exclude_text]
    if sort is not None:
        terms.append(f"sort:{'-' if sort.descending else ''}{sort.column}")
    return " ".join(terms)


# --- chips --------------------------------------------------------------------------------------------------


def _identity(word: _Word) -> tuple[str, object]:
    """What a word means, ignoring its sign and spelling, so a chip for ``is:liked`` finds ``-IS:fav``."""
    split = _split_key(word)
    if split is None:
        return "", word.text.casefold()
    typed, parts = split
    key, term = _ALIASES.get(typed, typed), _Term(word, typed, parts)
    if key == "is":
        return key, _FLAGS.get(term.value.lower(), term.value.lower())
    spec = _COLLECTIONS.get(key)
    if spec is None or not spec.lists:
        return key, term.value.lower()
    raw = term.items()
    items = frozenset(i.strip().lower() for i in raw if i.strip())
    key = "anytag" if key == "tag" and len(raw) > 1 else key
    return key, frozenset((spec.names or {}).get(i, i) for i in items)


def _cut(text: str, start: int, end: int) -> str:
    """Remove one word and the whitespace before it (after it, for the first word)."""
    before = text[:start].rstrip()
    return before + text[end:] if before else text[end:].lstrip()


def _append(text: str, term: str) -> str:
    return text + term if not text or text[-1].isspace() else f"{text} {term}"


def _rewrite(text: str, edits: list[tuple[_Word, str]]) -> str:
    """Replace each word by its new text (``""`` cuts it), leaving everything else as typed."""
    for word, new in sorted(edits, key=lambda edit: edit[0].start, reverse=True):
        text = _cut(text, word.start, word.end) if not new else text[:word.start] + new + text[word.end:]
    return text


def _list_term(word: _Word) -> tuple[_Collection, str, list[str]] | None:
    """A list-valued term's collection, key as typed and items as typed (``status:Running,aborted``)."""
    split = _split_key(word)
    if split is None:
        return None
    typed, parts = split
    spec = _COLLECTIONS.get(_ALIASES.get(typed, typed))
    if spec is None or not spec.lists:
        return None
    key = word.parts[0][0].partition(":")[0]
    return spec, key, [item.strip() for item in _Term(word, typed, parts).items() if item.strip()]


def _canonical(spec: _Collection, items: list[str]) -> frozenset[str]:
    return frozenset((spec.names or {}).get(item.lower(), item.lower()) for item in items)


def toggle_term(text: str, term: str) -> str:
    """Add ``term`` to the user's query, or remove it if present, leaving the rest of the text as typed.

    A list term holding it among other values loses just that value (``status:running,aborted``
    toggling ``status:running`` gives ``status:aborted``).  If only the opposite sign is present
    (``-is:liked`` when toggling ``is:liked``) it is taken out there and ``term`` put in.
    Raises :class:`QueryError` if ``text`` has an unclosed quote or ``term`` is not exactly one term.
    """
    wanted = _tokenize(term)
    if len(wanted) != 1:
        raise QueryError(f'"{_show(term)}" is not a single term', 0, term)
    want = wanted[0]
    identity, listed = _identity(want), _list_term(want)
    want_items = _canonical(listed[0], listed[2]) if listed is not None else frozenset()

    def without_it(word: _Word) -> str | None:
        """The word with ``term``'s meaning taken out ("" when nothing is left); None: it lacks it."""
        held = _list_term(word)
        if listed is not None and held is not None and held[0].group == listed[0].group:
            if not want_items <= _canonical(held[0], held[2]):
                return None
            rest = [item for item in held[2] if not _canonical(held[0], [item]) <= want_items]
            return f"{'-' if word.negated else ''}{held[1]}:" + ",".join(_quote(item) for item in rest) if rest else ""
        return "" if _identity(word) == identity else None

    holding = [(word, new) for word in _tokenize(text) if (new := without_it(word)) is not None]
    if any(word.negated == want.negated for word, _new in holding):  # it is on: out of every word saying it
        return _rewrite(text, holding)
    if holding and not holding[0][1]:  # the opposite, wholly: the term takes the first one's place
        return _rewrite(text, [(holding[0][0], want.raw), *holding[1:]])
    return _append(_rewrite(text, holding), want.raw)


def _positive_terms(text: str, key: str) -> list[_Term]:
    """The ``key:`` terms (or an alias's) of ``text`` that are not negated."""
    found = []
    for word in _tokenize(text):
        split = _split_key(word)
        if split is not None and not word.negated and _ALIASES.get(split[0], split[0]) == key:
            found.append(_Term(word, *split))
    return found


def term_values(text: str, key: str) -> list[str] | None:
    """The values of the ``key:`` terms in ``text`` (not negated, not empty), as typed, so a picker can show
    what the text says; None when ``text`` has an unclosed quote (its words are not known yet)."""
    try:
        return [term.value for term in _positive_terms(text, key) if term.value]
    except QueryError:
        return None


def replace_terms(text: str, key: str, term: str | None) -> str:
    """``text`` with its ``key:`` terms (not the negated ones) replaced by ``term`` where the first one
    was (at the end when there is none), or taken out (None); the rest stays as typed.

    Raises :class:`QueryError` if ``text`` has an unclosed quote.
    """
    words = [found.word for found in _positive_terms(text, key)]
    if not words:
        return text if term is None else _append(text, term)
    return _rewrite(text, [(words[0], term or ""), *((word, "") for word in words[1:])])


def value_term(key: str, value: str) -> str:
    """``key:value`` as one query word (the value quoted when it needs to be)."""
    return f"{key}:{_quote(value)}"

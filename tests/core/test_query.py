"""The filter bar's query language: every key and form, every error, round trips, chip toggles, and fuzzing."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsessions_tui.core.filters import SORT_COLUMNS, ParsedQuery, Range, SessionFilter, SessionSort
from sdsessions_tui.core.query import (
    QueryError,
    format_filter,
    parse_good_terms,
    parse_query,
    replace_terms,
    term_values,
    toggle_term,
)
from sdsessions_tui.core.status import STATUSES

TODAY = date(2025, 11, 14)


def f(text: str) -> SessionFilter:
    return parse_query(text, today=TODAY).filter


def error(text: str) -> QueryError:
    with pytest.raises(QueryError) as info:
        parse_query(text, today=TODAY)
    return info.value


# --- the brief's example and free text ----------------------------------------------------------------------

def test_full_example():
    got = f("model:flux tag:keep -tag:nsfw is:liked is:sweep rating:like status:aborted "
            "date:2025-11-01..2025-11-30 steps:20-30 cfg:5..7 size:832x1216 cat on a mat")
    assert got == SessionFilter(
        models=("flux",), tags_all=("keep",), tags_none=("nsfw",), liked=True, sweep=True,
        ratings=frozenset({"like"}), statuses=frozenset({"aborted"}), date_from=date(2025, 11, 1),
        date_to=date(2025, 11, 30), steps=Range(20, 30), cfg=Range(5, 7), width=Range(832, 832),
        height=Range(1216, 1216), text=("cat", "on", "a", "mat"))


def test_empty_query_is_the_default_filter():
    assert parse_query("   ") == ParsedQuery(SessionFilter(), None)
    assert f("").unavailable is False


def test_free_text_words_phrases_and_exclusions():
    assert f('Cat  "on a  Mat" -dog -"big bird"') == SessionFilter(
        text=("Cat", "on a  Mat"), exclude_text=("dog", "big bird"))


def test_empty_terms_are_ignored_so_half_typed_queries_filter():
    assert f('cat - "" -"  "') == SessionFilter(text=("cat",))


def test_duplicate_terms_collapse():
    assert f("cat cat tag:a tag:A model:x model:X") == SessionFilter(text=("cat",), tags_all=("a",), models=("x",))


def test_quote_escapes():
    assert f(r'"say \"hi\"" "back\\slash" "C:\dir"').text == ('say "hi"', "back\\slash", "C:\\dir")


def test_quotes_can_sit_inside_a_word():
    assert f('model:"pony diffusion"xl').models == ("pony diffusionxl",)
    assert f('mo"del:x"').text == ("model:x",)


@pytest.mark.parametrize("word", ["http://example.com/a", "a:b:c", "12:30", "a1:b", ":x", "(masterpiece:1.2)",
                                  "model://host/x", "x:"])
def test_words_that_are_not_filters_are_text(word):
    if word == "x:":
        assert error(word).message.startswith('unknown filter "x:"')
    else:
        assert f(word).text == (word,)


def test_quoted_colon_is_always_text():
    assert f('"foo:bar" "model:flux"').text == ("foo:bar", "model:flux")


def test_keys_are_case_insensitive_and_values_lowercased_where_documented():
    assert f("MODEL:Flux Sampler:Euler_A TAG:Keep IS:LIKED Rating:LIKE STATUS:Aborted") == SessionFilter(
        models=("flux",), samplers=("euler_a",), tags_all=("keep",), liked=True, ratings=frozenset({"like"}),
        statuses=frozenset({"aborted"}))


# --- is: / show: ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "field"), [
    ("liked", "liked"), ("favorite", "liked"), ("fav", "liked"), ("test", "test"), ("complete", "complete"),
    ("sweep", "sweep"), ("dryrun", "dry_run"), ("dry-run", "dry_run"), ("broken", "stats_error"),
    ("truncated", "truncated"), ("capped", "truncated"),
])
def test_is_flags_and_negation(value, field):
    assert getattr(f(f"is:{value}"), field) is True
    assert getattr(f(f"-is:{value}"), field) is False
    assert getattr(f("cat"), field) is None


def test_availability():
    assert f("is:unavailable").unavailable is True
    assert f("is:gone").unavailable is True
    assert f("-is:unavailable").unavailable is False
    assert f("show:all").unavailable is None
    assert f("SHOW:ALL").unavailable is None


# --- rating: / status: ---------------------------------------------------------------------------------------

def test_ratings():
    assert f("rating:like").ratings == {"like"}
    assert f("rating:like,none").ratings == {"like", "none"}
    assert f("rating:unrated").ratings == {"none"}
    assert f("rating:dislike rating:like").ratings == {"like", "dislike"}
    assert f("-rating:dislike").exclude_ratings == {"dislike"}
    assert f("-rating:dislike,none") == SessionFilter(exclude_ratings=frozenset({"dislike", "none"}))


def test_statuses():
    assert f("status:" + ",".join(STATUSES)).statuses == set(STATUSES)
    assert f("status:failures").statuses == {"completed_with_failures"}
    assert f("status:partial,running").statuses == {"completed_with_failures", "running"}
    assert f("-status:aborted -status:stale").exclude_statuses == {"aborted", "stale"}


# --- model: / sampler: / tag: --------------------------------------------------------------------------------

def test_schedulers():
    assert f('scheduler:Karras -scheduler:exponential sampler:"DPM++ 2M Karras"') == SessionFilter(
        schedulers=("karras",), exclude_schedulers=("exponential",), samplers=("dpm++ 2m karras",))
    assert format_filter(f("scheduler:karras -scheduler:sgm")) == "scheduler:karras -scheduler:sgm"


def test_models_and_samplers():
    assert f('model:flux model:"Pony Diffusion" -model:sdxl sampler:euler -sampler:DPM') == SessionFilter(
        models=("flux", "pony diffusion"), exclude_models=("sdxl",), samplers=("euler",), exclude_samplers=("dpm",))


def test_model_values_keep_commas():
    assert f("model:a,b").models == ("a,b",)


def test_tags():
    assert f("tag:keep tag:Best") == SessionFilter(tags_all=("keep", "best"))
    assert f("tag:a,b").tags_any == ("a", "b")
    assert f("anytag:a,b anytag:c").tags_any == ("a", "b", "c")
    assert f("anytag:a").tags_any == ("a",)
    assert f("-tag:nsfw -tag:x,y -anytag:z").tags_none == ("nsfw", "x", "y", "z")
    assert f('tag:" Red Hair "').tags_all == ("red hair",)
    assert f('tag:"a,b"').tags_all == ("a,b",)
    assert f('tag:"a,b",c').tags_any == ("a,b", "c")
    assert f("tag:a,,b,").tags_any == ("a", "b")


# --- numbers and size ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("20", Range(20, 20)), ("20-30", Range(20, 30)), ("20..30", Range(20, 30)), ("20..", Range(20, None)),
    ("..30", Range(None, 30)), (">20", Range(21, None)), (">=20", Range(20, None)), ("<30", Range(None, 29)),
    ("<=30", Range(None, 30)), ("0", Range(0, 0)), ("<1", Range(None, 0)),
])
@pytest.mark.parametrize("key", ["steps", "images", "imgs", "width", "height"])
def test_whole_number_ranges(key, value, expected):
    field = {"imgs": "images"}.get(key, key)
    got = getattr(f(f"{key}:{value}"), field)
    assert got == expected
    assert all(isinstance(n, int) for n in (got.low, got.high) if n is not None)


@pytest.mark.parametrize(("value", "expected"), [
    ("7", Range(7, 7)), ("5.5-7", Range(5.5, 7)), ("5..7.5", Range(5, 7.5)), ("4.5..", Range(4.5, None)),
    ("..7", Range(None, 7)), (">5", Range(5, None)), (">=5", Range(5, None)), ("<7", Range(None, 7)),
    ("<=7", Range(None, 7)),
])
@pytest.mark.parametrize("key", ["cfg", "completion", "done"])
def test_decimal_ranges_treat_strict_bounds_as_inclusive(key, value, expected):
    field = {"done": "completion"}.get(key, key)
    assert getattr(f(f"{key}:{value}"), field) == expected


def test_completion_percent_sign():
    assert f("done:<95%").completion == Range(None, 95)
    assert f("completion:50%..100%").completion == Range(50, 100)


def test_repeated_ranges_narrow_each_other():
    assert f("steps:>10 steps:<30 steps:5..25").steps == Range(11, 25)
    assert f("width:>=800 size:832x").width == Range(832, 832)


@pytest.mark.parametrize(("value", "width", "height"), [
    ("832x1216", Range(832, 832), Range(1216, 1216)), ("832X1216", Range(832, 832), Range(1216, 1216)),
    ("832x", Range(832, 832), None), ("x1216", None, Range(1216, 1216)),
])
def test_size(value, width, height):
    got = f(f"size:{value}")
    assert (got.width, got.height) == (width, height)


# --- date: ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "low", "high"), [
    ("2025-11-14", date(2025, 11, 14), date(2025, 11, 14)),
    ("2025-11", date(2025, 11, 1), date(2025, 11, 30)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2025-1-5", date(2025, 1, 5), date(2025, 1, 5)),
    ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("2025-11-01..2025-11-30", date(2025, 11, 1), date(2025, 11, 30)),
    ("2025-10..2025-11", date(2025, 10, 1), date(2025, 11, 30)),
    ("2024..2025-02", date(2024, 1, 1), date(2025, 2, 28)),
    ("2025-11-01..", date(2025, 11, 1), None),
    ("..2025-11-30", None, date(2025, 11, 30)),
    ("..2025", None, date(2025, 12, 31)),
    ("2025-11-01..today", date(2025, 11, 1), TODAY),
    (">2025-11-01", date(2025, 11, 2), None),
    (">=2025-11-01", date(2025, 11, 1), None),
    ("<2025-11-01", None, date(2025, 10, 31)),
    ("<=2025-11-01", None, date(2025, 11, 1)),
    (">2025-11", date(2025, 12, 1), None),
    ("<2025", None, date(2024, 12, 31)),
    ("today", TODAY, TODAY),
    ("TODAY", TODAY, TODAY),
    ("yesterday", date(2025, 11, 13), date(2025, 11, 13)),
    ("1d", TODAY, TODAY),
    ("7d", date(2025, 11, 8), TODAY),
    ("2w", date(2025, 11, 1), TODAY),
    ("3m", date(2025, 8, 15), TODAY),
    ("12m", date(2024, 11, 15), TODAY),
])
def test_dates(value, low, high):
    got = f(f"date:{value}")
    assert (got.date_from, got.date_to) == (low, high)


def test_relative_months_clamp_to_short_months():
    got = parse_query("date:3m", today=date(2025, 5, 31)).filter
    assert (got.date_from, got.date_to) == (date(2025, 3, 1), date(2025, 5, 31))


def test_today_defaults_to_the_real_today():
    assert parse_query("date:today").filter.date_from == date.today()


def test_repeated_dates_narrow():
    got = f("date:2025 date:>=2025-06-01 date:..2025-11")
    assert (got.date_from, got.date_to) == (date(2025, 6, 1), date(2025, 11, 30))


# --- sort: ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("column", SORT_COLUMNS)
def test_sort_columns(column):
    assert parse_query(f"sort:{column}").sort == SessionSort(column, descending=False)
    assert parse_query(f"sort:-{column.upper()}").sort == SessionSort(column, descending=True)


def test_no_sort_term_and_last_sort_wins():
    assert parse_query("cat").sort is None
    assert parse_query("sort:name sort:-date").sort == SessionSort("date", True)


# --- errors --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "fragments", "position"), [
    ("cat steps:20-x", ['steps: "20-x" is not a number or range (try 20, 20-30, >=20)'], 4),
    ("steps:20..30..40", ["is not a number or range"], 0),
    ("steps:..", ["is not a number or range"], 0),
    ("steps:20-", ["is not a number or range"], 0),
    ("steps:-5", ["is not a number or range"], 0),
    ("steps:20%", ['steps: "20%" is not a number'], 0),
    ("steps:20.5", ['steps: "20.5" — use whole numbers'], 0),
    ("steps:30-20", ['steps: "30-20" — the low end is above the high end'], 0),
    ("images:<0", ['images: "<0" matches nothing'], 0),
    ("cfg:" + "9" * 5000, ["is too large"], 0),
    ("steps:" + "9" * 5000, ["is too large"], 0),
    ("a date:2025-13-01", ['date: "2025-13-01" is not a date (try 2025-11-14, 2025-11, 7d)'], 2),
    ("date:2025-02-30", ["is not a date"], 0),
    ("date:0000", ["is not a date"], 0),
    ("date:0d", ["is not a date"], 0),
    ("date:9999999d", ["is not a date"], 0),
    ("date:..", ["is not a date"], 0),
    ("date:2025-11-01-2025-11-30", ["is not a date"], 0),
    ("date:>7d", ["is not a date"], 0),
    ("date:2025-12..2025-11", ['date: "2025-12..2025-11" — the start is after the end'], 0),
    ("rating:great", ['rating: "great" — use like, dislike or none'], 0),
    ("rating:like,great", ['rating: "great" — use like, dislike or none'], 0),
    ("status:done", ['status: "done" — use running, completed, completed_with_failures, aborted, stale,'
                     " incomplete or unknown"], 0),
    ("is:cool", ['is: "cool" — use liked, test, complete, sweep, dryrun, unavailable, broken or truncated'], 0),
    ("show:some", ['show: "some" — use show:all'], 0),
    ("sort:colour", ['sort: "colour" — use one of date, name,', "(prefix - to sort descending)"], 0),
    ("size:832", ['size: "832" is not a size (try 832x1216, 832x, x1216)'], 0),
    ("size:x", ["is not a size"], 0),
    ("a  tag:", ['empty value for "tag:"'], 3),
    ('model:""', ['empty value for "model:"'], 0),
    ("tag:,", ['empty value for "tag:"'], 0),
    ('cat model:"pony', ["unclosed quote at column 11"], 10),
    ('"abc', ["unclosed quote at column 1"], 0),
    ('"abc\\"', ["unclosed quote at column 1"], 0),
    ("x foo:bar", ['unknown filter "foo:" — known: is, show, rating, status, model, sampler, scheduler, tag, anytag,',
                   "date, steps, cfg, completion, images, width, height, size, sort", "quote the word"], 2),
    ("stauts:running", ['unknown filter "stauts:" (did you mean status:?)'], 0),
    ("-steps:20", ['"-steps:" can\'t be negated'], 0),
    ("-sort:date", ['"-sort:" can\'t be negated'], 0),
    ("-show:all", ['"-show:" can\'t be negated'], 0),
    ("-date:today", ['"-date:" can\'t be negated'], 0),
    ("is:liked -is:liked", ['"is:liked" and "-is:liked" contradict'], 9),
    ("-is:fav cat is:favorite", ['"-is:fav" and "is:favorite" contradict'], 12),
    ("is:unavailable show:all", ['"is:unavailable" and "show:all" contradict'], 15),
    ("status:aborted -status:running,aborted", ['"status:aborted" and "-status:running,aborted" contradict'], 15),
    ("rating:like -rating:like", ["contradict"], 12),
    ("tag:a -tag:A", ['"tag:a" and "-tag:A" contradict'], 6),
    ("model:flux -model:FLUX", ["contradict"], 11),
    ("cat -Cat", ['"cat" and "-Cat" contradict'], 4),
    ("steps:20 steps:30", ['"steps:20" and "steps:30" contradict'], 9),
    ("width:800 size:832x", ['"width:800" and "size:832x" contradict'], 10),
    ("date:2024 date:2025", ['"date:2024" and "date:2025" contradict'], 10),
])
def test_errors(query, fragments, position):
    err = error(query)
    assert isinstance(err, ValueError)
    for fragment in fragments:
        assert fragment in err.message
    assert str(err) == err.message
    assert "\n" not in err.message
    assert err.position == position
    assert query[err.position:].startswith(err.term)


# --- format_filter and round trips ---------------------------------------------------------------------------

def test_canonical_text():
    parsed = parse_query("cat  Model:FLUX steps:20-30 sort:-date -is:test is:fav", today=TODAY)
    assert format_filter(parsed.filter, parsed.sort) == "is:liked -is:test model:flux steps:20..30 cat sort:-date"
    assert format_filter(SessionFilter()) == ""
    assert format_filter(SessionFilter(unavailable=None)) == "show:all"


def test_canonical_quoting():
    got = format_filter(SessionFilter(text=("a b", "-x", "k:v", 'say "hi"', "back\\", "//x", "plain"),
                                      models=("pony diffusion",), tags_any=("a,b", "c")))
    assert got == ('model:"pony diffusion" anytag:"a,b",c "a b" "-x" "k:v" "say \\"hi\\"" back\\ "//x" plain')


def test_canonical_numbers_and_sizes():
    got = format_filter(SessionFilter(cfg=Range(0.1, 1e-5), completion=Range(95.0, None), width=Range(832, 832),
                                      height=Range(1216, 1216), steps=Range(None, 30), images=Range(None, None)))
    assert got == "size:832x1216 steps:<=30 cfg:0.1..0.00001 completion:>=95"
    assert format_filter(SessionFilter(width=Range(832, 832))) == "width:832"


ROUND_TRIP_QUERIES = [
    "cat", '"cat on a mat"', "-cat", '-"big bird"', "model:flux", 'model:"pony diffusion"', "-model:sdxl",
    "model:flux model:pony", "sampler:euler -sampler:dpm", "tag:keep", "tag:a,b", "anytag:a", "-tag:nsfw",
    "tag:keep tag:best -tag:x,y", 'tag:"a,b",c', "is:liked", "is:fav -is:test is:complete is:sweep",
    "-is:dry-run is:broken", "is:unavailable", "-is:unavailable", "show:all", "rating:like,none", "rating:unrated",
    "-rating:dislike", "status:failures,running", "-status:aborted,stale", "steps:20", "steps:20-30", "steps:>20",
    "steps:<30", "cfg:5..7", "cfg:>5.5", "done:<95%", "imgs:10..", "width:..1024", "height:>=512",
    "size:832x1216", "size:832x", "size:x1216", "date:2025-11-14", "date:2025-11", "date:2025",
    "date:2025-11-01..", "date:..2025-11-30", "date:>2025-11-01", "date:<2025", "date:today", "date:yesterday",
    "date:7d", "date:2w", "date:3m", "sort:date", "sort:-rating", r'"say \"hi\"" "back\\slash"', '"k:v" "//x"',
    "model:flux tag:keep -tag:nsfw is:liked is:sweep rating:like status:aborted date:2025-11-01..2025-11-30 "
    "steps:20-30 cfg:5..7 size:832x1216 cat on a mat sort:-date",
]


@pytest.mark.parametrize("query", ROUND_TRIP_QUERIES)
def test_round_trip_of_queries(query):
    parsed = parse_query(query, today=TODAY)
    text = format_filter(parsed.filter, parsed.sort)
    assert parse_query(text, today=TODAY) == parsed
    assert format_filter(parse_query(text, today=TODAY).filter, parsed.sort) == text


def _normal(s: str) -> str:
    return s.strip().lower()


def _values(normalise, *, size: int = 3):
    return st.lists(st.text(min_size=1, max_size=8).map(normalise).filter(bool), max_size=size, unique=True)


def _pair(draw, values):
    """Required and excluded values, disjoint (ignoring case) as the parser demands."""
    positive = draw(values)
    taken = {value.casefold() for value in positive}
    return positive, [value for value in draw(values) if value.casefold() not in taken]


def _ranges(integer: bool):
    number = st.integers(0, 10**6) if integer else st.floats(0, 1e6, allow_nan=False)
    return st.one_of(st.none(), st.tuples(st.none() | number, st.none() | number)
                     .filter(lambda r: r != (None, None) and (None in r or r[0] <= r[1]))
                     .map(lambda r: Range(*r)))


flags = st.sampled_from([None, True, False])


def _dates(draw) -> dict:
    low, high = sorted(draw(st.lists(st.dates(), min_size=2, max_size=2)))
    return dict(zip(("date_from", "date_to"), draw(st.sampled_from([(low, None), (None, high), (low, high)])),
                    strict=True))


def _excluding(positive: str, negative: str, values):
    return lambda draw: dict(zip((positive, negative), _pair(draw, values), strict=True))


def _tags(draw) -> dict:
    tags, tags_none = _pair(draw, _values(_normal, size=6))
    split = draw(st.integers(0, len(tags)))
    return {"tags_all": tags[:split], "tags_any": tags[split:], "tags_none": tags_none}


# Each group fills some SessionFilter fields; a drawn filter sets a few groups, which keeps generation fast.
_GROUPS = [
    *(lambda draw, name=name: {name: draw(flags)}
      for name in ("liked", "test", "complete", "sweep", "dry_run", "unavailable", "stats_error", "truncated")),
    _excluding("ratings", "exclude_ratings", st.lists(st.sampled_from(["like", "dislike", "none"]), unique=True)),
    _excluding("statuses", "exclude_statuses", st.lists(st.sampled_from(STATUSES), max_size=3, unique=True)),
    _excluding("models", "exclude_models", _values(_normal)),
    _excluding("samplers", "exclude_samplers", _values(_normal)),
    _excluding("schedulers", "exclude_schedulers", _values(_normal)),
    _excluding("text", "exclude_text", _values(str.strip)),
    _tags, _dates,
    *(lambda draw, name=name: {name: draw(_ranges(False))} for name in ("completion", "cfg")),
    *(lambda draw, name=name: {name: draw(_ranges(True))} for name in ("images", "steps", "width", "height")),
]


@st.composite
def session_filters(draw) -> SessionFilter:
    fields: dict = {}
    for group in draw(st.lists(st.sampled_from(_GROUPS), min_size=1, max_size=6, unique=True)):
        fields |= group(draw)
    containers = {name: type(getattr(SessionFilter(), name)) for name in fields}
    return SessionFilter(**{name: containers[name](value) if containers[name] in (tuple, frozenset) else value
                            for name, value in fields.items()})


sorts = st.none() | st.builds(SessionSort, st.sampled_from(SORT_COLUMNS), st.booleans())


@settings(max_examples=100, deadline=None)
@given(session_filters(), sorts)
def test_round_trip_of_any_normalised_filter(session_filter, sort):
    text = format_filter(session_filter, sort)
    assert parse_query(text, today=TODAY) == ParsedQuery(session_filter, sort), text


# --- toggle_term ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "term", "expected"), [
    ("", "is:liked", "is:liked"),
    ("cat", "is:liked", "cat is:liked"),
    ("cat ", "is:liked", "cat is:liked"),
    ("Cat  MODEL:Flux", "tag:keep", "Cat  MODEL:Flux tag:keep"),
    ("cat is:liked dog", "is:liked", "cat dog"),
    ("is:liked  dog", "is:liked", "dog"),
    ("cat   is:liked", "is:liked", "cat"),
    ("is:liked", "is:liked", ""),
    ("cat -is:liked  dog", "is:liked", "cat is:liked  dog"),
    ("cat IS:Fav dog", "is:liked", "cat dog"),
    ("cat is:liked dog", "-is:liked", "cat -is:liked dog"),
    ("is:liked cat -is:liked", "is:liked", "cat"),
    ("is:liked cat is:fav", "is:liked", "cat"),
    ("tag:KEEP x", "tag:keep", "x"),
    ("tag:a,b", "anytag:b,a", ""),
    ("tag:a,b", "tag:a", "tag:b"),  # one value out of a list, not a second term narrowing it
    ("status:running,aborted", "status:running", "status:aborted"),
    ("x STATUS:Aborted,Running y", "status:running", "x STATUS:Aborted y"),
    ("status:running,aborted status:running", "status:running", "status:aborted"),
    ("rating:like,none", "rating:none", "rating:like"),
    ("status:failures,aborted", "status:completed_with_failures", "status:aborted"),  # (an alias in the list)
    ('tag:"a,b",c', "tag:c", 'tag:"a,b"'),
    ("-status:running,aborted", "status:running", "-status:aborted status:running"),
    ("status:aborted", "status:running", "status:aborted status:running"),
    ("status:running,aborted", "anytag:running", "status:running,aborted anytag:running"),  # another group
    ("rating:like,none", "rating:none,like", ""),
    ("-status:failures", "status:completed_with_failures", "status:completed_with_failures"),
    ('cat "on a mat"', '"on a mat"', "cat"),
    ("cat -dog", "dog", "cat dog"),
    ("done:<95%", "completion:<95%", ""),
    ("x model:flux y", "model:flux", "x y"),
    ("show:all", "show:all", ""),
])
def test_toggle_term(text, term, expected):
    assert toggle_term(text, term) == expected


def test_messages_stay_short_one_liners():
    assert error('model:"a\nb" -model:"a\nb"').message == '"model:"a b"" and "-model:"a b"" contradict'
    assert error("steps:" + "1" * 100).message == 'steps: "' + "1" * 39 + '…" is too large'
    assert len(error("x" * 1000 + ":y").message) < 300


def test_toggle_term_rejects_bad_input():
    with pytest.raises(QueryError, match="unclosed quote"):
        toggle_term('model:"pony', "is:liked")
    with pytest.raises(QueryError, match="not a single term"):
        toggle_term("cat", "is:liked is:test")
    with pytest.raises(QueryError, match="not a single term"):
        toggle_term("cat", "  ")


# --- never crashes -------------------------------------------------------------------------------------------

def _parses_or_query_error(text: str) -> None:
    try:
        parsed = parse_query(text, today=TODAY)
    except QueryError as err:
        assert 0 <= err.position <= len(text) and err.message and len(err.message.splitlines()) == 1
        assert len(err.message) < 300
        return
    assert parse_query(format_filter(parsed.filter, parsed.sort), today=TODAY) == parsed


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_parses_or_raises_query_error(text):
    _parses_or_query_error(text)


PIECES = ["is:", "-", "show:all", "rating:", "status:", "model:", "tag:", "anytag:", "date:", "steps:", "cfg:",
          "done:", "size:", "sort:", "liked", "like", "none", "aborted", ",", "..", "-", ">", ">=", "<", "%", "x",
          "2025", "-11", "-14", "7d", "3m", "today", "20", "5.5", '"', "\\", ":", "//", " ", "  ", "foo", "\t"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=12).map("".join),
       st.dates(date(1, 1, 1), date(9999, 12, 31)))
def test_query_like_text_parses_or_raises_query_error(text, today):
    try:
        parse_query(text, today=today)
    except QueryError:
        pass
    _parses_or_query_error(text)
    for term in ("is:liked", "-tag:nsfw", '"a b"'):
        try:
            assert isinstance(toggle_term(text, term), str)
        except QueryError as err:
            assert err.message.startswith("unclosed quote")


# --- what the filter bar lists while the text has errors ------------------------------------------------------

def good(text: str) -> tuple[SessionFilter, str | None]:
    parsed, err = parse_good_terms(text, today=TODAY)
    return parsed.filter, None if err is None else err.term


@pytest.mark.parametrize(("text", "same_as", "bad"), [
    ("is:sweep steps:abc", "is:sweep", "steps:abc"),
    ("stepz:1 model:flux", "model:flux", "stepz:1"),  # wherever the bad term is
    ("is:liked -is:liked tag:a", "is:liked tag:a", "-is:liked"),
    ("steps:abc cfg:x is:test", "is:test", "steps:abc"),  # several: each left out, the first reported
    ('model:flux "cat on', "model:flux", '"cat on'),
    ("is:sweep steps:", "is:sweep", None),  # a key being typed: no error at all
    ("is:sweep -model:", "is:sweep", None),
    ("is:sweep done:", "is:sweep", None),  # (an alias)
    ("is:sweep steps: ", "is:sweep", "steps:"),  # typed past it: an error
    ("steps: is:sweep", "is:sweep", "steps:"),
    ("is:sweep foo:", "is:sweep", "foo:"),  # an unknown key is wrong however it ends
    ("is:sweep steps:20", "is:sweep steps:20", None),
])
def test_bad_terms_are_left_out_and_the_first_one_reported(text, same_as, bad):
    assert good(text) == (f(same_as), bad)


def test_an_error_ends_the_text_when_its_term_is_the_last_thing_typed():
    assert error("is:sweep steps:20-").ends("is:sweep steps:20-")
    assert error('tag:"a b').ends('tag:"a b')
    assert not error("steps:20- is:sweep").ends("steps:20- is:sweep")
    assert not error("is:sweep steps:20- ").ends("is:sweep steps:20- ")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=12).map("".join))
def test_good_terms_never_raise(text):
    parsed, err = parse_good_terms(text, today=TODAY)
    assert isinstance(parsed, ParsedQuery)
    try:
        assert parse_query(text, today=TODAY) == parsed and err is None
    except QueryError as raised:
        assert err is not None and err.position == raised.position or err is None


# --- picker edits ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "key", "term", "expected"), [
    ("", "model", "model:flux", "model:flux"),
    ("cat", "model", "model:flux", "cat model:flux"),
    ("cat MODEL:pony dog", "model", "model:flux", "cat model:flux dog"),
    ("model:pony cat model:sdxl", "model", "model:flux", "model:flux cat"),
    ("model:pony -model:sdxl cat", "model", None, "-model:sdxl cat"),  # an exclusion is not the picker's
    ("cat steps:abc model:pony", "model", None, "cat steps:abc"),  # a bad term elsewhere stays as typed
    ("date:2025-11 cat", "date", "date:7d", "date:7d cat"),
    ("date:>2025 date:<2026 cat", "date", None, "cat"),
    ("cat date:", "date", "date:today", "cat date:today"),  # (a key being typed)
    ("cat", "date", None, "cat"),
])
def test_replace_terms(text, key, term, expected):
    assert replace_terms(text, key, term) == expected


def test_term_values_read_what_the_text_says():
    assert term_values("cat MODEL:Pony -model:sdxl model:\"a b\" model:", "model") == ["Pony", "a b"]
    assert term_values("done:<95% x", "completion") == ["<95%"]
    assert term_values('cat "open', "model") is None
    with pytest.raises(QueryError, match="unclosed quote"):
        replace_terms('model:"pony', "model", None)

"""The query language as people read it: one text for the README and the F1 help.

``README.md``'s "Query language" section says exactly this (a test compares them, whatever the
wrapping), and the F1 help draws it, so neither drifts from the other.  A term added to
:mod:`.query` gets its row here (and then in the README).  Inline code is marked with backticks.
"""

from __future__ import annotations

from .flags import FLAGS


def _flag_words() -> str:
    """"`is:liked` (`fav`, `favorite`), `is:test`, …": each user flag's term, then its aliases."""
    return ", ".join(f"`{flag.term}`" + (" (" + ", ".join(f"`{alias}`" for alias in sorted(flag.aliases)) + ")"
                                         if flag.aliases else "") for flag in FLAGS)


HEADER: tuple[str, str] = ("Term", "Matches sessions…")
INTRO = (
    'Type terms separated by spaces; a session must match all of them. `"double quotes"` group words '
    '(inside quotes, `\\"` is a quote and `\\\\` a backslash). A leading `-` negates a term. Keys are '
    "case-insensitive."
)
TERMS: tuple[tuple[str, str], ...] = (
    (
        '`cat`, `"cat on a mat"`, `-cat`',
        "with (`-`: without) this text in the name, prompts, placeholders, tags or note; any case",
    ),
    (_flag_words(), f"with this flag set; `-{FLAGS[0].term}` etc.: without it"),
    (
        "`is:sweep`, `is:dryrun` (`dry-run`), `is:broken`",
        "that are a seed sweep / a dry run / whose stats could not be computed; negatable",
    ),
    (
        "`is:truncated` (`capped`)",
        (
            "combinatorial runs whose plan stopped before every combination (× seeds in a sweep) was made: "
            "a cap on the image count; negatable"
        ),
    ),
    (
        "`is:unavailable` (`gone`), `-is:unavailable`, `show:all`",
        "whose folder is gone / present (the default) / either",
    ),
    (
        "`rating:like`, `rating:dislike`, `rating:none` (`unrated`)",
        "rated so; a list means any of them: `rating:like,none`; `-rating:…` excludes",
    ),
    (
        "`status:aborted`, `status:running,stale`",
        (
            "with any of these statuses: running, completed, completed_with_failures (`failures`, "
            "`partial`), aborted, stale, incomplete, unknown; `-status:…` excludes"
        ),
    ),
    (
        "`model:flux`, `sampler:euler`",
        ("whose model / sampler contains this, any case; repeated terms mean any of them; `-model:sdxl` excludes"),
    ),
    (
        '`scheduler:karras`, `sampler:"dpm++ 2m karras"`',
        (
            'whose schedule type contains this (also when an older sampler name holds it: "DPM++ 2M Karras"); '
            "`sampler:` matches the sampler with its schedule type, as users name it"
        ),
    ),
    (
        "`tag:keep`, `tag:a,b` (= `anytag:a,b`), `-tag:nsfw`",
        "with the tag / with any of the tags / without the tag(s); any case",
    ),
    (
        "`steps:` `cfg:` `completion:` (`done:`) `images:` (`imgs:`) `width:` `height:`",
        (
            "in a range: `20`, `20-30`, `20..30`, `20..`, `..30`, `>20`, `>=20`, `<30`, `<=30`. Completion "
            "is a percentage (`done:<95%`). On cfg and completion, `>` and `<` include the bound"
        ),
    ),
    ("`size:832x1216`, `size:832x`, `size:x1216`", "with exactly this width and/or height"),
    (
        "`date:2025-11-14`, `date:2025-11`, `date:2025`, `date:today`, `date:yesterday`",
        "created that day / month / year",
    ),
    (
        ("`date:2025-11-01..2025-11-30`, `date:2025-11..`, `date:..2025`, `date:>=2025-11-01`, `date:<2025-11`"),
        "created in this range, ends included; each end may be a day, month, year, `today` or `yesterday`",
    ),
    ("`date:7d`, `date:2w`, `date:3m`", "created in the last 7 days / 2 weeks / 3 months, today included"),
    (
        "`sort:date`, `sort:-date`",
        (
            "(not a filter) sort ascending / descending (`-`) by date, name, model, images, expected, "
            "completion, status, sampler, steps, cfg, size, duration, liked, rating, tags or updated; the "
            "last `sort:` wins"
        ),
    ),
)
NOTES: tuple[str, ...] = (
    "Repeated range, size and date terms narrow each other: `steps:>10 steps:<30` is `steps:11..29`.",
    "Requiring and excluding the same thing (`is:liked -is:liked`, `tag:a -tag:a`) is an error.",
    ('`tag:`, `anytag:`, `rating:` and `status:` take comma lists; quote a value that holds a comma: `tag:"a,b"`.'),
    (
        "A word is a filter only if it reads `letters:value`, with no second `:` and a value not "
        "starting with `//`. Other words with colons (`12:30`, `a:b:c`, `http://x`) and quoted words "
        '(`"foo:bar"`) are plain text. An unknown key (`foo:bar`) is an error; quote the word to search '
        "for it."
    ),
    'Empty terms (a lone `-`, `""`) are ignored, so a half-typed query still filters.',
)

"""What a session's metadata file says, normalised across eras.

Each era's reader turns its own file shape into one :class:`Extracted`; the
stats code then combines it with the folder listing and never looks at raw
JSON again.  Every field is optional because every manifest field is (spec §7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice, pairwise, permutations, product
from typing import Any, cast

from .coerce import as_datetime, as_dict, as_float, as_int, as_list, as_str, value_text
from .session_stats import FROM_FIRST_IMAGE, FROM_PLAN


@dataclass(slots=True)
class ImageEntry:
    """One ``images[]`` entry of a V2 manifest."""

    filename: Any
    seed: int | None
    applied_variations: Any
    """The placeholder values of this image: the sweep fallback groups on them."""
    prompt: str | None = None
    negative_prompt: str | None = None
    index: int | None = None
    """The planned index, where the manifest states it (a phase-2 plan); V2 names carry it instead."""


@dataclass(slots=True)
class Extracted:
    """Era-independent content of a session's metadata file(s)."""

    manifest_format: str
    template_version: str | None = None
    sd_model: str | None = None
    generation_mode: str | None = None
    seed_mode: str | None = None
    seed_base: int | None = None
    resolved_prompt: str | None = None
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    sampler_name: str | None = None
    scheduler: str | None = None
    images_expected: int | None = None
    total_combinations: int | None = None
    placeholders: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed_list: list[int] | None = None
    """``generation_params.seed_list`` when it is a list (a sweep's seeds); None when absent."""
    planned_seeds: list[int] = field(default_factory=list)
    manifest_generated_at: datetime | None = None
    status_raw: str | None = None
    entries: list[ImageEntry] | None = None
    """V2 ``images[]``; None when the era records no results, so files are counted instead."""
    plan: list[ImageEntry] = field(default_factory=list)
    """A phase-2 manifest's planned prompts (no file names): the gallery matches files to them by index."""
    api_params: dict[str, Any] = field(default_factory=dict)
    theme_name: str | None = None
    style: str | None = None
    duration_seconds: float | None = None
    image_prefix: str | None = None
    """The name V0 image files start with, to find their index."""
    sources: dict[str, str] = field(default_factory=dict)
    """Fields the file does not state but that were derived (field → ``session_stats.FROM_*``)."""


def placeholder(values: list[Any], used: list[Any] | None = None, count: int | None = None) -> dict[str, Any]:
    """A placeholder's values as display text, its first-used values and its pool size."""
    texts = [value_text(v) for v in values]
    return {
        "values": texts,
        "used": [value_text(v) for v in used] if used is not None else texts,
        "count": count if count is not None and count >= 0 else len(texts),
    }


def apply_params(out: Extracted, params: dict[str, Any]) -> None:
    """Take the generation parameters that ``params`` has; keep what it lacks."""
    found = {
        "width": as_int(params.get("width")),
        "height": as_int(params.get("height")),
        "steps": as_int(params.get("steps")),
        "cfg_scale": as_float(params.get("cfg_scale")),
        "sampler_name": as_str(params.get("sampler")) or as_str(params.get("sampler_name")),
        "scheduler": as_str(params.get("scheduler")),
    }
    for name, value in found.items():
        if value is not None:
            setattr(out, name, value)


def extract_v2(manifest: dict[str, Any]) -> Extracted:
    """``manifest.json`` (V2, 2025-10-14+) — the current format, spec §7."""
    out = Extracted("v2")
    snapshot = as_dict(manifest.get("snapshot"))
    out.template_version = as_str(snapshot.get("version"))
    out.manifest_generated_at = as_datetime(snapshot.get("timestamp"))
    out.sd_model = as_str(as_dict(snapshot.get("runtime_info")).get("sd_model_checkpoint"))
    template = as_dict(snapshot.get("resolved_template"))
    out.resolved_prompt = as_str(template.get("prompt"))
    out.negative_prompt = as_str(template.get("negative"))

    params = as_dict(snapshot.get("generation_params"))
    out.generation_mode = as_str(params.get("mode"))
    out.seed_mode = as_str(params.get("seed_mode"))
    out.seed_base = as_int(params.get("base_seed"))
    out.images_expected = _non_negative(params.get("num_images"))
    out.total_combinations = _non_negative(params.get("total_combinations"))
    if isinstance(params.get("seed_list"), list):
        out.seed_list = [s for s in map(as_int, params["seed_list"]) if s is not None]

    out.api_params = as_dict(snapshot.get("api_params"))
    apply_params(out, out.api_params)
    for name, info in as_dict(snapshot.get("variations")).items():
        info = as_dict(info)
        available = as_list(info.get("available"))
        used = as_list(info.get("used"))
        out.placeholders[str(name)] = placeholder(available or used, used, as_int(info.get("count")))
    out.theme_name = as_str(snapshot.get("theme_name"))
    out.style = as_str(snapshot.get("style"))
    out.status_raw = as_str(manifest.get("status"))

    images = manifest.get("images")
    if isinstance(images, list):
        out.entries = []
        for item in images:
            item = as_dict(item)
            out.entries.append(ImageEntry(item.get("filename"), as_int(item.get("seed")),
                                          item.get("applied_variations"), as_str(item.get("prompt")),
                                          as_str(item.get("negative_prompt"))))
        first = as_dict(images[0]) if images else {}
        # The new orchestrator may reset a torn snapshot to {} (spec §9): the
        # first image still says what was generated.
        if out.resolved_prompt is None and as_str(first.get("prompt")):
            out.resolved_prompt = as_str(first.get("prompt"))
            out.sources["resolved_prompt"] = FROM_FIRST_IMAGE
        out.negative_prompt = out.negative_prompt or as_str(first.get("negative_prompt"))
    return out


def extract_phase2(manifest: dict[str, Any]) -> Extracted:
    """``<session_name>_manifest.json`` (2025-10-06 to 10-14): the plan, written before the run."""
    out = Extracted("phase2")
    out.template_version = as_str(manifest.get("templating_system"))
    out.manifest_generated_at = as_datetime(manifest.get("generated_at"))
    planned = [as_dict(v) for v in as_list(manifest.get("variations"))]
    out.images_expected = _non_negative(manifest.get("total_variations"))
    if out.images_expected is None and isinstance(manifest.get("variations"), list):
        out.images_expected = len(planned)
    first = planned[0] if planned else {}
    out.resolved_prompt = as_str(first.get("prompt"))
    out.negative_prompt = as_str(first.get("negative_prompt"))
    out.api_params = as_dict(first.get("parameters"))
    apply_params(out, out.api_params)
    seeds = [as_int(v.get("seed")) for v in planned]
    out.planned_seeds = [s for s in seeds if s is not None]
    out.seed_base = out.planned_seeds[0] if out.planned_seeds else None
    chosen = [as_dict(entry.get("variations")) or as_dict(entry.get("placeholders")) for entry in planned]
    values: dict[str, dict[str, Any]] = {}  # placeholder → its values by text, in first-seen order
    for entry in chosen:
        for name, value in entry.items():
            values.setdefault(str(name), {}).setdefault(_text(value), value)
    out.placeholders = {name: placeholder(list(found.values())) for name, found in values.items()}
    out.image_prefix = as_str(manifest.get("session_name"))
    out.plan = [ImageEntry(None, seed, values, as_str(entry.get("prompt")), as_str(entry.get("negative_prompt")),
                           _planned_index(entry.get("index"), position))
                for position, (entry, values, seed) in enumerate(zip(planned, chosen, seeds, strict=True))]
    _from_plan(out, planned, chosen, seeds)
    return out


def _planned_index(value: Any, position: int) -> int:
    """The entry's ``index``, else its place in the plan (the plan is written in index order)."""
    index = as_int(value)
    return index if index is not None and index >= 0 else position


def _text(value: Any) -> str:
    return value if type(value) is str else value_text(value)


#: Placeholders whose loop orders are all tried when telling a combinatorial plan (5! = 120 orders).
_MAX_PERMUTED = 5
#: Planned prompts checked against a rebuilt template.
_TEMPLATE_CHECKS = 20


def _from_plan(out: Extracted, planned: list[dict[str, Any]], chosen: list[dict[str, Any]],
               seeds: list[int | None]) -> None:
    """What this era's plan shows without stating it: the seed mode, the generation mode (and then
    the combinations), and the template (the manifest lists resolved prompts only).  ``chosen`` are
    the planned placeholder values, ``seeds`` the planned seeds, of each planned prompt."""
    seed_mode = _seed_mode(seeds)
    if seed_mode is not None:
        out.seed_mode, out.sources["seed_mode"] = seed_mode, FROM_PLAN
    names = list(chosen[0]) if chosen else []
    combos = [tuple(map(values.get, names)) for values in chosen]
    try:
        distinct = len(set(combos))
    except TypeError:  # object values (#56): compared as their text
        combos = [tuple(_text(values.get(name)) for name in names) for values in chosen]
        distinct = len(set(combos))
    if names and len(combos) >= 3 and distinct == len(combos):
        pools = [list(dict.fromkeys(combo[k] for combo in combos)) for k in range(len(names))]
        nested = _nested_order(combos, pools)
        out.generation_mode, out.sources["generation_mode"] = ("combinatorial" if nested else "random"), FROM_PLAN
        if nested and len(combos) == math.prod(map(len, pools)):  # every combination: the pools are whole
            out.total_combinations, out.sources["total_combinations"] = len(combos), FROM_PLAN
    if names:
        template = _rebuilt_template(planned, chosen)
        if template is not None:
            out.resolved_prompt = template
        out.sources["resolved_prompt"] = FROM_PLAN if template is not None else FROM_FIRST_IMAGE


def _seed_mode(seeds: list[int | None]) -> str | None:
    """fixed = one seed, progressive = seed + index, random = -1 (spec §11); None when unclear."""
    if not seeds or None in seeds:
        return None
    if all(seed == -1 for seed in seeds):
        return "random"
    if len(seeds) < 2:
        return None
    if all(seed == seeds[0] for seed in seeds):
        return "fixed"
    if all(b == a + 1 for a, b in pairwise(cast("list[int]", seeds))):  # (no None: returned above)
        return "progressive"
    return None


def _nested_order(combos: list[tuple[Any, ...]], pools: list[list[Any]]) -> bool:
    """Whether the planned combinations run through the pools in nested-loop order (the last loop
    fastest), for some order of the loops (``$N`` weights reorder them).  A wrong order fails
    within the first few combinations; only the right one runs through them all."""
    width = len(pools)
    orders = permutations(range(width)) if width <= _MAX_PERMUTED else iter([tuple(range(width))])
    for order in orders:
        loops = islice(product(*(pools[k] for k in order)), len(combos))
        if order == tuple(range(width)):
            if all(combo == expected for combo, expected in zip(combos, loops, strict=True)):
                return True
        elif all(tuple(combo[k] for k in order) == expected for combo, expected in zip(combos, loops, strict=True)):
            return True
    return False


def _rebuilt_template(planned: list[dict[str, Any]], chosen: list[dict[str, Any]]) -> str | None:
    """The template the planned prompts were resolved from: a prompt with each placeholder's value
    (found exactly once) put back as ``{Name}``, kept only if it resolves to the other prompts too."""
    for entry, values in zip(planned[:_TEMPLATE_CHECKS], chosen[:_TEMPLATE_CHECKS], strict=True):
        template = _template_of(as_str(entry.get("prompt")), values)
        if template is not None and all(
                _resolve(template, other) == as_str(check.get("prompt"))
                for check, other in zip(planned[:_TEMPLATE_CHECKS], chosen[:_TEMPLATE_CHECKS], strict=True)):
            return template
    return None


def _template_of(prompt: str | None, values: dict[str, Any]) -> str | None:
    if prompt is None or not values:
        return None
    spans = []
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            return None
        start = prompt.find(value)
        if start < 0 or prompt.find(value, start + 1) >= 0:
            return None  # absent, or where would it go?
        spans.append((start, start + len(value), name))
    spans.sort()
    if any(end > next_start for (_, end, _), (next_start, _, _) in pairwise(spans)):
        return None
    parts, last = [], 0
    for start, end, name in spans:
        parts += [prompt[last:start], "{" + str(name) + "}"]
        last = end
    return "".join(parts) + prompt[last:]


def _resolve(template: str, values: dict[str, Any]) -> str:
    for name, value in values.items():
        template = template.replace("{" + str(name) + "}", value if isinstance(value, str) else value_text(value))
    return template


def _non_negative(value: Any) -> int | None:
    number = as_int(value)
    return number if number is not None and number >= 0 else None

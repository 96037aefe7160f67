"""The first era (2025-09-29 to ~10-07): ``metadata.json`` v1.0 and the French ``session_config.txt``.

``session_config.txt`` is written at the start of a run (when the prompt is not
empty) and ``metadata.json`` at its end, so an interrupted V0 run has only the
text file (spec §6).  The text file is a report, not a format: it is parsed
line by line, and its dict values (Python ``repr``) with ``ast.literal_eval``.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .coerce import as_datetime, as_dict, as_float, as_int, as_list, as_str
from .extract import Extracted, apply_params, placeholder

CONFIG_FILE = "session_config.txt"
METADATA_FILE = "metadata.json"

_RULE = re.compile(r"^\s*(?:-{10,}|={10,})\s*$")
_MORE_VALUES = re.compile(r"^\.\.\. and \d+ more$")
_MAX_LITERAL = 200_000


def parse_session_config(text: str) -> dict[str, Any]:
    """The key/value pairs of a ``session_config.txt``, with the two prompts under
    ``prompt`` and ``negative_prompt``.  Keys are kept as written (French)."""
    values: dict[str, Any] = {}
    capture: str | None = None
    captured: dict[str, list[str]] = {"prompt": [], "negative_prompt": []}
    for line in text.splitlines():
        if _RULE.match(line):
            capture = None
            continue
        stripped = line.strip()
        if stripped.startswith("Prompt de base"):
            capture = "prompt"
            continue
        if stripped.startswith("Prompt n"):  # "Prompt négatif", whatever the encoding did to é
            capture = "negative_prompt"
            continue
        if capture:
            captured[capture].append(line)
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith(" "):
            values.setdefault(key.strip(), value.strip())
    for key, lines in captured.items():
        prompt = "\n".join(lines).strip()
        if prompt:
            values[key] = prompt
    return values


def literal(value: Any) -> Any:
    """A Python literal written with ``repr`` (dicts of variation files and counts), else None."""
    if not isinstance(value, str) or len(value) > _MAX_LITERAL:
        return None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def extract_v0(metadata: dict[str, Any] | None, config: dict[str, Any] | None) -> Extracted:
    """Combine ``metadata.json`` (authoritative, end of run) with ``session_config.txt`` (start of run)."""
    out = Extracted("v0")
    config = config or {}
    _from_config(out, config)
    if metadata:
        _from_metadata(out, metadata)
    return out


def _from_config(out: Extracted, config: dict[str, Any]) -> None:
    out.manifest_generated_at = as_datetime(config.get("Date de génération"))
    out.resolved_prompt = as_str(config.get("prompt_template")) or as_str(config.get("prompt"))
    out.negative_prompt = as_str(config.get("negative_prompt"))
    apply_params(out, config)
    out.seed_base = as_int(config.get("seed_principal"))
    out.images_expected = as_int(config.get("nombre_images_demandees"))
    if out.images_expected is None:
        out.images_expected = as_int(config.get("images_generees"))
    out.total_combinations = as_int(config.get("combinaisons_totales_possibles"))
    counts = as_dict(literal(config.get("nombre_par_type")))
    files = as_dict(literal(config.get("fichiers_variations")))
    for name in [*counts, *(k for k in files if k not in counts)]:
        out.placeholders[str(name)] = placeholder([], count=as_int(counts.get(name)))
    out.image_prefix = as_str(config.get("Nom de session"))


def _from_metadata(out: Extracted, metadata: dict[str, Any]) -> None:
    info = as_dict(metadata.get("generation_info"))
    generation = as_dict(metadata.get("generation"))
    prompt = as_dict(metadata.get("prompt"))
    out.template_version = as_str(metadata.get("version")) or out.template_version
    out.manifest_generated_at = (as_datetime(info.get("timestamp")) or as_datetime(info.get("date"))
                                 or out.manifest_generated_at)
    out.generation_mode = as_str(generation.get("mode")) or as_str(info.get("generation_mode"))
    out.seed_mode = as_str(generation.get("seed_mode")) or as_str(info.get("seed_mode"))
    seed = as_int(generation.get("seed"))
    seed = seed if seed is not None else as_int(info.get("seed"))
    out.seed_base = seed if seed is not None else out.seed_base
    expected = as_int(generation.get("images_generated"))
    if expected is None:
        expected = as_int(info.get("total_images"))
    if expected is not None and expected >= 0:
        out.images_expected = expected
    total = as_int(generation.get("total_combinations"))
    out.total_combinations = total if total is not None else as_int(info.get("total_combinations"))
    out.duration_seconds = as_float(info.get("generation_time_seconds"))
    out.resolved_prompt = as_str(prompt.get("template")) or out.resolved_prompt
    out.negative_prompt = as_str(prompt.get("negative")) or out.negative_prompt
    params = as_dict(metadata.get("parameters"))
    if params:
        out.api_params = params
        apply_params(out, params)
    for name, variation in as_dict(metadata.get("variations")).items():
        variation = as_dict(variation)
        values = [v for v in as_list(variation.get("values"))
                  if not (isinstance(v, str) and _MORE_VALUES.match(v))]
        out.placeholders[str(name)] = placeholder(values, count=as_int(variation.get("count")))
    out.image_prefix = as_str(info.get("session_name")) or out.image_prefix

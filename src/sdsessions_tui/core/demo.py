"""Write a realistic demo tree of Stable Diffusion session folders.

Why: the browser has to be tried, by people and by tests, against every on-disk
format of local-sd-generator (``session-formats.md``) without anyone's real data.
The tree holds one session of each awkward case (running, stale, aborted, torn
manifests, V0, phase-2, seed sweeps, dry-runs, ...) plus ordinary sessions spread
over upstream's history (2025-09-29 .. 2025-11-20), each in the format and naming
era of its date in that history.

Dates move with the clock: the history is written whole days later, so that its last
day is the day before ``now`` (a demo made today has sessions of yesterday and of the
last week, and ``date:7d`` finds them).  The formats are still chosen by the history's
dates, so every era keeps its folder names and manifests, in the history's order; only
the dates written (folder names, manifest times, mtimes) move.  The ``running`` session
started 40 s before ``now``.

Determinism: for one ``(sessions, seed, now)`` the same files are written with the
same bytes and the same mtimes.  For one ``(sessions, seed)`` and one day of ``now``,
only the ``running`` session differs (its name and mtimes follow ``now``).  When
``now`` is None it is the wall clock, and the running session's mtimes are the last
seconds of the wall clock when it is written, so that a reader sees a live run.
"""

from __future__ import annotations

import io
import math
import os
import random
import re
import struct
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import islice, product
from pathlib import Path
from typing import Any

import orjson
from PIL import Image

MARKER = ".sdsessions-demo"
#: Upstream's history as if written at this moment: its last day is moved to the day before ``now``.
_HISTORY_NOW = datetime(2025, 11, 20, 12, 0, 0)

Value = str | dict[str, str]
Prompt = tuple[dict[str, Value], int]  # (placeholder values, planned seed)

# Format switches (spec §3, §4, §7, §9): the writers key every difference on these dates.
_FIRST, _LAST = datetime(2025, 9, 29, 9, 0), datetime(2025, 11, 20, 11, 0)
_METADATA_FROM, _PHASE2_FROM, _PHASE2_V2_FROM = datetime(2025, 10, 1), datetime(2025, 10, 6), datetime(2025, 10, 10)
_V2_FROM, _VERBATIM_FROM, _ADETAILER_FROM = datetime(2025, 10, 14), datetime(2025, 10, 21), datetime(2025, 10, 22)
_THEME_FROM, _NEW_NAMES_FROM, _FIXED_FROM = datetime(2025, 10, 25), datetime(2025, 10, 29), datetime(2025, 11, 3)
_SEED_SUFFIX_FROM, _STATUS_FROM, _NEW_ORCH_FROM = datetime(2025, 11, 6), datetime(2025, 11, 11), datetime(2025, 11, 13)

_POOLS: dict[str, list[str]] = {
    "Expression": ["smiling", "serious", "surprised", "laughing", "pouting", "sleepy", "wink", "blush", "smirk", "shy"],
    "Angle": ["front view", "side view", "from above", "from below"],
    "Outfit": ["neon jacket", "school uniform", "red dress", "hoodie, jeans", "kimono"],
    "Pose": ["standing", "sitting", "leaning", "crouching"],
    "Location": ["rooftop", "alley", "bar", "subway", "market", "club"],
    "HairColor": ["red hair", "crimson hair", "silver hair", "black hair"],
    "Lighting": ["soft light", "rim light", "neon lights", "golden hour"],
}
_NAMES = ["portrait_study", "Emma_Batch", "night_city", "outfit_test", "Fantasy_Knight", "bg_tests", "sketchbook"]
_CHECKPOINTS = ["animagineXL40_v4Opt.safetensors [6327eca98b]", "hassakuXLIllustrious_v13.safetensors [1a2b3c4d5e]",
                "ponyDiffusionV6XL.safetensors [67ab2fd8ec]", "donmain_v10.safetensors [0f1e2d3c4b]"]
_API_BASE: dict[str, Any] = {"width": 832, "height": 1216, "steps": 28, "cfg_scale": 6}
_API_EXTRA: dict[str, dict[str, Any]] = {
    "plain": {},  # ~1/4 of real sessions have no sampler
    "sampler": {"sampler": "DPM++ 2M Karras"},
    "scheduler": {"sampler": "Euler a", "scheduler": "Karras"},
    "hires": {"sampler": "DPM++ 2M", "scheduler": "Karras", "enable_hr": True, "hr_scale": 1.5,
              "hr_upscaler": "R-ESRGAN 4x+ Anime6B", "denoising_strength": 0.4, "hr_second_pass_steps": 12},
    "adetailer": {"sampler": "Euler a", "adetailer": {"enabled": True, "detectors": [
        {"ad_model": "face_yolov8n.pt", "ad_prompt": "", "ad_confidence": 0.3, "ad_denoising_strength": 0.4}]}},
    "controlnet": {"sampler": "Euler a", "controlnet": {"units": [{"model": "control_v11p_sd15_openpose [cab727d4]",
        "image": "/mnt/d/StableDiffusion/poses/pose_01.png", "module": "openpose", "weight": 0.8}]}},
}
# Request defaults when the template leaves a key unset (§8); V0 used its GenerationConfig.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "legacy": {"steps": 20, "cfg_scale": 7, "width": 512, "height": 512, "sampler": "Euler a"},
    "new": {"steps": 30, "cfg_scale": 7, "width": 512, "height": 768, "sampler": "DPM++ 2M Karras"},
    "v0": {"steps": 30, "cfg_scale": 7.0, "width": 512, "height": 768, "sampler": "DPM++ 2M Karras"},
}
_PLACEHOLDER = re.compile(r"\{(\w+)(?:\[[^\]]+\])?\}")
_V0_UNSAFE = re.compile(r"[ ,/\\]")  # V0 file names replace these by "_" and keep everything else (BOMs too)


@dataclass
class DemoSummary:
    """What :func:`write_demo_tree` wrote.

    ``images`` counts image files (multi-image parts, the JPEG and ``_annotated``
    copies included).  ``kinds`` maps a kind label to the sessions of that kind, as
    paths relative to ``root`` (the folder name, or ``dryrun/<folder>`` for the
    dry-run); the naming-era labels (``name_*``) overlap the other labels.
    """

    root: Path
    sessions: int = 0
    images: int = 0
    kinds: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Session:
    """One session to write: what the CLI was asked for and how the run went."""

    kind: str
    when: datetime  # time in upstream's history: it picks the formats
    name: str  # name part of the folder (and image prefix for legacy V2/phase-2)
    pools: Mapping[str, Sequence[Value]]
    fmt: str = "v2"  # "v0" | "phase2" | "v2"
    orchestrator: str = "legacy"  # "legacy" | "new"
    mode: str = "combinatorial"
    seed_mode: str = "progressive"
    base_seed: int = 42
    max_images: int = 6
    seed_list: list[int] | None = None
    theme: str | None = None
    style: str = "default"
    fixed: dict[str, str] = field(default_factory=dict)
    api: dict[str, Any] = field(default_factory=lambda: _api("sampler"))
    status: str | None = "auto"  # "auto": "completed" from 11-11, absent before
    failed: frozenset[int] = frozenset()  # planned indices whose request failed (gaps)
    skip_to: int = 0  # indices below are left out (keeps a 5-digit-index session small)
    stop: int | None = None  # the run stopped after this many prompts (Ctrl+C, crash, still running)
    ahead: bool = False  # running: one image on disk that the manifest does not list yet
    per_response: int = 1  # new orchestrator writes <stem>_001.png, _002.png when > 1
    checkpoint: str | None = None
    corrupt: str | None = None  # manifest "truncate" | "empty" | "garbage" | "missing"
    lost_snapshot: bool = False  # new orchestrator re-created a torn manifest with "snapshot": {}
    dry_run: bool = False
    jpeg: bool = False  # first image holds JPEG bytes under a .png name
    annotated: bool = False  # *_annotated.png copies (without infotext)
    folder: str | None = None  # explicit folder name (names of no era), a strftime pattern of `at`
    recent: bool = False  # written relative to `now` itself (not its day); mtimes follow the wall clock
    step: int = 6  # seconds between images
    template: str | None = None
    negative: str = "lowres, bad anatomy, worst quality"
    shift: timedelta = timedelta(0)  # from the history to the dates written

    @property
    def at(self) -> datetime:
        """The time written (folder name, manifests, mtimes)."""
        return self.when + self.shift


@dataclass
class _Shot:
    """One planned prompt that produced a result (image, or payload in a dry-run)."""

    index: int
    values: dict[str, Value]
    seed: int  # real seed (planned in dry-runs)
    prompt: str
    filename: str
    mtime: float
    recorded: bool  # listed in the manifest


class _Out:
    """Writes files under the root only, with explicit mtimes; counts images."""

    def __init__(self, root: Path) -> None:
        self.root, self.images, self.made = root, 0, dict[str, Path]()

    def folder(self, rel: str) -> Path:
        if rel in self.made:
            return self.made[rel]
        parts = rel.split("/")
        for part in parts:  # names are generated here, but never let one climb out
            if part in ("", ".", "..") or os.sep in part or "\0" in part:
                raise ValueError(f"unsafe demo path {rel!r}")
        path = self.made[rel] = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, rel: str, name: str, data: bytes, mtime: float) -> None:
        if "/" in name or os.sep in name or name in ("", ".", ".."):
            raise ValueError(f"unsafe demo file name {name!r}")
        path = self.folder(rel) / name
        path.write_bytes(data)
        os.utime(path, (mtime, mtime))

    def image(self, rel: str, name: str, size: tuple[int, int], seed: int, text: str | None,
              mtime: float, fmt: str = "PNG") -> None:
        self.write(rel, name, _encode(size, seed, text, fmt), mtime)
        self.images += 1


def _api(preset: str, **extra: Any) -> dict[str, Any]:
    return {**_API_BASE, **_API_EXTRA[preset], **extra}


def _params(s: _Session) -> dict[str, Any]:
    """Request parameters: the template's ``api_params`` over the CLI defaults (V0 had no templates)."""
    return dict(_DEFAULTS["v0"]) if s.fmt == "v0" else {**_DEFAULTS[s.orchestrator], **s.api}


@lru_cache(maxsize=1024)
def _pixels(size: tuple[int, int], rgb: tuple[int, int, int], fmt: str) -> bytes:
    """A tiny real image made by Pillow; cached, as only a few sizes and 512 colours exist."""
    buffer = io.BytesIO()
    Image.new("RGB", size, rgb).save(buffer, fmt, **({"compress_level": 1} if fmt == "PNG" else {"quality": 85}))
    return buffer.getvalue()


def _encode(size: tuple[int, int], seed: int, text: str | None, fmt: str) -> bytes:
    """An image coloured by the seed, with A1111's ``parameters`` chunk spliced in before IEND.

    Splicing instead of re-encoding keeps 10 000 sessions fast; like Pillow (and
    A1111), text that is not Latin-1 goes into an iTXt chunk instead of tEXt.
    """
    rgb = ((seed >> 16) % 8 * 32 + 16, (seed >> 8) % 8 * 32 + 16, seed % 8 * 32 + 16)
    data = _pixels(size, rgb, fmt)
    if text is None or fmt != "PNG":
        return data
    try:
        kind, body = b"tEXt", b"parameters\0" + text.encode("latin-1")
    except UnicodeEncodeError:
        kind, body = b"iTXt", b"parameters\0\0\0\0\0" + text.encode("utf-8")
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return data[:-12] + chunk + data[-12:]


def _text(value: Value) -> str:
    """Prompt text of a variation value; object values (#56) join their parts."""
    return value if isinstance(value, str) else ", ".join(value.values())


def _template(s: _Session) -> str:
    return s.template if s.template is not None else "masterpiece, best quality, 1girl, " + ", ".join(
        f"{{{key}}}" for key in s.pools)


def _resolve(template: str, values: dict[str, Value]) -> str:
    return _PLACEHOLDER.sub(lambda m: _text(values[m[1]]) if m[1] in values else m[0], template)


def _random_combos(pools: list[Sequence[Value]], wanted: int, rng: random.Random) -> list[tuple[Value, ...]]:
    """Unique random combinations in at most 10·wanted tries, so possibly fewer (§11)."""
    seen: set[tuple[int, ...]] = set()
    combos: list[tuple[Value, ...]] = []
    for _ in range(10 * wanted):
        if len(combos) == wanted:
            break
        pick = tuple(rng.randrange(len(pool)) for pool in pools)
        if pick not in seen:
            seen.add(pick)
            combos.append(tuple(pool[k] for pool, k in zip(pools, pick, strict=True)))
    return combos


def _plan(s: _Session, rng: random.Random) -> list[Prompt]:
    """The planned prompts in upstream order: nested loops, last placeholder fastest; sweeps variation-major."""
    if not s.pools:  # one prompt with the template seed, ignoring max_images and seed_list
        return [({}, s.base_seed)]
    pools = list(s.pools.values())
    sweep: list[int | None] = [*s.seed_list] if s.seed_list else [None]
    if s.mode == "combinatorial":
        total = min(s.max_images, math.prod(map(len, pools)) * len(sweep))
        combos = list(islice(product(*pools), math.ceil(total / len(sweep))))
    else:
        combos = _random_combos(pools, math.ceil(s.max_images / len(sweep)), rng)
        total = min(s.max_images, len(combos) * len(sweep))
    if s.orchestrator == "new":
        total = min(total, 100)  # the new orchestrator's cap without --count
    prompts = [(dict(zip(s.pools, combo, strict=True)), seed) for combo in combos for seed in sweep][:total]
    step = {"fixed": 0, "progressive": 1}.get(s.seed_mode)
    return [(values, seed if seed is not None else -1 if step is None else s.base_seed + step * i)
            for i, (values, seed) in enumerate(prompts)]


def _infotext(prompt: str, negative: str, seed: int, p: dict[str, Any], checkpoint: str) -> str:
    """A1111's infotext: newlines of the prompt become ``, ``."""
    model, _, model_hash = checkpoint.removesuffix("]").partition(" [")
    hires = p.get("enable_hr")
    fields = [("Steps", p["steps"]), ("Sampler", p["sampler"]), ("Schedule type", p.get("scheduler")),
              ("CFG scale", p["cfg_scale"]), ("Seed", seed), ("Size", f"{p['width']}x{p['height']}"),
              ("Model hash", model_hash or None), ("Model", model.removesuffix(".safetensors")),
              ("Denoising strength", p.get("denoising_strength") if hires else None),
              ("Hires upscale", p.get("hr_scale") if hires else None),
              ("Hires upscaler", p.get("hr_upscaler") if hires else None),
              ("ADetailer model", "face_yolov8n.pt" if "adetailer" in p else None), ("Version", "v1.10.1")]
    head = prompt.replace("\n", ", ") + (f"\nNegative prompt: {negative}" if negative else "")
    return head + "\n" + ", ".join(f"{key}: {value}" for key, value in fields if value is not None)


def _shoot(out: _Out, s: _Session, rel: str, prompts: list[Prompt], rng: random.Random,
           start: float, filename: Callable[[int, int], str]) -> list[_Shot]:
    """Run the planned prompts like the CLI: one result every few seconds, failures leave gaps.

    The run ends at ``stop`` (Ctrl+C, crash, or still running); a running session
    already has the next image on disk while the manifest lags one entry behind.
    """
    params = _params(s)
    checkpoint = s.checkpoint if s.checkpoint not in (None, "unknown") else _CHECKPOINTS[0]  # the API knows its model
    size = (max(1, params["width"] // 64), max(1, params["height"] // 64))
    limit = len(prompts) if s.stop is None else min(len(prompts), s.stop + s.ahead)
    shots: list[_Shot] = []
    for index in range(s.skip_to, limit):
        values, planned = prompts[index]
        if index in s.failed:
            continue
        real = planned if planned != -1 or s.dry_run else rng.randrange(1 << 32)
        shot = _Shot(index, values, real, _resolve(_template(s), values), filename(index, planned),
                     start + s.step * (index - s.skip_to + 1), s.stop is None or index < s.stop)
        stem = shot.filename.removesuffix(".png")
        if s.dry_run:
            out.write(rel, stem + ".json", _payload(shot, s, params, planned), shot.mtime)
        else:
            text = _infotext(shot.prompt, s.negative, real, params, checkpoint)
            jpeg = s.jpeg and not shots
            multi = range(1, s.per_response + 1) if s.per_response > 1 else range(0)  # new orchestrator, batch > 1
            names = [f"{stem}_{k:03d}.png" for k in multi] or [shot.filename]
            for name in names:
                out.image(rel, name, size, real, text, shot.mtime, "JPEG" if jpeg else "PNG")
            if s.annotated:
                out.image(rel, f"{stem}_annotated.png", size, real + 1, None, shot.mtime + 30)
        shots.append(shot)
    return shots


def _payload(shot: _Shot, s: _Session, p: dict[str, Any], planned: int) -> bytes:
    """The legacy txt2img request body that a dry-run saves instead of calling the API (§8)."""
    body = {"prompt": shot.prompt.replace("\n", ", "), "negative_prompt": s.negative, "seed": planned,
            "steps": p["steps"], "cfg_scale": p["cfg_scale"], "width": p["width"], "height": p["height"],
            "sampler_name": p["sampler"], "batch_size": p.get("batch_size", 1), "n_iter": p.get("batch_count", 1),
            "scheduler": p.get("scheduler", "automatic")}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)


def _folder_name(s: _Session) -> str:
    """The folder name of the session's era (§3); a legacy theme always adds its style."""
    if s.folder:
        return s.at.strftime(s.folder)
    if s.fmt != "v2" or s.when < _NEW_NAMES_FROM:
        return s.at.strftime("%Y-%m-%d_%H%M%S") + (f"_{s.name}" if s.name else "")
    suffix = ""
    if s.orchestrator == "legacy":
        suffix = f"-{s.theme}-{s.style}" if s.theme else f"-{s.style}" if s.style != "default" else ""
    return s.at.strftime("%Y%m%d_%H%M%S") + f"-{s.name}{suffix}"


def _era_label(s: _Session, folder: str) -> str | None:
    """An extra kind label per naming era, so that tests can find one folder of each."""
    if s.folder:
        return None  # names of no era (or docs-only) carry their own kind
    if s.fmt != "v2" or s.when < _NEW_NAMES_FROM:
        return "name_old_prompt" if folder.endswith(".prompt") else "name_old"
    return "name_new_legacy" if s.orchestrator == "legacy" else "name_new_orchestrator"


def _dumps(data: Any, crlf: bool = False) -> bytes:
    raw = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    return raw.replace(b"\n", b"\r\n") if crlf else raw


def _write_v2(out: _Out, s: _Session, rel: str, rng: random.Random, start: float) -> float:
    """manifest.json sessions (legacy, new orchestrator, dry-run), torn or missing manifests included."""
    prompts = _plan(s, rng)
    prefix = rel.rsplit("/", 1)[-1] if s.orchestrator == "new" else s.name

    def filename(index: int, planned: int) -> str:
        seed = f"_seed-{planned}" if s.when >= _SEED_SUFFIX_FROM and planned != -1 else ""
        return f"{prefix}_{index:04d}{seed}.png"

    shots = _shoot(out, s, rel, prompts, rng, start, filename)
    used = {key: list({orjson.dumps(v): v for v in (p[0][key] for p in prompts)}.values()) for key in s.pools}
    params = {"mode": s.mode, "seed_mode": s.seed_mode,
              "base_seed": None if s.orchestrator == "new" and s.base_seed == -1 else s.base_seed,
              "num_images": len(prompts), "total_combinations": math.prod(map(len, s.pools.values()))}
    snapshot: dict[str, Any] = {
        "version": "2.0", "timestamp": (s.at + timedelta(seconds=1, microseconds=rng.randrange(10**6))).isoformat(),
        "runtime_info": {"sd_model_checkpoint": s.checkpoint},
        "resolved_template": {"prompt": _template(s), "negative": s.negative},
        "generation_params": params | ({"seed_list": s.seed_list} if s.seed_list else {}),
        "api_params": s.api,
        "variations": {k: {"available": pool, "used": used[k], "count": len(pool)} for k, pool in s.pools.items()}}
    if s.when >= _FIXED_FROM:
        snapshot["fixed_placeholders"] = s.fixed
    if s.when >= _THEME_FROM:
        snapshot |= {"theme_name": s.theme, "style": s.style}
    units = s.api.get("controlnet", {}).get("units", []) if s.orchestrator == "legacy" else []
    cn_images = {f"ControlNetImage_{i}": unit["image"] for i, unit in enumerate(units)}  # legacy adds these
    images = [{"filename": shot.filename, "seed": shot.seed, "prompt": shot.prompt, "negative_prompt": s.negative,
               "applied_variations": shot.values | cn_images}
              for shot in shots if shot.recorded]
    status = s.status if s.status != "auto" else "completed" if s.when >= _STATUS_FROM else None
    manifest = {"snapshot": {} if s.lost_snapshot else snapshot, "images": images}
    manifest |= {"status": status} if status else {}
    data = _dumps(manifest)
    end = max([shot.mtime for shot in shots], default=start + 1) + 0.5
    corrupted = {"truncate": data[: len(data) * 2 // 3], "empty": b"", "garbage": b"\x00\xffPK" + rng.randbytes(60)}
    if s.corrupt != "missing":
        out.write(rel, "manifest.json", corrupted.get(s.corrupt or "", data), end)
    return end


def _write_phase2(out: _Out, s: _Session, rel: str, rng: random.Random, start: float) -> float:
    """``<session_name>_manifest.json``: the plan written before the run; 0-based 4-digit images."""
    prompts = _plan(s, rng)
    shots = _shoot(out, s, rel, prompts, rng, start, lambda index, _: f"{s.name}_{index:04d}.png")
    early = s.when < _PHASE2_V2_FROM
    sizes = {key: s.api[key] for key in ("width", "height", "steps")}
    entries = [{"index": i, "prompt": _resolve(_template(s), values), "negative_prompt": s.negative, "seed": seed,
                **({"placeholders": values} if early else {"variations": values, "parameters": sizes})}
               for i, (values, seed) in enumerate(prompts)]
    manifest = {"session_name": s.name, "template_source": f"/mnt/d/StableDiffusion/templates/{s.name}.yaml",
                "generated_at": (s.at + timedelta(microseconds=rng.randrange(10**6))).isoformat(),
                "total_variations": len(prompts), "templating_system": "phase2" if early else "v2.0",
                "variations": entries}
    out.write(rel, f"{s.name}_manifest.json", _dumps(manifest), start)
    return max([shot.mtime for shot in shots], default=start)


def _v0_config(s: _Session, rel: str, prompts: list[Prompt]) -> bytes:
    """The French ``session_config.txt`` written at the start of a V0 run (dicts in Python repr)."""
    p, late = _params(s), s.when >= _METADATA_FROM  # later V0 builds added keys to the last section
    gen = {"steps": p["steps"], "cfg_scale": p["cfg_scale"], "width": p["width"], "height": p["height"],
           "sampler_name": p["sampler"], "batch_size": 1, "n_iter": 1}
    info: dict[str, Any] = {"seed_principal": s.base_seed, "limite_max_images": s.max_images}
    info |= {"images_generees": len(prompts)} if late else {}
    info |= {"fichiers_variations": {k: f"variations\\{k.lower()}.txt" for k in s.pools},
             "nombre_par_type": {k: len(v) for k, v in s.pools.items()},
             "combinaisons_totales_possibles": math.prod(map(len, s.pools.values()))}
    info |= {"prompt_template": _template(s), "negative_prompt": s.negative} if late else {}
    info["nombre_images_demandees"] = len(prompts)
    rule, line = "=" * 60, "-" * 40
    lines = [rule, "SESSION CONFIGURATION", rule, "", f"Date de génération: {s.at:%Y-%m-%d %H:%M:%S}",
             f"Nom de session: {s.name or 'Non spécifié'}", "URL API: http://127.0.0.1:7860",
             f"Dossier de sortie: apioutput\\{rel}", "", line, "PROMPTS", line, "Prompt de base:", _template(s), "",
             "Prompt négatif:", s.negative, "", line, "PARAMÈTRES DE GÉNÉRATION", line,
             *(f"{k}: {v}" for k, v in gen.items()), "", line, "INFORMATIONS ADDITIONNELLES", line,
             *(f"{k}: {v}" for k, v in info.items())]
    return ("\r\n".join(lines) + "\r\n").encode()  # written in text mode on Windows


def _v0_metadata(s: _Session, rel: str, planned: int, seconds: float) -> dict[str, Any]:
    """``metadata.json`` v1.0 (end of run); its image counts are the planned ones."""
    p, total = _params(s), math.prod(map(len, s.pools.values()))
    run = {"mode": s.mode, "seed_mode": s.seed_mode, "seed": s.base_seed, "total_combinations": total}
    return {
        "version": "1.0",
        "generation_info": {"date": s.at.isoformat(), "timestamp": f"{s.at:%Y%m%d_%H%M%S}",
                            "session_name": s.name or "variations", "total_images": planned,
                            "generation_time_seconds": round(seconds, 2), "generation_mode": s.mode,
                            "seed_mode": s.seed_mode, "seed": s.base_seed, "total_combinations": total},
        "prompt": {"template": _template(s), "negative": s.negative,
                   "example_resolved": _resolve(_template(s), {k: v[0] for k, v in s.pools.items()})},
        "variations": {k: {"count": len(v), "values": [_text(x) for x in v[:10]]
                           + [f"... and {len(v) - 10} more"] * (len(v) > 10)} for k, v in s.pools.items()},
        "generation": run | {"images_generated": planned},
        "parameters": {k: p[k] for k in ("width", "height", "steps", "cfg_scale", "sampler")}
        | {"batch_size": 1, "batch_count": 1},
        "output": {"folder": f"apioutput\\{rel}", "filename_keys": []}}


def _v0_legacy_text(meta: dict[str, Any]) -> bytes:
    """``session_config_legacy.txt``: upstream's deprecation notice and summary (not a copy of the config)."""
    info, prompt = meta["generation_info"], meta["prompt"]
    lines = ["=" * 80, "DEPRECATION NOTICE:", "This text file is deprecated. Please use metadata.json instead.",
             "=" * 80, "", f"Session: {info['session_name']}", f"Date: {info['date']}",
             f"Total Images: {info['total_images']}", "", f"Prompt Template: {prompt['template']}",
             f"Negative Prompt: {prompt['negative']}", "", "Variations:",
             *(f"  {k}: {v['count']} variations" for k, v in meta["variations"].items()), "",
             "For complete information, see metadata.json"]
    return "\r\n".join(lines).encode()


def _write_v0(out: _Out, s: _Session, rel: str, rng: random.Random, start: float) -> float:
    """V0 (Windows, CRLF): ``session_config.txt`` first; from 10-01, metadata files if the run ends."""
    prompts = _plan(s, rng)
    prefix = "random" if s.mode == "random" else s.name or "variations"

    def filename(index: int, _: int) -> str:
        keys = "_".join(f"{k}_{_V0_UNSAFE.sub('_', _text(v))}" for k, v in list(prompts[index][0].items())[:2])
        return f"{prefix}_{index + 1:03d}_{keys or 'default'}.png"

    out.write(rel, "session_config.txt", _v0_config(s, rel, prompts), start)
    shots = _shoot(out, s, rel, prompts, rng, start, filename)
    end = max([shot.mtime for shot in shots], default=start) + 1
    if s.when >= _METADATA_FROM and s.stop is None:
        meta = _v0_metadata(s, rel, len(prompts), end - start)
        out.write(rel, "metadata.json", _dumps(meta, crlf=True), end)
        out.write(rel, "session_config_legacy.txt", _v0_legacy_text(meta), end)
    return end


_WRITERS = {"v0": _write_v0, "phase2": _write_phase2, "v2": _write_v2}


def _specials() -> list[_Session]:
    """One session (or a few) of every case the browser must handle; the spec's examples A–F among them."""
    d, P, S = datetime, _POOLS, _Session
    bom = ["\ufeffsmiling", *P["Expression"][1:], "crying", "angry"]  # 12 values: metadata cuts them at 10
    big = {k: [f"{k.lower()} {i}" for i in range(22)] for k in ("Pose", "Outfit", "Location")}
    teasing = {"Outfit": ["neon jacket"], "Pose": P["Pose"], "Location": P["Location"]}
    dress = [{"main": "red dress", "lora": "<lora:dress_v2:0.7>"}, {"main": "armor", "lora": "<lora:armor_xl:0.6>"}]
    nightclub = {"HAIRBANGS_1": ["asymmetrical sidelocks", "low-tied sidelocks", "sidelocks", "single hair intake"],
                 "HAIRLENGTH": ["absurdly long hair", "long hair", "medium hair", "short hair"]}
    two, hair = {"Expression": P["Expression"][:3], "Angle": P["Angle"][:2]}, {"HairColor": P["HairColor"][:3]}
    themed: dict[str, Any] = dict(mode="random", seed_mode="random", base_seed=-1, theme="cyberpunk",
                                  fixed={"Outfit": "neon_jacket"}, api=_api("adetailer", scheduler="Karras"),
                                  negative="lowres, bad anatomy")  # example (B), and (E) with the API down
    return [
        S("v0_config_only", d(2025, 9, 29, 20, 30, 15), "", two, fmt="v0", mode="random", max_images=5),
        S("v0", d(2025, 10, 1, 21, 52, 20), "regenerate_facial_expressions",
          {"Expression": bom, "Angle": P["Angle"][:3]}, fmt="v0", max_images=10,
          template="masterpiece, {Expression}, {Angle}", negative="low quality, blurry"),
        S("v0_interrupted", d(2025, 10, 3, 9, 15, 0), "angles_study", two, fmt="v0", max_images=8, stop=3),
        S("phase2_early", d(2025, 10, 7, 10, 15, 0), "my_portrait", two, fmt="phase2", stop=4),
        S("phase2", d(2025, 10, 12, 18, 4, 32), "hassaku_actualportrait.prompt", two, fmt="phase2"),
        S("v2_incomplete", d(2025, 10, 16, 14, 2, 11), "portrait_test.prompt", two, stop=2,
          template="masterpiece, 1girl, {Expression}, {Angle}, detailed face", negative="low quality, blurry"),
        S("no_manifest", d(2025, 10, 18, 11, 0, 5), "lost_manifest.prompt", two, corrupt="missing"),
        S("v2_no_status", d(2025, 10, 23, 16, 40, 0), "Emma_Batch", {"Lighting": P["Lighting"]}, api=_api("plain"),
          template="masterpiece, 1girl, emma\n{Lighting}, upper body"),
        S("large", d(2025, 10, 27, 15, 50, 46), "Hassaku_Portrait",
          {"Expression": P["Expression"][:5], "Location": P["Location"] + ["park", "beach"]}, max_images=40),
        S("broken_manifest", d(2025, 11, 4, 22, 1, 0), "torn_write", two, corrupt="truncate"),
        S("broken_manifest", d(2025, 11, 5, 8, 30, 0), "empty_manifest", two, corrupt="empty"),
        S("broken_manifest", d(2025, 11, 5, 9, 0, 0), "garbage_manifest", two, corrupt="garbage"),
        S("docs_name", d(2025, 11, 5, 12, 0, 0), "docs_style", two, folder="%Y%m%d_%H%M%S_docs_style"),
        S("v2_object_values", d(2025, 11, 7, 19, 5, 0), "lora_outfits", {"Outfit": dress, "Angle": P["Angle"][:2]}),
        S("seed_suffix_not_sweep", d(2025, 11, 8, 10, 0, 0), "fixed_seed_run", two, seed_mode="fixed", base_seed=777),
        S("seed_suffix_not_sweep", d(2025, 11, 9, 10, 0, 0), "progressive_run", two, base_seed=-1),
        S("sweep_single", d(2025, 11, 10, 17, 0, 0), "seed_only", {}, seed_mode="fixed", seed_list=[7, 8, 9]),
        S("v2_themed", d(2025, 11, 12, 18, 15, 2), "Teasing", teasing, max_images=3, **themed),
        S("api_down", d(2025, 11, 12, 18, 40, 0), "Teasing", teasing, max_images=3, stop=0, status="aborted",
          checkpoint="unknown", **themed),
        S("aborted", d(2025, 11, 12, 21, 3, 9), "long_batch", two, max_images=8, stop=3, status="aborted",
          style="sketch"),
        S("v2_sweep", d(2025, 11, 14, 9, 30, 10), "hair_test", hair, seed_list=[1000, 1001, 1002], max_images=50,
          api=_api("sampler", width=512, height=768), template="portrait, {HairColor}, detailed face", negative=""),
        S("dry_run", d(2025, 11, 14, 10, 0, 0), "hair_test", hair, dry_run=True, base_seed=1000,
          template="portrait, {HairColor}, detailed face", negative=""),
        S("completed_with_failures", d(2025, 11, 15, 13, 20, 0), "flaky_server", two, failed=frozenset({1, 4})),
        S("five_digit_index", d(2025, 11, 15, 23, 0, 0), "marathon", big, max_images=10004, skip_to=9998,
          api=_api("plain")),
        S("annotated", d(2025, 11, 15, 16, 0, 0), "annotated_run", two, max_images=3, annotated=True),
        S("jpeg_as_png", d(2025, 11, 15, 17, 0, 0), "jpeg_samples", two, max_images=3, jpeg=True),
        S("v2_sweep", d(2025, 11, 16, 20, 15, 0), "sweep_random", two, orchestrator="new", mode="random",
          seed_list=[-3, -2], api=_api("scheduler")),
        S("all_failed", d(2025, 11, 16, 21, 0, 0), "all_failed", two, orchestrator="new", failed=frozenset(range(100))),
        S("stale", d(2025, 11, 17, 11, 17, 57), "donmain_test_nightclub", nightclub, orchestrator="new", mode="random",
          seed_mode="random", base_seed=-1, max_images=50, stop=1, status="ongoing", checkpoint=_CHECKPOINTS[3]),
        S("hires", d(2025, 11, 17, 14, 0, 0), "hires_fix", two, api=_api("hires"), max_images=2),
        S("controlnet", d(2025, 11, 17, 15, 0, 0), "pose_control", two, api=_api("controlnet"), max_images=2),
        S("multi_image", d(2025, 11, 18, 10, 10, 10), "pose sheet-v2", two, orchestrator="new", max_images=3,
          per_response=2, api=_api("sampler", batch_size=2)),
        S("lost_snapshot", d(2025, 11, 18, 11, 0, 0), "reset_run", two, orchestrator="new", lost_snapshot=True),
        S("unknown_name", d(2025, 11, 18, 12, 0, 0), "renamed_session", two, folder="my random folder"),
        S("v2_completed", d(2025, 11, 19, 9, 45, 0), "final_check", two, api=_api("scheduler")),
        S("running", _HISTORY_NOW - timedelta(seconds=40), "live_preview", two, orchestrator="new", max_images=12,
          stop=4, ahead=True, status="ongoing", recent=True, step=5),
    ]


def _ordinary(i: int, n: int, rng: random.Random) -> _Session:
    """A plain, finished session at its place in Sept 29 – Nov 20, in the format of its date."""
    when = _FIRST + timedelta(seconds=int((_LAST - _FIRST).total_seconds() * (i + rng.random() * 0.8) / n))
    fmt = "v0" if when < _PHASE2_FROM else "phase2" if when < _V2_FROM else "v2"
    name = rng.choice(_NAMES)
    if fmt != "v2" or when < _VERBATIM_FROM:  # config name lowercased; template stems kept `.prompt`
        name = name.lower() + (".prompt" if _PHASE2_V2_FROM <= when < _VERBATIM_FROM else "")
    seed_mode = rng.choice(["fixed", "progressive", "random"])
    presets = [k for k in _API_EXTRA if k != "adetailer" or when >= _ADETAILER_FROM]
    themed = fmt == "v2" and when >= _THEME_FROM and rng.random() < 0.25
    kind = {"v0": "v0" if when >= _METADATA_FROM else "v0_config_only",
            "phase2": "phase2" if when >= _PHASE2_V2_FROM else "phase2_early"}.get(
        fmt, "v2_completed" if when >= _STATUS_FROM else "v2_no_status")
    pools = {k: rng.sample(_POOLS[k], rng.randint(2, 4)) for k in rng.sample(sorted(_POOLS), rng.randint(1, 3))}
    return _Session(
        kind, when, name, pools, fmt=fmt,
        orchestrator="new" if when >= _NEW_ORCH_FROM and rng.random() < 0.7 else "legacy",
        mode=rng.choice(["combinatorial", "random"]), seed_mode=seed_mode,
        base_seed=-1 if seed_mode == "random" else rng.randrange(1, 10**6), max_images=rng.randint(1, 12),
        theme=rng.choice(["cyberpunk", "fantasy", "noir"]) if themed else None,
        style=rng.choice(["default", "cartoon", "realistic"]) if themed else "default", api=_api(rng.choice(presets)))


def _check_root(root: Path) -> None:
    """Refuse to mix the demo into a folder it did not create."""
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"demo root {root} is not a folder")
    if root.is_dir() and any(root.iterdir()) and not (root / MARKER).is_file():
        raise FileExistsError(f"{root} is not empty and holds no {MARKER} marker: it is not a demo tree; "
                              "choose an empty or new folder")


def write_demo_tree(root: Path, sessions: int = 80, seed: int = 0, *, now: datetime | None = None,
                    progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Write ``sessions`` session folders into ``root``, and never fewer than the 36 special ones.

    ``progress(done, total)`` is called after each session.  ``now`` (default: the wall
    clock) dates the tree: the history's last day is the day before it (see the module
    docstring).  Raises FileExistsError if ``root`` is non-empty and not a previous demo
    tree (no ``.sdsessions-demo`` marker); over a previous demo tree it writes again,
    overwriting the demo's files and removing nothing.
    """
    root = Path(root)
    _check_root(root)
    root.mkdir(parents=True, exist_ok=True)
    clock = now or datetime.now()
    days = timedelta(days=(clock.date() - _HISTORY_NOW.date()).days - 1)  # whole days: one tree per date
    plans = _specials()
    extra = max(0, sessions - len(plans))
    plans += [_ordinary(i, extra, random.Random(f"{seed}:ordinary:{i}")) for i in range(extra)]
    plans.sort(key=lambda s: s.recent)  # the live session last, so its mtimes are the freshest on return
    out, summary, taken = _Out(root), DemoSummary(root), set[str]()
    for done, s in enumerate(plans, 1):
        s = replace(s, shift=clock - _HISTORY_NOW if s.recent else days)
        while _folder_name(s) in taken:  # an ordinary session may land on a special's second
            s = replace(s, when=s.when + timedelta(seconds=1))
        folder = _folder_name(s)
        taken.add(folder)
        rel = f"dryrun/{folder}" if s.dry_run else folder
        out.folder(rel)
        rng = random.Random(f"{seed}:{done}:{s.kind}")
        s = replace(s, checkpoint=s.checkpoint or rng.choice(_CHECKPOINTS))  # one model for manifest and infotext
        live = time.time() - clock.timestamp() if s.recent and now is None else 0.0  # the seconds spent so far
        start = s.at.timestamp() + 1 + live
        end = _WRITERS[s.fmt](out, s, rel, rng, start)
        for path in {root / rel, (root / rel).parent} - {root}:
            os.utime(path, (end, end))
        for label in (s.kind, _era_label(s, folder)):
            if label:
                summary.kinds.setdefault(label, []).append(rel)
        if progress:
            progress(done, len(plans))
    summary.sessions, summary.images = len(plans), out.images
    marker = {"generator": "sdsessions_tui.core.demo", "sessions": sessions, "seed": seed,
              "date": clock.date().isoformat()}
    (root / MARKER).write_bytes(orjson.dumps(marker, option=orjson.OPT_INDENT_2) + b"\n")
    midnight = datetime.combine(clock.date(), datetime.min.time()).timestamp()
    os.utime(root / MARKER, (midnight, midnight))
    return summary

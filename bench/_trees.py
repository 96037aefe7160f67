"""Shared helpers of the benchmarks: realistic session content, a fast V2 tree writer, timing.

Not a benchmark itself.  ``bench_refresh.py`` writes folders with
:func:`write_tree`; ``bench_queries.py`` builds in-memory stats from the same
vocabulary (:func:`random_prompt`), so both see the same kind of text.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)
MODELS = [f"{name}.safetensors [{zlib.crc32(name.encode()):08x}ab]" for name in (
    "ponyDiffusionV6XL", "animagineXL40_v4Opt", "hassakuXLIllustrious_v13", "donmain_v10", "juggernautXL_v9",
    "dreamshaperXL_turbo", "realvisxlV40", "noobaiXLNAIXL_vPred10", "illustriousXL_v01", "autismmixSDXL_v10",
    "sd_xl_base_1.0", "waiNSFWIllustrious_v110")]
SAMPLERS = ["Euler a", "Euler", "DPM++ 2M Karras", "DPM++ SDE Karras", "DPM++ 2M SDE", "DDIM"]
SIZES = [(832, 1216), (1216, 832), (1024, 1024), (512, 768), (896, 1152), (768, 1344)]
STATUSES = ["completed"] * 14 + ["running", "aborted", "aborted", "completed_with_failures", "stale", "incomplete"]
#: ~300 prompt words, roughly most common first; :func:`random_prompt` draws them Zipf-like.
VOCAB = """masterpiece best_quality 1girl solo looking_at_viewer smile long_hair short_hair blue_eyes
red_eyes brown_hair blonde_hair black_hair white_hair silver_hair pink_hair green_eyes purple_eyes
open_mouth closed_eyes blush upper_body full_body cowboy_shot portrait close-up from_side from_above
from_below standing sitting lying kneeling walking running jumping dancing leaning crouching
outdoors indoors city street alley rooftop forest beach ocean river lake mountain desert snow rain
night day sunset sunrise cloudy starry_sky moon neon cyberpunk fantasy medieval steampunk futuristic
school classroom library cafe bar nightclub subway market temple shrine castle garden field meadow
dress skirt shirt jacket hoodie coat sweater kimono uniform armor cape scarf gloves boots sneakers
hat beret crown ribbon hairband glasses earrings necklace choker bracelet ring tattoo
ponytail twintails braid bun sidelocks bangs ahoge messy_hair wavy_hair curly_hair straight_hair
detailed_face detailed_eyes sharp_focus depth_of_field bokeh cinematic_lighting soft_lighting
rim_light backlighting volumetric_light god_rays lens_flare film_grain chromatic_aberration
watercolor oil_painting sketch lineart cel_shading anime realistic photorealistic 3d render
holding_sword holding_umbrella holding_book holding_cup holding_flower holding_phone
cat dog bird fox wolf dragon butterfly flowers cherry_blossoms autumn_leaves petals
smirk frown pout surprised angry sad crying laughing serious sleepy determined embarrassed
wink tongue_out hand_on_hip arms_crossed peace_sign waving head_tilt looking_back looking_away
wind floating_hair motion_blur dynamic_pose action foreshortening wide_shot dutch_angle
red blue green yellow orange purple pink black white gold silver teal crimson navy
leather lace silk denim latex fur velvet metallic glossy matte translucent glowing
candles lantern fireworks stained_glass window curtains bed sofa chair desk bookshelf
waterfall cave ruins bridge tower lighthouse train car motorcycle bicycle boat airship
sword katana bow staff wand gun shield spear dagger axe
wings halo horns tail elf_ears animal_ears cat_ears fox_ears demon angel witch knight
maid nurse idol pirate ninja samurai princess queen vampire robot mecha android
freckles mole scar makeup lipstick eyeshadow nail_polish heterochromia glowing_eyes
aurora nebula galaxy planet comet meteor eclipse thunderstorm fog mist haze smoke
quokka axolotl narwhal pangolin okapi""".split()
NEGATIVES = ["lowres, bad anatomy", "worst quality, low quality", "blurry, jpeg artifacts", ""]
PLACEHOLDERS = ["Expression", "Angle", "Outfit", "Pose", "Location", "HairColor", "Lighting", "Style"]


def random_prompt(rng: random.Random) -> tuple[str, dict[str, list[str]]]:
    """A template prompt with two ``{Placeholder}`` slots, and each placeholder's values."""
    words = {w.replace("_", " ") for w in rng.choices(VOCAB, weights=_WEIGHTS, k=rng.randint(6, 14))}
    names = rng.sample(PLACEHOLDERS, 2)
    values = {name: [w.replace("_", " ") for w in rng.choices(VOCAB, weights=_WEIGHTS, k=rng.randint(2, 5))]
              for name in names}
    body = ", ".join(sorted(words, key=lambda _: rng.random()))
    return f"masterpiece, {body}, {{{names[0]}}}, {{{names[1]}}}", values


_WEIGHTS = [1.0 / (rank + 1) ** 1.1 for rank in range(len(VOCAB))]


def session_name(index: int, when: datetime, rng: random.Random) -> str:
    """A ``YYYYMMDD_HHMMSS-name`` folder name (unique by construction: the index is in the name)."""
    return f"{when:%Y%m%d_%H%M%S}-{rng.choice(VOCAB).replace('_', '-')}-test-{index}"


def build_manifest(name: str, when: datetime, images: int, rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """A finished V2 manifest (spec §7, example B shape) and the image file names it records."""
    prompt, values = random_prompt(rng)
    negative = rng.choice(NEGATIVES)
    width, height = rng.choice(SIZES)
    seed = rng.randrange(2**32)
    prefix = name.split("-", 1)[1]
    names = list(values)
    entries, files = [], []
    for i in range(images):
        first, last = values[names[0]], values[names[1]]  # the last placeholder varies fastest
        applied = {names[0]: first[(i // len(last)) % len(first)], names[1]: last[i % len(last)]}
        filename = f"{prefix}_{i:04d}_seed-{seed + i}.png"
        text = prompt
        for p, v in applied.items():
            text = text.replace("{" + p + "}", v)
        entries.append({"filename": filename, "seed": seed + i, "prompt": text, "negative_prompt": negative,
                        "applied_variations": applied})
        files.append(filename)
    manifest = {
        "snapshot": {
            "version": "2.0", "timestamp": (when + timedelta(seconds=1, microseconds=rng.randrange(10**6))).isoformat(),
            "runtime_info": {"sd_model_checkpoint": rng.choice(MODELS)},
            "resolved_template": {"prompt": prompt, "negative": negative},
            "generation_params": {"mode": "combinatorial", "seed_mode": "progressive", "base_seed": seed,
                                  "num_images": images,
                                  "total_combinations": len(values[names[0]]) * len(values[names[1]])},
            "api_params": {"width": width, "height": height, "steps": rng.randint(15, 40),
                           "cfg_scale": rng.randint(3, 9), "sampler": rng.choice(SAMPLERS)},
            "variations": {p: {"available": v, "used": v, "count": len(v)} for p, v in values.items()},
            "fixed_placeholders": {}, "theme_name": None, "style": "default"},
        "images": entries,
        "status": "completed",
    }
    return manifest, files


def write_tree(root: Path, sessions: range, images: int, seed: int = 0) -> None:
    """Write finished V2 session folders (numbers ``sessions``) of ``images`` tiny PNGs each under ``root``.

    Each session depends only on its number and ``seed``, so ranges can be written in parallel.
    """
    start = datetime(2024, 1, 1, 8, 0, 0)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for index in sessions:
        rng = random.Random(seed * 1_000_003 + index)
        when = start + timedelta(minutes=index * 90 + rng.randrange(60))
        name = session_name(index, when, rng)
        folder = os.path.join(root, name)
        os.mkdir(folder)
        manifest, files = build_manifest(name, when, images, rng)
        for filename in files:
            fd = os.open(os.path.join(folder, filename), flags, 0o644)
            os.write(fd, TINY_PNG)
            os.close(fd)
        fd = os.open(os.path.join(folder, "manifest.json"), flags, 0o644)
        os.write(fd, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        os.close(fd)


def time_runs(call: Callable[[], object], runs: int, warmups: int = 2) -> list[float]:
    """Milliseconds of ``runs`` calls of ``call`` after ``warmups`` untimed ones."""
    for _ in range(warmups):
        call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def verdict(value: float, target: float) -> str:
    """``target X -> r.rrx (OK|OVER)`` for a figure and its budget."""
    return f"target {target:g} -> {value / target:.2f}x ({'OK' if value <= target else 'OVER'})"


def median(values: list[float]) -> float:
    return statistics.median(values)

"""Benchmark: stats for one session of 100 images and one of 2 000 images.

Targets (issue 3): ≤ 10 ms per 100-image session, ≤ 30 ms per 2 000-image
session on the project's 2-core machine.  Prints the median of repeated runs
and the ratio to the target; run it with ``.venv/bin/python bench/bench_stats.py``.
Measured for a V2 session and for a mid-October one (``<name>_manifest.json``),
whose model, sampler and CFG come from one image's generation text and whose
mode, combinations and template are inferred from its plan.
"""

from __future__ import annotations

import json
import statistics
import struct
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from sdsessions_tui.core.stats import read_session

TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)
CASES = {100: (10.0, 60), 2000: (30.0, 25)}  # images: (target ms, repeats)


def write_session(root: Path, images: int) -> Path:
    """A finished V2 sweep-free combinatorial session shaped like real ones (spec example A/B)."""
    folder = root / f"20251114_093010-bench_{images}"
    folder.mkdir()
    expressions = [f"expression {i}" for i in range(20)]
    angles = [f"angle {i}" for i in range(images // 20 + 1)]
    entries = []
    for index in range(images):
        applied = {"Expression": expressions[index % 20], "Angle": angles[index // 20]}
        name = f"bench_{images}_{index:04d}_seed-{1000 + index}.png"
        (folder / name).write_bytes(TINY_PNG)
        entries.append({"filename": name, "seed": 1000 + index, "applied_variations": applied,
                        "prompt": f"masterpiece, 1girl, {applied['Expression']}, {applied['Angle']}, detailed face",
                        "negative_prompt": "lowres, bad anatomy"})
    manifest = {
        "snapshot": {
            "version": "2.0", "timestamp": "2025-11-14T09:30:11.090114",
            "runtime_info": {"sd_model_checkpoint": "ponyDiffusionV6XL.safetensors [67ab2fd8ec]"},
            "resolved_template": {"prompt": "masterpiece, 1girl, {Expression}, {Angle}, detailed face",
                                  "negative": "lowres, bad anatomy"},
            "generation_params": {"mode": "combinatorial", "seed_mode": "progressive", "base_seed": 1000,
                                  "num_images": images, "total_combinations": 20 * len(angles)},
            "api_params": {"width": 832, "height": 1216, "steps": 28, "cfg_scale": 6, "sampler": "Euler a"},
            "variations": {
                "Expression": {"available": expressions, "used": expressions, "count": 20},
                "Angle": {"available": angles, "used": angles, "count": len(angles)}},
        },
        "images": entries,
        "status": "completed",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


INFOTEXT = ("masterpiece, 1girl, expression 0, angle 0, detailed face\nNegative prompt: lowres, bad anatomy\n"
            "Steps: 28, Sampler: Euler a, Schedule type: Karras, CFG scale: 6, Seed: 1000, Size: 832x1216, "
            "Model hash: 67ab2fd8ec, Model: ponyDiffusionV6XL, Version: v1.10.1")


def png_with_text(text: str) -> bytes:
    """The tiny PNG with A1111's ``parameters`` chunk spliced in before IEND."""
    body = b"parameters\0" + text.encode("latin-1")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return TINY_PNG[:-12] + chunk + TINY_PNG[-12:]


def write_phase2_session(root: Path, images: int) -> Path:
    """A finished mid-October session: the plan in ``<name>_manifest.json``, images with generation text."""
    name = f"bench_{images}.prompt"
    folder = root / f"2025-10-12_180433_{name}"
    folder.mkdir()
    angles = [f"angle {i}" for i in range(images // 20 + 1)]
    image = png_with_text(INFOTEXT)
    entries = []
    for index in range(images):
        expression, angle = f"expression {index % 20}", angles[index // 20]
        (folder / f"{name}_{index:04d}.png").write_bytes(image)
        entries.append({"index": index, "prompt": f"masterpiece, 1girl, {angle}, {expression}, detailed face",
                        "negative_prompt": "lowres, bad anatomy", "seed": 1000 + index,
                        "variations": {"Angle": angle, "Expression": expression},
                        "parameters": {"width": 832, "height": 1216, "steps": 28}})
    manifest = {"session_name": name, "template_source": f"/templates/{name}.yaml",
                "generated_at": "2025-10-12T18:04:33.120931", "total_variations": images,
                "templating_system": "v2.0", "variations": entries}
    (folder / f"{name}_manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def measure(folder: Path, repeats: int) -> list[float]:
    read_session(folder)  # warm the page cache and imports, as a refresh after the first would be
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        stats = read_session(folder)
        timings.append((time.perf_counter() - start) * 1000)
        assert stats.stats_error is None and stats.status == "completed" and stats.sd_model
    return timings


ERAS: dict[str, Callable[[Path, int], Path]] = {"V2": write_session, "mid-October": write_phase2_session}


def main() -> None:
    print("bench_stats: read_session() on one session (median of repeated runs, warm cache)")
    with tempfile.TemporaryDirectory(prefix="sdsessions-bench-") as tmp:
        for era, write in ERAS.items():
            for images, (target, repeats) in CASES.items():
                folder = write(Path(tmp), images)
                size_kb = max(path.stat().st_size for path in folder.glob("*.json")) / 1024
                timings = measure(folder, repeats)
                median = statistics.median(timings)
                print(f"  {era:>11} {images:>5} images (manifest {size_kb:,.0f} KiB): median {median:6.2f} ms, "
                      f"min {min(timings):6.2f} ms, max {max(timings):6.2f} ms over {repeats} runs; "
                      f"target {target:.0f} ms -> {median / target:.2f}x of budget "
                      f"({'OK' if median <= target else 'OVER'})")


if __name__ == "__main__":
    main()

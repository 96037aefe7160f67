"""Benchmark: stats for one session of 100 images and one of 2 000 images.

Targets (issue 3): ≤ 10 ms per 100-image session, ≤ 30 ms per 2 000-image
session on the project's 2-core machine.  Prints the median of repeated runs
and the ratio to the target; run it with ``.venv/bin/python bench/bench_stats.py``.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
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


def measure(folder: Path, repeats: int) -> list[float]:
    read_session(folder)  # warm the page cache and imports, as a refresh after the first would be
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        stats = read_session(folder)
        timings.append((time.perf_counter() - start) * 1000)
        assert stats.stats_error is None and stats.status == "completed"
    return timings


def main() -> None:
    print("bench_stats: read_session() on one V2 session (median of repeated runs, warm cache)")
    with tempfile.TemporaryDirectory(prefix="sdsessions-bench-") as tmp:
        for images, (target, repeats) in CASES.items():
            folder = write_session(Path(tmp), images)
            size_kb = (folder / "manifest.json").stat().st_size / 1024
            timings = measure(folder, repeats)
            median = statistics.median(timings)
            print(f"  {images:>5} images (manifest {size_kb:,.0f} KiB): median {median:6.2f} ms, "
                  f"min {min(timings):6.2f} ms, max {max(timings):6.2f} ms over {repeats} runs; "
                  f"target {target:.0f} ms -> {median / target:.2f}x of budget "
                  f"({'OK' if median <= target else 'OVER'})")


if __name__ == "__main__":
    main()

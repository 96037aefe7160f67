"""Benchmark: the gallery's core models on large sessions (issue 16).

The screens draw what these compute, so each must leave the frame budget to drawing:
listing a session (``load_gallery``), the facet picker's counts, a filter, and a matrix.
Cases: 2 000 written images (20 expressions × 100 angles, progressive seeds), a
3 576-image seed sweep with 60 failed images (the author's largest session), and a
manifest listing 10 000 images of which none exists (the issue's bad input).  Targets
are ours, not the issue's: open ≤ 50 ms, facets and matrix ≤ 17 ms (one frame).
Run with ``PYTHONPATH=src .venv/bin/python bench/bench_gallery.py``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from _trees import TINY_PNG, median, time_runs, verdict

from sdsessions_tui.core.axes import SEED, Axis
from sdsessions_tui.core.facets import FacetFilter, facets
from sdsessions_tui.core.gallery import Value, load_gallery
from sdsessions_tui.core.matrix import build_matrix, default_axes
from sdsessions_tui.core.stats import read_session


def session(root: Path, name: str, entries: list[dict[str, Any]], snapshot: dict[str, Any], *,
            write: bool) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"snapshot": snapshot, "images": entries,
                                                      "status": "completed"}))
    if write:
        for entry in entries:
            (folder / entry["filename"]).write_bytes(TINY_PNG)
    return folder


def combinatorial(root: Path) -> Path:
    entries = [{"filename": f"big_{i:04d}_seed-{1000 + i}.png", "seed": 1000 + i, "prompt": f"p {i}",
                "negative_prompt": "n", "applied_variations": {"Expression": f"e{i % 20}", "Angle": f"a{i // 20}"}}
               for i in range(2000)]
    snapshot = {"generation_params": {"mode": "combinatorial", "seed_mode": "progressive", "base_seed": 1000,
                                      "num_images": 2000}}
    return session(root, "20251114_093010-big", entries, snapshot, write=True)


def sweep(root: Path) -> Path:
    seeds = list(range(5000, 5024))
    entries = [{"filename": f"sw_{i:04d}_seed-{seeds[i % 24]}.png", "seed": seeds[i % 24],
                "applied_variations": {"Hair": f"h{i // 24}", "Fixed": "x"}}
               for i in range(3576) if i % 60 != 7]
    snapshot = {"generation_params": {"num_images": 3576, "seed_list": seeds}}
    return session(root, "20251114_093011-sweep", entries, snapshot, write=True)


def ghosts(root: Path) -> Path:
    entries = [{"filename": f"gone_{i:05d}.png", "seed": i} for i in range(10_000)]
    return session(root, "20251114_093012-ghosts", entries, {}, write=False)


def report(label: str, timings: list[float], target: float) -> None:
    middle = median(timings)
    print(f"{label:46} median {middle:7.2f} ms  worst {max(timings):7.2f} ms  {verdict(middle, target)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for label, folder in (("2 000 images", combinatorial(root)), ("3 576-image sweep", sweep(root)),
                              ("10 000 listed, none on disk", ghosts(root))):
            report(f"{label}: load_gallery", time_runs(lambda f=folder: load_gallery(f), 15), 50)
            # The same manifest read and folder listing as a refresh pays: the floor of load_gallery.
            report(f"{label}: (read_session, for scale)", time_runs(lambda f=folder: read_session(f), 15), 50)
            gallery = load_gallery(folder)
            states: dict[str, int] = {}
            for image in gallery.images:
                states[image.state] = states.get(image.state, 0) + 1
            print(f"  {len(gallery.images)} entries: {states}")
            report(f"{label}: facets, no choice", time_runs(lambda g=gallery: facets(g, FacetFilter()), 15), 17)
            axes = default_axes(gallery)
            if axes is None:
                continue
            rows, columns = axes
            first = gallery.images[0]
            chosen = FacetFilter().toggled(rows, rows.value_of(first))
            report(f"{label}: facets, one choice", time_runs(lambda g=gallery, c=chosen: facets(g, c), 15), 17)
            report(f"{label}: filter", time_runs(lambda g=gallery, c=chosen: c.apply(g.images), 15), 17)
            report(f"{label}: matrix {rows.label} x {columns.label}",
                   time_runs(lambda g=gallery, r=rows, c=columns: build_matrix(g, r, c), 15), 17)
            if columns != SEED and isinstance(first.variations.get("Angle"), Value):
                small = FacetFilter().toggled(Axis("Angle"), first.variations["Angle"])
                report(f"{label}: matrix with a facet", time_runs(
                    lambda g=gallery, r=rows, c=columns, s=small: build_matrix(g, r, c, s), 15), 17)


if __name__ == "__main__":
    main()

"""Benchmark: our infotext reader (core/infotext.py) against ``sd-parsers`` on this project's data.

Issue 16 asks to evaluate a well-kept parser against our own and keep the one that measures
better.  Both are run on the same texts:

- the demo tree's PNGs (every image of a V2 session with a manifest entry: the seed, model,
  model hash and negative prompt are checked against the manifest), and
- spec-like texts written by hand for what real A1111 files hold (quoted LoRA hashes with
  commas, ``Hashes`` JSON, multi-line prompts and negatives, a prompt with a colon, no negative,
  hires fields, a PNG rewritten without parameters).

Correctness = fields read right out of fields checked; speed = text parse per text, and file
read + parse per image (ours reads chunk headers only; sd-parsers opens the image with Pillow).
``sd-parsers`` is not a dependency: install it anywhere and point PYTHONPATH at it, e.g.
``pip install --target /tmp/sdp sd-parsers==0.6`` then
``PYTHONPATH=src:/tmp/sdp .venv/bin/python bench/bench_infotext.py``; without it only ours runs.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdsessions_tui.core.demo import write_demo_tree
from sdsessions_tui.core.infotext import parse_infotext, png_parameters

FIELDS = ("prompt", "negative", "seed", "steps", "sampler", "schedule type", "cfg", "size", "model", "model hash")

#: (text, the fields it must give); a field absent from the expectation is not checked.
SPEC_TEXTS: list[tuple[str, dict[str, str | None]]] = [
    ("masterpiece, 1girl, smiling, front view\nNegative prompt: low quality, blurry\n"
     "Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 832x1216, "
     "Model hash: 1a2b3c4d5e, Model: hassakuXLIllustrious_v13, Version: v1.10.1",
     {"prompt": "masterpiece, 1girl, smiling, front view", "negative": "low quality, blurry", "seed": "42",
      "steps": "25", "sampler": "DPM++ 2M", "schedule type": "Karras", "cfg": "7", "size": "832x1216",
      "model": "hassakuXLIllustrious_v13", "model hash": "1a2b3c4d5e"}),
    ("portrait, <lora:detail:0.7>, red hair\nNegative prompt: lowres\n"
     'Steps: 28, Sampler: Euler a, CFG scale: 6, Seed: 3312870459, Size: 832x1216, Model hash: 6327eca98b, '
     'Model: animagineXL40_v4Opt, Lora hashes: "detail: 0a1b2c3d4e5f, style: 99aa88bb77cc", Version: v1.10.1',
     {"seed": "3312870459", "model": "animagineXL40_v4Opt", "model hash": "6327eca98b", "size": "832x1216",
      "negative": "lowres"}),
    ("a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: -1, Size: 512x512, Model: sd15, "
     'Hashes: {"model": "abcdef1234", "lora:x": "00ff"}, Version: v1.9.0',
     {"prompt": "a cat", "negative": None, "seed": "-1", "model": "sd15", "size": "512x512"}),
    ("masterpiece,\n1girl: smiling,\nnightclub\nNegative prompt: worst quality,\nbad hands\n"
     "Steps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5, Seed: 2749155873, Size: 832x1216, "
     "Model hash: 0f1e2d3c4b, Model: donmain_v10, Denoising strength: 0.4, Hires upscale: 1.5, "
     "Hires upscaler: R-ESRGAN 4x+, ADetailer model: face_yolov8n.pt, Version: v1.10.1",
     {"prompt": "masterpiece,\n1girl: smiling,\nnightclub", "negative": "worst quality,\nbad hands",
      "seed": "2749155873", "cfg": "5", "schedule type": "Automatic", "model": "donmain_v10"}),
    ("portrait, red hair, detailed face\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1000, Size: 512x768, "
     "Model hash: 67ab2fd8ec, Model: ponyDiffusionV6XL, Clip skip: 2, Version: v1.10.1",
     {"prompt": "portrait, red hair, detailed face", "negative": None, "seed": "1000", "steps": "20",
      "model hash": "67ab2fd8ec"}),
    ('text "Negative prompt: inside" quotes\nNegative prompt: blurry\n'
     "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 5, Size: 512x768",
     {"prompt": 'text "Negative prompt: inside" quotes', "negative": "blurry", "cfg": "7.5",
      "sampler": "DPM++ 2M Karras"}),
]


def ours(text: str) -> dict[str, str | None]:
    parsed = parse_infotext(text)
    p = parsed.params
    return {"prompt": parsed.prompt, "negative": parsed.negative_prompt, "seed": p.get("Seed"),
            "steps": p.get("Steps"), "sampler": p.get("Sampler"), "schedule type": p.get("Schedule type"),
            "cfg": p.get("CFG scale"), "size": p.get("Size"), "model": p.get("Model"),
            "model hash": p.get("Model hash")}


def theirs_parser() -> Callable[[str], dict[str, str | None]] | None:
    try:
        from sd_parsers.exceptions import ParserError
        from sd_parsers.parsers._automatic1111 import AUTOMATIC1111Parser
    except ImportError:
        return None
    parser = AUTOMATIC1111Parser()

    def theirs(text: str) -> dict[str, str | None]:
        try:
            info = parser.parse({"parameters": text})
        except ParserError:
            return dict.fromkeys(FIELDS)
        except Exception as error:  # sd-parsers 0.6 raises ValueError on some texts: counted as wrong
            return {**dict.fromkeys(FIELDS), "raised": type(error).__name__}
        sampler = info.samplers[0]
        params = sampler.parameters
        model = sampler.model
        return {"prompt": info.full_prompt or None, "negative": info.full_negative_prompt or None,
                "seed": _text(params.get("seed")), "steps": _text(params.get("steps")), "sampler": sampler.name,
                "schedule type": _text(params.get("scheduler")), "cfg": _text(params.get("cfg_scale")),
                "size": _text(info.metadata.get("Size")), "model": model.name if model else None,
                "model hash": model.hash if model else None}

    return theirs


def theirs_file_reader() -> Callable[[Path], Any] | None:
    try:
        from sd_parsers import ParserManager
    except ImportError:
        return None
    manager = ParserManager()
    return lambda path: manager.parse(str(path))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def demo_cases(root: Path) -> tuple[list[tuple[str, dict[str, str | None]]], list[Path]]:
    """Texts of the demo tree's V2 images, with what their manifest says of each."""
    write_demo_tree(root)
    cases, files = [], []
    for manifest_path in sorted(root.glob("*/manifest.json")):
        try:
            manifest = json.loads(manifest_path.read_text())
        except ValueError:
            continue
        checkpoint = str(manifest.get("snapshot", {}).get("runtime_info", {}).get("sd_model_checkpoint", ""))
        model, _, model_hash = checkpoint.removesuffix("]").partition(" [")
        for entry in manifest.get("images", []):
            path = manifest_path.parent / entry["filename"]
            text = png_parameters(str(path)) if path.exists() else None
            if text is None:
                continue
            files.append(path)
            expected: dict[str, str | None] = {"seed": str(entry["seed"]),
                                               "negative": entry.get("negative_prompt") or None}
            if model and model != "unknown":
                expected["model"] = model.removesuffix(".safetensors")
                expected["model hash"] = model_hash or None
            cases.append((text, expected))
    return cases, files


def score(parse: Callable[[str], dict[str, str | None]], cases: list[tuple[str, dict[str, str | None]]]
          ) -> tuple[int, int, list[str]]:
    right = total = 0
    wrong: list[str] = []
    for text, expected in cases:
        got = parse(text)
        for name, value in expected.items():
            total += 1
            if got.get(name) == value:
                right += 1
            elif len(wrong) < 5:
                wrong.append(f"{name}: {got.get(name)!r} != {value!r}")
    return right, total, wrong


def per_call_us(call: Callable[[Any], object], items: list[Any], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for item in items:
            call(item)
        best = min(best, (time.perf_counter() - started) / max(1, len(items)))
    return best * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        demo, files = demo_cases(Path(tmp) / "demo")
        theirs = theirs_parser()
        read_theirs = theirs_file_reader()
        print(f"{len(demo)} demo texts, {len(SPEC_TEXTS)} spec-like texts")
        parsers: list[tuple[str, Callable[[str], dict[str, str | None]]]] = [("ours", ours)]
        if theirs is None:
            print("sd-parsers not importable: only ours measured (see the docstring)")
        else:
            parsers.append(("sd-parsers", theirs))
        for name, parse in parsers:
            for label, cases in (("demo", demo), ("spec-like", SPEC_TEXTS)):
                right, total, wrong = score(parse, cases)
                print(f"{name:10} {label:9} correct {right}/{total}" + (f"  e.g. {'; '.join(wrong)}" if wrong else ""))
            texts = [text for text, _ in demo + SPEC_TEXTS]
            print(f"{name:10} parse text      {per_call_us(parse, texts):8.1f} µs per text")
        print(f"{'ours':10} read file+parse {per_call_us(lambda p: ours(png_parameters(str(p)) or ''), files):8.1f} "
              "µs per image")
        if read_theirs is not None:
            print(f"{'sd-parsers':10} read file+parse {per_call_us(read_theirs, files):8.1f} µs per image")


if __name__ == "__main__":
    main()

"""The example manifests of the spec (§10), rebuilt as Python data.

Shared by the stats, sweep and fuzz tests; each function returns a fresh copy.
"""

from __future__ import annotations

from typing import Any


def _image(filename: str, seed: int, prompt: str, negative: str, applied: dict[str, Any]) -> dict[str, Any]:
    return {"filename": filename, "seed": seed, "prompt": prompt, "negative_prompt": negative,
            "applied_variations": applied}


def example_a() -> dict[str, Any]:
    """Before theme/status, legacy, combinatorial, mid-run (2 of 6)."""
    neg = "low quality, blurry"
    return {"snapshot": {
        "version": "2.0", "timestamp": "2025-10-16T14:02:12.482913",
        "runtime_info": {"sd_model_checkpoint": "hassakuXLIllustrious_v13.safetensors [1a2b3c4d5e]"},
        "resolved_template": {"prompt": "masterpiece, 1girl, {Expression}, {Angle}, detailed face", "negative": neg},
        "generation_params": {"mode": "combinatorial", "seed_mode": "progressive", "base_seed": 42,
                              "num_images": 6, "total_combinations": 6},
        "api_params": {"width": 832, "height": 1216, "steps": 25, "cfg_scale": 7, "sampler": "DPM++ 2M Karras"},
        "variations": {
            "Expression": {"available": ["smiling", "serious", "surprised"],
                           "used": ["smiling", "serious", "surprised"], "count": 3},
            "Angle": {"available": ["front view", "side view"], "used": ["front view", "side view"], "count": 2}}},
        "images": [
            _image("portrait_test.prompt_0000.png", 42, "masterpiece, 1girl, smiling, front view, detailed face", neg,
                   {"Expression": "smiling", "Angle": "front view"}),
            _image("portrait_test.prompt_0001.png", 43, "masterpiece, 1girl, smiling, side view, detailed face", neg,
                   {"Expression": "smiling", "Angle": "side view"})]}


def example_b() -> dict[str, Any]:
    """Current legacy, themed, fixed placeholder, finished."""
    neg = "lowres, bad anatomy"
    return {"snapshot": {
        "version": "2.0", "timestamp": "2025-11-12T18:15:03.771204",
        "runtime_info": {"sd_model_checkpoint": "animagineXL40_v4Opt.safetensors [6327eca98b]"},
        "resolved_template": {"prompt": "masterpiece, 1girl, {Outfit}, {Pose}, {Location}", "negative": neg},
        "generation_params": {"mode": "random", "seed_mode": "random", "base_seed": -1, "num_images": 3,
                              "total_combinations": 24},
        "api_params": {"width": 832, "height": 1216, "steps": 28, "cfg_scale": 6, "sampler": "Euler a",
                       "scheduler": "Karras",
                       "adetailer": {"enabled": True, "detectors": [
                           {"ad_model": "face_yolov8n.pt", "ad_prompt": "", "ad_confidence": 0.3}]}},
        "variations": {
            "Outfit": {"available": ["neon jacket"], "used": ["neon jacket"], "count": 1},
            "Pose": {"available": ["standing", "sitting", "leaning", "crouching"],
                     "used": ["standing", "leaning", "sitting"], "count": 4},
            "Location": {"available": ["rooftop", "alley", "bar", "subway", "market", "club"],
                         "used": ["alley", "club", "rooftop"], "count": 6}},
        "fixed_placeholders": {"Outfit": "neon_jacket"}, "theme_name": "cyberpunk", "style": "default"},
        "images": [
            _image("Teasing_0000.png", 3312870459, "masterpiece, 1girl, neon jacket, standing, alley", neg,
                   {"Outfit": "neon jacket", "Pose": "standing", "Location": "alley"}),
            _image("Teasing_0001.png", 912004381, "masterpiece, 1girl, neon jacket, leaning, club", neg,
                   {"Outfit": "neon jacket", "Pose": "leaning", "Location": "club"}),
            _image("Teasing_0002.png", 58812300, "masterpiece, 1girl, neon jacket, sitting, rooftop", neg,
                   {"Outfit": "neon jacket", "Pose": "sitting", "Location": "rooftop"})],
        "status": "completed"}


def example_c() -> dict[str, Any]:
    """Seed sweep, legacy: 3 seeds × 2 hair colours, variation-major."""
    images = []
    for group, hair in enumerate(("red hair", "crimson hair")):
        for offset, seed in enumerate((1000, 1001, 1002)):
            index = group * 3 + offset
            images.append(_image(f"hair_test_{index:04d}_seed-{seed}.png", seed,
                                 f"portrait, {hair}, detailed face", "", {"HairColor": hair}))
    return {"snapshot": {
        "version": "2.0", "timestamp": "2025-11-14T09:30:11.090114",
        "runtime_info": {"sd_model_checkpoint": "ponyDiffusionV6XL.safetensors [67ab2fd8ec]"},
        "resolved_template": {"prompt": "portrait, {HairColor}, detailed face", "negative": ""},
        "generation_params": {"mode": "combinatorial", "seed_mode": "progressive", "base_seed": 42,
                              "num_images": 6, "total_combinations": 2, "seed_list": [1000, 1001, 1002]},
        "api_params": {"width": 512, "height": 768, "steps": 20, "cfg_scale": 7, "sampler": "Euler a"},
        "variations": {"HairColor": {"available": ["red hair", "crimson hair"],
                                     "used": ["red hair", "crimson hair"], "count": 2}},
        "fixed_placeholders": {}, "theme_name": None, "style": "default"},
        "images": images, "status": "completed"}


def example_d() -> dict[str, Any]:
    """New orchestrator after Ctrl+C: ``ongoing`` forever, 1 of 25 images."""
    return {"snapshot": {
        "version": "2.0", "timestamp": "2025-11-17T11:17:58.402113",
        "runtime_info": {"sd_model_checkpoint": "donmain_v10.safetensors [0f1e2d3c4b]"},
        "resolved_template": {"prompt": "masterpiece, 1girl, {HAIRBANGS_1}, {HAIRLENGTH}, nightclub",
                              "negative": "worst quality"},
        "generation_params": {"mode": "random", "seed_mode": "random", "base_seed": None, "num_images": 25,
                              "total_combinations": 25},
        "api_params": {"width": 832, "height": 1216, "steps": 28, "cfg_scale": 5, "sampler": "Euler a"},
        "variations": {
            "HAIRBANGS_1": {"available": ["asymmetrical sidelocks", "low-tied sidelocks", "sidelocks",
                                          "sidelocks tied back", "single hair intake"],
                            "used": ["sidelocks", "single hair intake", "low-tied sidelocks",
                                     "asymmetrical sidelocks", "sidelocks tied back"], "count": 5},
            "HAIRLENGTH": {"available": ["absurdly long hair", "big hair", "long hair", "medium hair", "short hair"],
                           "used": ["long hair", "big hair", "short hair", "absurdly long hair", "medium hair"],
                           "count": 5}},
        "fixed_placeholders": {}, "theme_name": None, "style": "default"},
        "images": [_image("20251117_111757-donmain_test_nightclub_0000.png", 2749155873,
                          "masterpiece, 1girl, sidelocks, long hair, nightclub", "worst quality",
                          {"HAIRBANGS_1": "sidelocks", "HAIRLENGTH": "long hair"})],
        "status": "ongoing"}


def example_e() -> dict[str, Any]:
    """API unreachable at start (legacy): as B, with no images, aborted, checkpoint unknown."""
    manifest = example_b()
    manifest["images"] = []
    manifest["status"] = "aborted"
    manifest["snapshot"]["runtime_info"]["sd_model_checkpoint"] = "unknown"
    return manifest


def example_f() -> dict[str, Any]:
    """Dry-run (legacy): the sweep's plan, ``.png`` names that never exist, planned seeds."""
    manifest = example_c()
    manifest["snapshot"]["timestamp"] = "2025-11-14T10:00:01.000000"
    return manifest


def dry_run_payload(seed: int) -> dict[str, Any]:
    return {"prompt": "portrait, red hair, detailed face", "negative_prompt": "", "seed": seed, "steps": 20,
            "cfg_scale": 7, "width": 512, "height": 768, "sampler_name": "Euler a", "batch_size": 1,
            "n_iter": 1, "scheduler": "automatic"}

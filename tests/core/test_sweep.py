"""The seed-sweep rule (spec §12) and its traps."""

from sdsessions_tui.core.extract import extract_v2
from sdsessions_tui.core.sweep import is_seed_sweep
from tests.core import spec_examples as ex


def sweep_of(manifest):
    extracted = extract_v2(manifest)
    return is_seed_sweep(extracted.seed_list, extracted.entries)


def test_seed_list_is_the_reliable_rule():
    assert sweep_of(ex.example_c()) is True


def test_sweep_without_placeholders_yields_one_image_and_is_still_a_sweep():
    manifest = ex.example_c()
    manifest["images"] = manifest["images"][:1]
    assert sweep_of(manifest) is True


def test_empty_seed_list_is_not_a_sweep():
    manifest = ex.example_c()
    manifest["snapshot"]["generation_params"]["seed_list"] = []
    assert sweep_of(manifest) is False


def test_structural_fallback_without_seed_list():
    manifest = ex.example_c()
    del manifest["snapshot"]["generation_params"]["seed_list"]
    assert sweep_of(manifest) is True


def test_fallback_with_a_short_last_group_while_running():
    manifest = ex.example_c()
    del manifest["snapshot"]["generation_params"]["seed_list"]
    manifest["images"] = manifest["images"][:5]
    assert sweep_of(manifest) is True


def test_fallback_accepts_the_same_seeds_in_another_order():
    manifest = ex.example_c()
    del manifest["snapshot"]["generation_params"]["seed_list"]
    images = manifest["images"]
    images[3]["seed"], images[5]["seed"] = images[5]["seed"], images[3]["seed"]
    assert sweep_of(manifest) is True


def test_seed_suffix_and_progressive_seeds_are_not_indicators():
    """A progressive run since 2025-11-06: ``_seed-`` names, consecutive seeds, no seed_list."""
    manifest = ex.example_a()
    for index, image in enumerate(manifest["images"]):
        image["filename"] = f"portrait_{index:04d}_seed-{image['seed']}.png"
    assert sweep_of(manifest) is False


def test_placeholder_free_progressive_run_is_not_a_sweep():
    """Upstream read identical prompts with +1 seeds as a sweep; it is not."""
    manifest = ex.example_c()
    del manifest["snapshot"]["generation_params"]["seed_list"]
    for index, image in enumerate(manifest["images"]):
        image["applied_variations"] = {}
        image["seed"] = 42 + index
    assert sweep_of(manifest) is False


def test_top_level_generation_mode_is_not_an_indicator():
    manifest = ex.example_b()
    manifest["generation_mode"] = "seed-sweep"
    assert sweep_of(manifest) is False


def test_fixed_seed_repeated_across_groups_is_not_a_sweep():
    manifest = ex.example_c()
    del manifest["snapshot"]["generation_params"]["seed_list"]
    for image in manifest["images"]:
        image["seed"] = 7
    assert sweep_of(manifest) is False

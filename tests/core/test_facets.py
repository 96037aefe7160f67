"""Facets: OR within an axis, AND across, counts as the web UI shows them, value order, the seed axis."""

from sdsessions_tui.core.axes import SEED, Axis, axis_values, value_label, varying_axes
from sdsessions_tui.core.facets import FacetFilter, facets, showing
from sdsessions_tui.core.gallery import Value, load_gallery
from tests.conftest import write_session
from tests.core import spec_examples as ex

POSE, PLACE = Axis("Pose"), Axis("Location")


def grid_manifest():
    """Pose × Location, all 3 × 2, seeds 1..6; one Location missing on the last image."""
    images = []
    pairs = [(pose, place) for pose in ("standing", "sitting", "leaning") for place in ("alley", "club")]
    for i, (pose, place) in enumerate(pairs):
        images.append({"filename": f"g_{i:04d}.png", "seed": i + 1,
                       "applied_variations": {"Pose": pose, **({"Location": place} if i < 5 else {})}})
    return {"snapshot": {"variations": {
        "Pose": {"available": ["leaning", "sitting", "standing"], "used": ["standing", "sitting", "leaning"]},
        "Location": {"available": ["club", "alley"]}}}, "images": images, "status": "completed"}


def gallery_of(tmp_path, manifest):
    names = [i["filename"] for i in manifest["images"]]
    return load_gallery(write_session(tmp_path / "root", "20251114_093010-g", manifest=manifest, images=names))


def counts(facet):
    return {value.label: (value.count, value.selected) for value in facet.values}


def test_without_a_choice_every_image_shows_and_every_value_counts(tmp_path):
    gallery = gallery_of(tmp_path, grid_manifest())
    assert FacetFilter().apply(gallery.images) == gallery.images
    pose, place, seed = facets(gallery, FacetFilter())
    assert (pose.axis, place.axis, seed.axis) == (POSE, PLACE, SEED)
    assert counts(pose) == {"leaning": (2, False), "sitting": (2, False), "standing": (2, False)}
    assert list(counts(place)) == ["club", "alley", "(none)"]  # pool order, then images without one
    assert counts(place)["(none)"] == (1, False)
    assert len(seed.values) == 6


def test_or_within_an_axis_and_across_axes(tmp_path):
    gallery = gallery_of(tmp_path, grid_manifest())
    chosen = FacetFilter().toggled(POSE, Value("standing")).toggled(POSE, Value("leaning"))
    assert [i.seed for i in chosen.apply(gallery.images)] == [1, 2, 5, 6]
    chosen = chosen.toggled(PLACE, Value("club"))
    assert [i.seed for i in chosen.apply(gallery.images)] == [2]
    assert showing(len(chosen.apply(gallery.images)), len(gallery.images)) == "Showing 1 / 6"


def test_counts_are_within_the_other_axes_choice(tmp_path):
    gallery = gallery_of(tmp_path, grid_manifest())
    chosen = FacetFilter().toggled(POSE, Value("standing")).toggled(PLACE, Value("club"))
    pose, place, _ = facets(gallery, chosen)
    # Pose counts among club images; Location counts among standing ones; own choices never hide.
    assert counts(pose) == {"leaning": (0, False), "sitting": (1, False), "standing": (1, True)}
    assert counts(place) == {"club": (1, True), "alley": (1, False), "(none)": (0, False)}


def test_toggling_twice_and_clearing(tmp_path):
    chosen = FacetFilter().toggled(POSE, Value("a")).toggled(PLACE, Value("b"))
    assert chosen.toggled(POSE, Value("a")).selected == {PLACE: frozenset({Value("b")})}
    assert chosen.cleared(PLACE).selected == {POSE: frozenset({Value("a")})}
    assert chosen.cleared().selected == {}
    assert FacetFilter().toggled(POSE, Value("a")) == FacetFilter().toggled(POSE, Value("a"))
    assert len({chosen, chosen.toggled(POSE, Value("z")).toggled(POSE, Value("z")), FacetFilter()}) == 2


def test_the_seed_is_an_axis_of_its_own_even_beside_a_placeholder_named_seed(tmp_path):
    manifest = ex.example_c()
    for image in manifest["images"]:
        image["applied_variations"]["seed"] = "x"
    gallery = gallery_of(tmp_path, manifest)
    assert axis_values(gallery, SEED) == [1000, 1001, 1002]
    chosen = FacetFilter().toggled(SEED, 1001)
    assert [i.index for i in chosen.apply(gallery.images)] == [1, 4]
    assert Axis("seed") != SEED and Axis("seed").label == SEED.label == "seed"
    assert varying_axes(gallery) == [Axis("HairColor"), SEED]  # "seed" the placeholder does not vary


def test_sweep_seeds_in_seed_list_order_then_first_seen(tmp_path):
    manifest = ex.example_c()
    manifest["snapshot"]["generation_params"]["seed_list"] = [1002, 1000, 1001]
    manifest["images"][0]["seed"] = 7
    gallery = gallery_of(tmp_path, manifest)
    assert axis_values(gallery, SEED) == [1002, 1000, 1001, 7]


def test_failed_entries_count_under_none_until_their_values_are_known(tmp_path):
    manifest = ex.example_e()  # 3 planned, none written, random seeds
    gallery = gallery_of(tmp_path, manifest)
    assert varying_axes(gallery) == [] and facets(gallery, FacetFilter()) == []
    facet, = facets(gallery, FacetFilter(), [Axis("Pose")])
    assert counts(facet) == {"(none)": (3, False)}


def test_value_labels():
    assert (value_label(None), value_label(-3), value_label(Value("a b"))) == ("(none)", "-3", "a b")


def test_an_empty_gallery_has_no_facets(tmp_path):
    gallery = load_gallery(write_session(tmp_path / "root", "x"))
    assert facets(gallery, FacetFilter()) == [] and showing(0, 0) == "Showing 0 / 0"

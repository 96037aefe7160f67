"""The variation matrix: axes chosen or defaulted, cells with their images, failed and empty cells."""

import pytest

from sdsessions_tui.core.axes import SEED, Axis
from sdsessions_tui.core.facets import FacetFilter
from sdsessions_tui.core.gallery import ImageState, Value, load_gallery
from sdsessions_tui.core.matrix import axis_choices, build_matrix, default_axes
from tests.conftest import write_session
from tests.core import spec_examples as ex
from tests.core.test_facets import grid_manifest

HAIR = Axis("HairColor")


def gallery_of(tmp_path, manifest, images=None):
    names = [i["filename"] for i in manifest["images"]] if images is None else images
    return load_gallery(write_session(tmp_path / "root", "20251114_093010-m", manifest=manifest, images=names))


def grid(matrix):
    return [[cell.image.seed if cell.image else None for cell in row] for row in matrix.cells]


def test_a_sweep_shows_placeholder_by_seed_with_its_failed_cell(tmp_path):
    manifest = ex.example_c()
    del manifest["images"][4]  # crimson hair × 1001 failed
    gallery = gallery_of(tmp_path, manifest)
    assert default_axes(gallery) == (HAIR, SEED)
    matrix = build_matrix(gallery, HAIR, SEED)
    assert matrix.row_values == [Value("red hair"), Value("crimson hair")]
    assert matrix.column_values == [1000, 1001, 1002]
    assert grid(matrix) == [[1000, 1001, 1002], [1000, 1001, 1002]]
    assert matrix.cell(1, 1).state is ImageState.FAILED and matrix.cell(1, 1).image.filename is None
    assert matrix.cell(0, 0).state is ImageState.OK and matrix.facet_axes == []


def test_two_placeholders_with_the_others_as_facets(tmp_path):
    manifest = ex.example_b()
    gallery = gallery_of(tmp_path, manifest)
    assert default_axes(gallery) == (Axis("Pose"), Axis("Location"))  # 3 × 3 values: manifest order
    matrix = build_matrix(gallery, Axis("Pose"), Axis("Location"))
    assert [[len(cell.images) for cell in row] for row in matrix.cells] == [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert matrix.cell(0, 0).state is None and matrix.cell(0, 0).image is None  # no image has that pair
    assert matrix.facet_axes == [SEED]
    assert axis_choices(gallery) == [Axis("Pose"), Axis("Location"), SEED]


def test_the_axis_with_more_values_is_the_rows(tmp_path):
    gallery = gallery_of(tmp_path, grid_manifest())  # Pose 3 values, Location 2 + none
    assert default_axes(gallery) == (Axis("Pose"), Axis("Location"))
    matrix = build_matrix(gallery, Axis("Location"), Axis("Pose"))
    assert matrix.row_values == [Value("club"), Value("alley"), None]
    assert matrix.column_values == [Value("leaning"), Value("sitting"), Value("standing")]
    assert grid(matrix) == [[None, 4, 2], [5, 3, 1], [6, None, None]]


def test_facets_on_other_axes_and_on_its_own_axes(tmp_path):
    gallery = gallery_of(tmp_path, grid_manifest())
    chosen = FacetFilter().toggled(Axis("Pose"), Value("standing")).toggled(Axis("Pose"), Value("sitting"))
    matrix = build_matrix(gallery, Axis("Pose"), Axis("Location"), chosen)
    assert matrix.row_values == [Value("sitting"), Value("standing")]  # only the chosen rows
    chosen = FacetFilter().toggled(SEED, 1)
    matrix = build_matrix(gallery, Axis("Pose"), Axis("Location"), chosen)
    assert grid(matrix) == [[1]] and matrix.facet_axes == [SEED]  # only the values the filter lets through


def test_a_cell_shows_its_first_written_image_and_keeps_all(tmp_path):
    manifest = ex.example_c()
    gallery = gallery_of(tmp_path, manifest, images=[i["filename"] for i in manifest["images"]][1:])
    matrix = build_matrix(gallery, SEED, HAIR)
    assert matrix.cell(0, 0).state is ImageState.MISSING  # its only image was deleted
    gallery = gallery_of(tmp_path, manifest)
    matrix = build_matrix(gallery, HAIR, Axis("nothing"))
    assert [len(cell.images) for cell in matrix.cells[0]] == [3]
    assert matrix.column_values == [None]


def test_a_seed_run_without_repeats_and_one_placeholder_has_no_default(tmp_path):
    manifest = ex.example_a()
    gallery = gallery_of(tmp_path, manifest)  # Angle varies, seeds 42..47 never repeat
    assert default_axes(gallery) is None
    assert default_axes(load_gallery(write_session(tmp_path / "root", "empty"))) is None


def test_seeds_repeating_across_combinations_default_to_a_seed_column(tmp_path):
    manifest = ex.example_c()
    del manifest["snapshot"]["generation_params"]["seed_list"]  # an edited manifest: the structure tells
    assert default_axes(gallery_of(tmp_path, manifest)) == (HAIR, SEED)


def test_one_axis_on_both_sides_is_refused(tmp_path):
    with pytest.raises(ValueError, match="different"):
        build_matrix(gallery_of(tmp_path, ex.example_c()), SEED, SEED)

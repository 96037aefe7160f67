"""The variation matrix: a session's images on an X/Y grid of two axes.

Rows are the values of one placeholder, columns those of another or the seeds
(a seed sweep reads placeholder × seed at once): the comparison people build by
hand with A1111's X/Y plot.  The other axes stay facets; a choice on a row or
column axis keeps only the chosen rows or columns.  A cell holds every image of
its two values that the facets let through, the first written one shown; a cell
without one says why (failed, not written, missing) or that no image has that
pair (random runs sample combinations, and failures without a known combination
land nowhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .axes import SEED, Axis, AxisValue, axis_values, varying_axes
from .facets import FacetFilter
from .gallery import Gallery, GalleryImage, ImageState


@dataclass(frozen=True, slots=True)
class Cell:
    images: list[GalleryImage] = field(default_factory=list)
    """Every image of this row and column value that the facets let through, in gallery order."""

    @property
    def image(self) -> GalleryImage | None:
        """The image the cell shows and Enter opens: the first with a file, else the first entry."""
        return next((image for image in self.images if image.has_file), self.images[0] if self.images else None)

    @property
    def state(self) -> ImageState | None:
        """The shown image's state; None for a pair no image has."""
        image = self.image
        return image.state if image is not None else None


@dataclass(frozen=True, slots=True)
class Matrix:
    rows: Axis
    columns: Axis
    row_values: list[AxisValue]
    column_values: list[AxisValue]
    cells: list[list[Cell]]
    """``cells[r][c]`` for ``row_values[r]`` × ``column_values[c]``."""
    facet_axes: list[Axis]
    """The varying axes that are neither rows nor columns: the matrix's facets."""

    def cell(self, row: int, column: int) -> Cell:
        return self.cells[row][column]


def axis_choices(gallery: Gallery) -> list[Axis]:
    """What the axis picker offers: every varying placeholder, then the seed."""
    return varying_axes(gallery)


def default_axes(gallery: Gallery) -> tuple[Axis, Axis] | None:
    """Rows and columns to open with, or None when images vary along fewer than two axes.

    A sweep (or any run whose seeds repeat across combinations) crosses its most varied
    placeholder with the seeds.  Otherwise the two most varied placeholders: the one with more
    values as rows (rows scroll, columns must fit the width), the manifest's order on a tie.
    """
    axes = [axis for axis in varying_axes(gallery) if not axis.is_seed]
    counts = {axis: len(axis_values(gallery, axis)) for axis in axes}
    ranked = sorted(axes, key=lambda axis: -counts[axis])
    seeds = [image.seed for image in gallery.images if image.seed is not None]
    seeds_repeat = len(set(seeds)) > 1 and len(set(seeds)) < len(seeds)
    if ranked and (gallery.is_seed_sweep or seeds_repeat):
        return ranked[0], SEED
    if len(ranked) >= 2:
        return ranked[0], ranked[1]
    return None


def build_matrix(gallery: Gallery, rows: Axis, columns: Axis, chosen: FacetFilter | None = None) -> Matrix:
    """Lay the images that ``chosen`` lets through on ``rows`` × ``columns`` (two different axes:
    one axis on both sides is a list, not a comparison, and raises ``ValueError``)."""
    if rows == columns:
        raise ValueError("rows and columns must be different axes")
    chosen = chosen or FacetFilter()
    images = chosen.apply(gallery.images)
    row_values = axis_values(gallery, rows, images)
    column_values = axis_values(gallery, columns, images)
    row_of = {value: k for k, value in enumerate(row_values)}
    column_of = {value: k for k, value in enumerate(column_values)}
    cells: list[list[list[GalleryImage]]] = [[[] for _ in column_values] for _ in row_values]
    for image in images:
        cells[row_of[rows.value_of(image)]][column_of[columns.value_of(image)]].append(image)
    facet_axes = [axis for axis in varying_axes(gallery) if axis not in (rows, columns)]
    return Matrix(rows, columns, row_values, column_values, [[Cell(c) for c in row] for row in cells], facet_axes)

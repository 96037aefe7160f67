"""Filtering a gallery by placeholder values and seeds, as the generator's web UI does.

A selection is OR within an axis (Pose = standing or sitting) and AND across axes
(… and Location = alley).  Each value's count is the number of images it would
show given the *other* axes' selections: what picking it would give, which is how
the web UI counts (a value of the same axis never hides another).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .axes import Axis, AxisValue, axis_values, value_label, varying_axes
from .gallery import Gallery, GalleryImage


@dataclass(frozen=True, slots=True)
class FacetFilter:
    """The values chosen on each axis; an axis without a choice filters nothing.  Immutable: each
    change gives a new filter, so a screen can keep the previous one for Esc."""

    selected: Mapping[Axis, frozenset[AxisValue]] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:  # the mapping proxy is not hashable; the choice is
        return hash(frozenset(self.selected.items()))

    def toggled(self, axis: Axis, value: AxisValue) -> FacetFilter:
        """This filter with ``value`` added to (or removed from) ``axis``'s choice."""
        chosen = self.selected.get(axis, frozenset()) ^ {value}
        return self._with(axis, chosen)

    def cleared(self, axis: Axis | None = None) -> FacetFilter:
        """No choice on ``axis`` (every axis when None)."""
        return FacetFilter() if axis is None else self._with(axis, frozenset())

    def _with(self, axis: Axis, chosen: frozenset[AxisValue]) -> FacetFilter:
        selected = {a: v for a, v in self.selected.items() if a != axis}
        if chosen:
            selected[axis] = chosen
        return FacetFilter(MappingProxyType(selected))

    def matches(self, image: GalleryImage, *, ignoring: Axis | None = None) -> bool:
        return all(axis.value_of(image) in chosen for axis, chosen in self.selected.items() if axis != ignoring)

    def apply(self, images: list[GalleryImage]) -> list[GalleryImage]:
        """The images the filter shows, in gallery order (navigation and the viewer walk this list)."""
        return [image for image in images if self.matches(image)] if self.selected else list(images)


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: AxisValue
    label: str
    count: int
    """Images shown if this value were chosen, given the other axes' choices."""
    selected: bool


@dataclass(frozen=True, slots=True)
class Facet:
    axis: Axis
    values: list[FacetValue]


def facets(gallery: Gallery, chosen: FacetFilter, axes: list[Axis] | None = None) -> list[Facet]:
    """The picker's content: each axis (default: every varying one) with its values and counts.

    One pass over the images: an image that fails no axis counts for every axis, one that fails
    exactly one axis counts for that axis only (choosing there could show it), others for none.
    """
    axes = varying_axes(gallery) if axes is None else axes
    counted: dict[Axis, list[GalleryImage]] = {axis: [] for axis in axes}
    shown: list[GalleryImage] = []
    for image in gallery.images:
        failing = [axis for axis, values in chosen.selected.items() if axis.value_of(image) not in values]
        if not failing:
            shown.append(image)
        elif len(failing) == 1 and failing[0] in counted:
            counted[failing[0]].append(image)
    counts = {axis: Counter(map(axis.value_of, shown)) + Counter(map(axis.value_of, counted[axis]))
              for axis in axes}
    out = []
    for axis in axes:
        picked = chosen.selected.get(axis, frozenset())
        out.append(Facet(axis, [FacetValue(value, value_label(value), counts[axis][value], value in picked)
                                for value in axis_values(gallery, axis)]))
    return out


def showing(shown: int, total: int) -> str:
    """The line always visible above the grid."""
    return f"Showing {shown} / {total}"

"""The dimensions a session's images vary along: each placeholder, and the seed.

Facets filter along them and the variation matrix lays images out along two of
them, so both ask the same questions here: an image's value on an axis, and an
axis's values in a stable, meaningful order (the manifest's pool order, the
sweep's seed order, then first seen), never alphabetical.
"""

from __future__ import annotations

from dataclasses import dataclass

from .gallery import Gallery, GalleryImage, Value

#: A value on an axis: a placeholder's :class:`Value`, a seed, or None (the image has none).
AxisValue = Value | int | None


@dataclass(frozen=True, slots=True)
class Axis:
    """A placeholder (by name) or, with ``placeholder`` None, the seed: a placeholder named "seed"
    stays a placeholder."""

    placeholder: str | None = None

    @property
    def is_seed(self) -> bool:
        return self.placeholder is None

    @property
    def label(self) -> str:
        return "seed" if self.placeholder is None else self.placeholder

    def value_of(self, image: GalleryImage) -> AxisValue:
        return image.seed if self.placeholder is None else image.variations.get(self.placeholder)


SEED = Axis()


def value_label(value: AxisValue) -> str:
    """How a value reads in a picker or a header; "(none)" for images without one."""
    if value is None:
        return "(none)"
    return str(value) if isinstance(value, int) else value.text


def axis_values(gallery: Gallery, axis: Axis, images: list[GalleryImage] | None = None) -> list[AxisValue]:
    """The distinct values of ``axis`` among ``images`` (default: all), ordered as the session
    planned them, then as first seen; None (no value) last."""
    found = dict.fromkeys(axis.value_of(image) for image in (gallery.images if images is None else images))
    has_none = None in found
    found.pop(None, None)
    if axis.placeholder is None:
        rank = {seed: i for i, seed in reversed(list(enumerate(gallery.seed_list)))}
        ordered = sorted(found, key=lambda v: rank.get(v, len(rank)) if isinstance(v, int) else len(rank))
    else:
        texts = gallery.value_order.get(axis.placeholder, [])
        rank_text = {text: i for i, text in reversed(list(enumerate(texts)))}
        ordered = sorted(found, key=lambda v: rank_text.get(v.text, len(rank_text))
                         if isinstance(v, Value) else len(rank_text))
    return [*ordered, *([None] if has_none else [])]


def varying_axes(gallery: Gallery) -> list[Axis]:
    """The axes along which images differ (two values at least): the varying placeholders, then
    the seed.  The only ones worth a facet or a matrix side."""
    axes = [Axis(name) for name in gallery.varying]
    if len({image.seed for image in gallery.images if image.seed is not None}) > 1:
        axes.append(SEED)
    return axes

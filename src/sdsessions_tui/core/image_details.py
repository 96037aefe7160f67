"""What the viewer's side strip says about one image beyond the gallery entry.

Two things need more than the manifest: the PNG's own generation text (A1111's
``parameters`` chunk, parsed by :mod:`.infotext`, which ``bench/bench_infotext.py``
measured against ``sd-parsers`` on this data), and where that text and the
manifest disagree on the seed or the model.  A disagreement shows both values:
neither source is always right (a hand-edited manifest, an image copied in from
another run, annotation rewriting the file), and the user must see which is which.
Also "what changed from the previous image", which needs only the entries.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .coerce import as_int
from .gallery import Gallery, GalleryImage
from .infotext import Infotext, parse_infotext, png_parameters

_MODEL = re.compile(r"^(?P<name>.*?)(?:\s*\[(?P<hash>[0-9a-fA-F]{6,64})\])?\s*$", re.S)
_CHECKPOINT_SUFFIX = re.compile(r"\.(safetensors|ckpt|pt|pth|bin)$", re.I)


@dataclass(frozen=True, slots=True)
class Change:
    """The placeholders (in session order) and whether the seed differ from the previous image."""

    placeholders: tuple[str, ...] = ()
    seed: bool = False

    def __bool__(self) -> bool:
        return bool(self.placeholders) or self.seed


def changes(previous: GalleryImage | None, current: GalleryImage, order: list[str] | None = None) -> Change:
    """What differs from ``previous`` (nothing for the first image).  A placeholder only one of
    them has differs too; an unknown seed on either side is no change (nothing to compare)."""
    if previous is None:
        return Change()
    names = list(dict.fromkeys([*(order or []), *previous.variations, *current.variations]))
    differ = tuple(name for name in names if previous.variations.get(name) != current.variations.get(name))
    seeds = (previous.seed, current.seed)
    return Change(differ, None not in seeds and seeds[0] != seeds[1])


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A field on which the manifest and the image's own text differ: both values, as written."""

    field: str
    manifest: str
    image: str


@dataclass(frozen=True, slots=True)
class ImageText:
    """The image's generation text, parsed, and how it compares with the manifest."""

    text: str | None
    """The raw text (None: the file has none, is not a PNG, or could not be read)."""
    parsed: Infotext = field(default_factory=Infotext)
    disagreements: list[Disagreement] = field(default_factory=list)
    reason: str | None = None
    """Why there is no text."""


def read_image_text(gallery: Gallery, image: GalleryImage) -> ImageText:
    """Read and compare ``image``'s generation text.  Reads only the PNG's chunk headers and its text
    chunk; never a file outside the session folder (:meth:`.Gallery.open_path`)."""
    path = gallery.open_path(image)
    if path is None:
        why = image.reason or "the file now leads outside the root"
        return ImageText(None, reason=f"no file to read ({why})")
    text = png_parameters(os.fspath(path))
    if text is None and not path.exists():
        return ImageText(None, reason="the file was deleted or moved since the gallery was listed")
    if text is None:
        return ImageText(None, reason="no generation text in this file (not a PNG, none written, or unreadable)")
    parsed = parse_infotext(text)
    return ImageText(text, parsed, disagreements(gallery, image, parsed))


def disagreements(gallery: Gallery, image: GalleryImage, parsed: Infotext) -> list[Disagreement]:
    """Seed and model, where both sides state them and they differ."""
    out = []
    seed = as_int(parsed.params.get("Seed"))
    if image.seed is not None and seed is not None and seed != image.seed:
        out.append(Disagreement("seed", str(image.seed), str(seed)))
    model = _image_model(parsed)
    if model and gallery.sd_model and gallery.sd_model != "unknown" and not same_model(gallery.sd_model, model):
        out.append(Disagreement("model", gallery.sd_model, model))
    return out


def _image_model(parsed: Infotext) -> str | None:
    name, model_hash = parsed.params.get("Model"), parsed.params.get("Model hash")
    if name and model_hash:
        return f"{name} [{model_hash}]"
    return name or (f"[{model_hash}]" if model_hash else None)


def same_model(manifest: str, image: str) -> bool:
    """Whether two model names are one checkpoint: the manifest writes ``file.safetensors [hash]``,
    the image ``file`` and a hash apart; equal hashes decide when both have one, else the names
    without their file extension, ignoring case."""
    a, b = _MODEL.match(manifest), _MODEL.match(image)
    assert a is not None and b is not None  # the pattern matches any text
    if a["hash"] and b["hash"]:
        return a["hash"].lower().startswith(b["hash"].lower()) or b["hash"].lower().startswith(a["hash"].lower())
    names = [_CHECKPOINT_SUFFIX.sub("", m["name"].strip()).lower() for m in (a, b)]
    return not all(names) or names[0] == names[1]

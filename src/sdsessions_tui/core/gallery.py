"""A session's images as the gallery shows them: generation order, with what failed left visible.

Judging a run means seeing what it made *and* what it did not: a half-failed run
must not look like a short, complete one.  So the gallery lists the manifest's
``images[]`` in order (spec §7), puts an empty "failed" or "not written" entry
wherever a planned image is known to be absent (a gap in the index sequence,
fewer images than planned, a dry run), then the image files the manifest does
not list.  Older eras without per-image records list their files by index.

Nothing outside the session folder is opened: the folder is listed once
(:func:`.files.list_folder`, which leaves out links leading out of the root),
a manifest file name that climbs out of the folder is refused with its reason,
and :meth:`Gallery.open_path` checks a file again when it is about to be read.
Building reads the metadata file and the directory only, never an image, so a
manifest of 10 000 entries costs milliseconds (``bench/bench_gallery.py``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .coerce import as_dict, value_text
from .extract import Extracted, ImageEntry
from .files import (
    FolderListing,
    image_index,
    is_annotated,
    leaves_root,
    list_folder,
    multi_image_fallback,
    unsafe_filename_reason,
)
from .jsonread import DEFAULT_RETRY_DELAYS
from .stats import folder_for, read_metadata
from .sweep import is_seed_sweep
from .text import clean_text

#: Empty entries made for planned images beyond this many are counted, not listed: a manifest
#: claiming a billion planned images (or a file named ``x_999999999.png``) must not fill memory.
MAX_PLANNED_GAPS = 20_000


class ImageState(StrEnum):
    """What a gallery entry is: an image to show, or why there is none."""

    OK = "ok"
    UNLISTED = "unlisted"
    """A file in the folder that the manifest does not list (or the era has no manifest to list it)."""
    FAILED = "failed"
    """Planned, and the run went past it (a gap) or finished without it."""
    NOT_WRITTEN = "not written"
    """Planned, and the run stopped (or is still running, or was a dry run) before writing it."""
    MISSING = "missing file"
    """Listed by the manifest, but no such file is in the folder (deleted, moved)."""
    REFUSED = "refused"
    """Listed by the manifest under a name that would be read outside the session folder."""


#: States whose entry names a file in the folder that may be opened.
HAS_FILE = frozenset({ImageState.OK, ImageState.UNLISTED})


@dataclass(frozen=True, slots=True)
class Value:
    """One placeholder value: ``text`` is what facets compare and captions show; an object value
    (multi-part variations, upstream #56) keeps its ``parts`` (``main`` first), so a viewer can show
    the LoRA apart from the words."""

    text: str
    parts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class GalleryImage:
    """One cell of the gallery.  Compared by identity: two failed entries are two cells."""

    position: int
    """Place in the gallery (0-based): the order the grid shows."""
    state: ImageState
    filename: str | None = None
    """A plain file name in the session folder when ``state`` has a file; else the listed name, if any."""
    index: int | None = None
    """The planned index (from the file name or the plan); None when unknown."""
    seed: int | None = None
    """The real seed of a written image; the planned one for an empty entry, where it is known."""
    variations: Mapping[str, Value] = field(default_factory=dict)
    prompt: str | None = None
    negative_prompt: str | None = None
    reason: str | None = None
    """Why the state is not ``ok``, in words for the user."""

    @property
    def has_file(self) -> bool:
        return self.state in HAS_FILE


@dataclass(slots=True)
class Gallery:
    """The images of one session, and what the session says about them as a whole."""

    path: Path
    root: Path
    images: list[GalleryImage] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    """Every placeholder of the session: the manifest's order, then any only images name."""
    value_order: dict[str, list[str]] = field(default_factory=dict)
    """Each placeholder's values (as text) in the manifest's pool order: facets and the matrix list them so."""
    seed_list: list[int] = field(default_factory=list)
    is_seed_sweep: bool = False
    is_dry_run: bool = False
    sd_model: str | None = None
    """The session's checkpoint (``name [hash]``), to compare with an image's own text."""
    error: str | None = None
    """Why the metadata could not be read: the files are listed all the same."""
    warnings: list[str] = field(default_factory=list)
    hidden_planned: int = 0
    """Planned-but-absent images beyond :data:`MAX_PLANNED_GAPS`, counted only."""

    varying: list[str] = field(default_factory=list)
    """The placeholders whose value differs between images: what a caption must show."""

    def open_path(self, image: GalleryImage) -> Path | None:
        """The path to read ``image`` from, or None when it has no file or its file now leads outside
        the root (it was replaced by a link since the listing): checked at each read, not once."""
        if not image.has_file or image.filename is None:
            return None
        path = self.path / image.filename
        if os.path.islink(path) and leaves_root(path, os.path.realpath(self.root)):
            return None
        return path


def _varying(images: list[GalleryImage], names: list[str]) -> list[str]:
    # Images share their variations mapping when their values are equal (see _Builder.variations).
    distinct = list({id(image.variations): image.variations for image in images}.values())
    return [name for name in names
            if len({value.text for v in distinct if (value := v.get(name)) is not None}) > 1]


def load_gallery(session_path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, *,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS) -> Gallery:
    """List a session's images (see the module docstring).  Never raises for bad data.

    ``root`` is the sessions root the folder was found under (default: its parent, or the
    grandparent for a dry run): links whose real path leaves it are never read.
    """
    folder = folder_for(Path(session_path))
    gallery = Gallery(folder.path, Path(root) if root is not None else folder.root, is_dry_run=folder.is_dry_run)
    listing = list_folder(gallery.path, gallery.root)
    gallery.warnings += listing.warnings
    if listing.error:
        gallery.error = listing.error
        return gallery
    metadata = read_metadata(gallery.path, listing, retry_delays)
    gallery.error = metadata.error
    extracted = metadata.extracted
    if extracted is not None:
        _session_facts(gallery, extracted)
    _Builder(gallery, listing, extracted, finished=_finished(extracted, metadata.file)).build()
    gallery.placeholders += [name for name in dict.fromkeys(n for image in gallery.images for n in image.variations)
                             if name not in gallery.placeholders]
    gallery.varying = _varying(gallery.images, gallery.placeholders)
    return gallery


def _session_facts(gallery: Gallery, extracted: Extracted) -> None:
    gallery.placeholders = list(extracted.placeholders)
    gallery.value_order = {name: list(info.get("values") or []) for name, info in extracted.placeholders.items()}
    gallery.seed_list = list(extracted.seed_list or [])
    gallery.is_seed_sweep = is_seed_sweep(extracted.seed_list, extracted.entries)
    gallery.sd_model = extracted.sd_model


def _finished(extracted: Extracted | None, metadata_file: str | None) -> bool:
    """Whether the generator said it finished: only then is a planned image that never came
    "failed" rather than "not written".  V0 wrote ``metadata.json`` at the end of a run."""
    if extracted is None:
        return False
    return extracted.status_raw == "completed" or (extracted.manifest_format == "v0"
                                                   and metadata_file == "metadata.json")


def variations_of(applied: Any) -> dict[str, Value]:
    """``applied_variations`` normalised: string keys, every value as :class:`Value` (an object keeps
    its parts); a null value is no value, and anything but an object gives none."""
    out: dict[str, Value] = {}
    for name, value in as_dict(applied).items():
        if value is None:
            continue
        parts = tuple((str(k), value_text(v)) for k, v in _main_first(value).items()) if isinstance(value, dict) else ()
        out[str(name)] = Value(value_text(value), parts)
    return out


def _main_first(value: dict[str, Any]) -> dict[str, Any]:
    return {**({"main": value["main"]} if "main" in value else {}), **value}


_NO_VARIATIONS: Mapping[str, Value] = MappingProxyType({})


@dataclass(slots=True)
class _Record:
    """A gallery entry before its position is known."""

    state: ImageState
    filename: str | None = None
    index: int | None = None
    entry: ImageEntry | None = None
    reason: str | None = None


class _Builder:
    """Builds one gallery: the manifest's records, the gaps between them, then the other files."""

    def __init__(self, gallery: Gallery, listing: FolderListing, extracted: Extracted | None, *,
                 finished: bool) -> None:
        self.gallery, self.listing, self.extracted, self.finished = gallery, listing, extracted, finished
        self.prefix = extracted.image_prefix if extracted else None
        self.used: set[str] = set()
        self._variations: dict[tuple[tuple[Any, Any], ...], dict[str, Value]] = {}
        self._values: dict[str, Value] = {}

    def _plain(self, text: str) -> Value:
        value = self._values.get(text)
        if value is None:
            value = self._values[text] = Value(text)
        return value

    def variations(self, applied: Any) -> Mapping[str, Value]:
        """:func:`variations_of`, one shared (read-only) mapping per distinct set of plain values: a
        2 000-image run has a few dozen combinations, and facets compare mappings by identity first."""
        if not isinstance(applied, dict) or not applied:
            return _NO_VARIATIONS
        if not all(type(v) is str for v in applied.values()):
            return variations_of(applied)
        key = tuple(applied.items())
        found = self._variations.get(key)
        if found is None:
            found = self._variations[key] = {str(name): self._plain(text) for name, text in key}
        return found

    def build(self) -> None:
        extracted = self.extracted
        if extracted is not None and extracted.entries is not None:
            records = [self._recorded(entry) for entry in extracted.entries]
        elif extracted is not None and extracted.plan:
            records = self._planned(extracted.plan)
        else:
            records = []
        # Where the metadata records no images (V0, no manifest), the folder's files are the results.
        listed = extracted is not None and (extracted.entries is not None or bool(extracted.plan))
        state, reason = (ImageState.UNLISTED, "not listed in the manifest") if listed else (ImageState.OK, None)
        unlisted = [_Record(state, name, image_index(name, self.prefix), reason=reason)
                    for name in self.listing.images if name not in self.used and not is_annotated(name)]
        if listed:
            self._batch_siblings(records, unlisted)
        unlisted.sort(key=_index_key)
        records = self._with_gaps(records, unlisted)
        sweep = self._sweep_groups(records)
        self.gallery.images = [self._image(position, record, sweep) for position, record in enumerate(records)]

    def _batch_siblings(self, records: list[_Record], unlisted: list[_Record]) -> None:
        """The new orchestrator writes every image of a response as ``<stem>_001``, ``_002``… and lists
        one (spec §4): the others are unlisted but made from the same prompt, so they take its
        placeholders and prompts (not its seed: each image of a batch has its own)."""
        stems = {r.entry.filename: r.entry for r in records if r.state is ImageState.OK and r.entry is not None}
        for record in unlisted:
            entry = stems.get(_batch_stem(record.filename)) if record.filename else None
            if entry is not None:
                record.entry = ImageEntry(None, None, entry.applied_variations, entry.prompt, entry.negative_prompt)
                record.reason = "another image of a listed image's batch, not listed in the manifest"

    def _recorded(self, entry: ImageEntry) -> _Record:
        """A V2 ``images[]`` entry: its file, or why it has none."""
        name = entry.filename
        index = image_index(name) if isinstance(name, str) else None
        if isinstance(name, str) and self.listing.exists(name):
            return self._claim(_Record(ImageState.OK, name, index, entry))
        if not isinstance(name, str) or not name.strip():
            return _Record(ImageState.MISSING, None, None, entry, "the manifest entry names no file")
        reason = unsafe_filename_reason(name)
        if reason:
            self.gallery.warnings.append(f"image entry refused ({reason}): {name!r}"[:300])
            return _Record(ImageState.REFUSED, name, index, entry, f"not opened: {reason}")
        if name in self.listing.outside:
            return _Record(ImageState.REFUSED, name, index, entry,
                           "not opened: a symbolic link leading outside the root")
        fallback = multi_image_fallback(name, self.listing) if self.listing.images else None
        if fallback:
            return self._claim(_Record(ImageState.OK, fallback, index, entry))
        if self.gallery.is_dry_run:
            return _Record(ImageState.NOT_WRITTEN, name, index, entry, "a dry run writes no images")
        return _Record(ImageState.MISSING, name, index, entry, "the file is not in the session folder")

    def _claim(self, record: _Record) -> _Record:
        """A file belongs to one record: listed twice, the second entry says so."""
        assert record.filename is not None
        if record.filename in self.used:
            return _Record(ImageState.MISSING, record.filename, record.index, record.entry,
                           "the manifest lists this file twice")
        self.used.add(record.filename)
        return record

    def _planned(self, plan: list[ImageEntry]) -> list[_Record]:
        """A phase-2 plan: each planned prompt gets the file of its index, if one was written."""
        by_index: dict[int, str] = {}
        for name in self.listing.images:
            index = image_index(name, self.prefix)
            if index is not None and not is_annotated(name):
                by_index.setdefault(index, name)
        records = []
        for entry in plan:
            written = by_index.get(entry.index) if entry.index is not None else None
            if written is not None and written not in self.used:
                records.append(self._claim(_Record(ImageState.OK, written, entry.index, entry)))
            else:
                records.append(self._absent(entry.index, entry))
        return records

    def _absent(self, index: int | None, entry: ImageEntry | None = None, *, gap: bool = False) -> _Record:
        """A planned image that is not there: failed when the run went past it or finished."""
        if self.gallery.is_dry_run:
            return _Record(ImageState.NOT_WRITTEN, None, index, entry, "a dry run writes no images")
        if gap or self.finished:
            why = "the run went on without it" if gap else "the run finished without it"
            return _Record(ImageState.FAILED, None, index, entry, f"planned, not generated ({why})")
        return _Record(ImageState.NOT_WRITTEN, None, index, entry, "planned, not written (the run stopped or is "
                                                                   "still running)")

    def _with_gaps(self, records: list[_Record], unlisted: list[_Record]) -> list[_Record]:
        """Records and unlisted files, with an empty entry for each planned index that has no image:
        inside the known indices (a gap: failed), and after them up to the planned count."""
        known = {r.index for r in (*records, *unlisted) if r.index is not None}
        expected = self.extracted.images_expected if self.extracted else None
        planned_already = any(r.entry is not None and r.entry.index is not None for r in records)
        if planned_already or (not known and expected is None):
            return [*records, *unlisted]
        if not known and (records or unlisted):  # names without indices: only the count says how many are absent
            absent = max(0, (expected or 0) - len(records) - len(unlisted))
            return [*records, *unlisted, *(self._absent(None) for _ in range(self._shown(absent)))]
        start = 1 if self.extracted is not None and self.extracted.manifest_format == "v0" else 0
        if self.extracted is None:
            start = min(known)
        # A file the manifest does not list fills its index but stretches nothing: it may be a leftover.
        recorded = [r.index for r in records if r.index is not None]
        last = max(recorded or known, default=start - 1)
        # Planned indices run from start; the expected count may reach past the last one seen.
        span = range(start, max(last, start + expected - 1) + 1 if expected is not None else last + 1)
        absent = max(0, span.stop - span.start) - sum(1 for i in known if i in span)  # len() overflows past 2**63
        missing = islice((i for i in span if i not in known), self._shown(absent))
        gaps = iter([self._absent(i, gap=i < last) for i in missing])
        out: list[_Record] = []
        gap = next(gaps, None)
        for record in records:
            while gap is not None and record.index is not None and gap.index is not None and gap.index < record.index:
                out.append(gap)
                gap = next(gaps, None)
            out.append(record)
        rest = [*([gap] if gap is not None else []), *gaps]
        return [*out, *_merged(rest, unlisted)]

    def _shown(self, absent: int) -> int:
        """How many of ``absent`` planned images get an entry; the rest are counted and said."""
        shown = min(absent, MAX_PLANNED_GAPS)
        if absent > shown:
            self.gallery.hidden_planned = absent - shown
            self.gallery.warnings.append(f"{absent - shown} more planned images not listed")
        return shown

    def _sweep_groups(self, records: list[_Record]) -> dict[int, Mapping[str, Value]]:
        """In a seed sweep the images of one combination are ``len(seed_list)`` consecutive indices
        (spec §12): a failed index takes its combination from a written image of its group."""
        seeds = self.gallery.seed_list
        if not (self.gallery.is_seed_sweep and seeds):
            return {}
        groups: dict[int, Mapping[str, Value]] = {}
        for record in records:
            if record.entry is not None and record.index is not None and record.index // len(seeds) not in groups:
                groups[record.index // len(seeds)] = self.variations(record.entry.applied_variations)
        return groups

    def _image(self, position: int, record: _Record, sweep: dict[int, Mapping[str, Value]]) -> GalleryImage:
        entry = record.entry
        if entry is not None:
            return GalleryImage(position, record.state, record.filename, record.index, entry.seed,
                                self.variations(entry.applied_variations), entry.prompt, entry.negative_prompt,
                                record.reason)
        seed: int | None = None
        variations = _NO_VARIATIONS
        if record.state in (ImageState.FAILED, ImageState.NOT_WRITTEN) and record.index is not None:
            seed = self._planned_seed(record.index)
            seeds = self.gallery.seed_list
            if sweep:
                variations = sweep.get(record.index // len(seeds), {})
        return GalleryImage(position, record.state, record.filename, record.index, seed, variations,
                            reason=record.reason)

    def _planned_seed(self, index: int) -> int | None:
        """The seed planned for an index (spec §11): a sweep's seed list, else fixed or progressive
        from a known base; random seeds are not known ahead."""
        extracted = self.extracted
        if extracted is None:
            return None
        if self.gallery.is_seed_sweep and self.gallery.seed_list:
            return self.gallery.seed_list[index % len(self.gallery.seed_list)]
        base = extracted.seed_base
        if base is None or base < 0:
            return None
        if extracted.seed_mode == "fixed":
            return base
        if extracted.seed_mode == "progressive":
            return base + index
        return None


_BATCH = re.compile(r"(.+)_\d{3}(\.[^.]+)")


def _batch_stem(name: str | None) -> str | None:
    """``x_0000_002.png`` → ``x_0000.png``: the name a batch's images share; None for other names."""
    match = _BATCH.fullmatch(name) if name else None
    return match[1] + match[2] if match else None


def _index_key(record: _Record) -> tuple[int, int, str]:
    return (0, record.index, record.filename or "") if record.index is not None else (1, 0, record.filename or "")


def _merged(gaps: list[_Record], unlisted: list[_Record]) -> list[_Record]:
    """Trailing planned gaps and the unlisted files, in index order (a running generator writes the
    image before the manifest entry: the newest file sits where it was planned)."""
    return sorted([*gaps, *unlisted], key=_index_key)


def caption(image: GalleryImage, names: Iterable[str]) -> str:
    """The grid's one-line caption: index, seed and the values of ``names`` (the varying placeholders),
    then the state when it is not ``ok``; made safe to print."""
    parts = [f"#{image.index}" if image.index is not None else f"({image.position + 1})"]
    if image.seed is not None:
        parts.append(str(image.seed))
    parts += [value.text for name in names if (value := image.variations.get(name)) is not None]
    if image.state is not ImageState.OK:
        parts.append(f"[{image.state}]")
    return clean_text(" · ".join(parts))

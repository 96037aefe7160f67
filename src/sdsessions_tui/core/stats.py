"""Per-session statistics: one reader for every era (the record it fills is :mod:`.session_stats`).

:func:`read_session` is the only entry point.  It never raises: a session whose
metadata cannot be read is still returned, with ``stats_error`` saying why and
everything the folder itself tells (name, date, image files).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from .discovery import DRYRUN_DIR, SessionFolder
from .extract import Extracted, extract_phase2, extract_v2
from .files import (
    FolderListing,
    is_annotated,
    list_folder,
    multi_image_fallback,
    sort_by_index,
    unsafe_filename_reason,
)
from .infotext import parse_infotext, png_parameters, session_fields
from .jsonread import DEFAULT_RETRY_DELAYS, JsonRead, read_json_object
from .legacy_v0 import CONFIG_FILE, METADATA_FILE, extract_v0, parse_session_config
from .names import parse_folder_name
from .session_stats import FROM_IMAGE_TEXT, SOURCES_KEY, SessionStats
from .status import completion_percentage, decide_status
from .sweep import is_seed_sweep

log = logging.getLogger(__name__)


#: Longest plausible run (3 576 images at 20 s is ~20 h); beyond it file times were changed by a copy.
MAX_DURATION_SECONDS = 7 * 86_400

MANIFEST_V2 = "manifest.json"
_PHASE2_SUFFIX = "_manifest.json"
_METADATA_NAMES = frozenset({MANIFEST_V2, METADATA_FILE})
_MAX_CONFIG_BYTES = 4 * 1024 * 1024


def read_session(
    session: SessionFolder | str | os.PathLike[str],
    *,
    now: float | None = None,
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
) -> SessionStats:
    """Compute a session's stats from its folder.  Never raises.

    ``now`` (epoch seconds) decides running vs. stale; ``retry_delays`` are the
    pauses between re-reads of a half-written manifest.
    """
    folder = session if isinstance(session, SessionFolder) else folder_for(Path(session))
    try:
        return _compute(folder, time.time() if now is None else now, retry_delays)
    except Exception as error:  # a bug must cost one session, not the whole refresh
        log.exception("stats failed for %s", folder.path)
        stats = _base_stats(folder)
        stats.stats_error = f"internal error: {type(error).__name__}: {error}"
        return stats


def vanished_mid_read(stats_error: str | None, session_path: str) -> bool:
    """Whether a read failed because the folder went away meanwhile (renamed, moved, deleted).

    Such a session is gone, not broken: stored, the failure would overwrite the row's
    fingerprint, and the folder's new name could no longer take its place (with the
    user's tags and flags).  Callers mark it unavailable instead.
    """
    return stats_error is not None and not os.path.isdir(session_path)


def folder_for(path: Path) -> SessionFolder:
    """The session folder at ``path``, its root being the parent (the grandparent for a dry run)."""
    dry_run = path.parent.name == DRYRUN_DIR
    return SessionFolder(path, path.parent.parent if dry_run else path.parent, parse_folder_name(path.name), dry_run)


def _base_stats(folder: SessionFolder) -> SessionStats:
    return SessionStats(
        session_id=folder.session_id,
        session_path=str(folder.path),
        display_name=folder.folder.display_name,
        name_era=folder.folder.era,
        is_dry_run=folder.is_dry_run,
        session_created_at=folder.folder.created_at,
    )


def _compute(folder: SessionFolder, now: float, retry_delays: tuple[float, ...]) -> SessionStats:
    stats = _base_stats(folder)
    listing = list_folder(folder.path, folder.root)
    stats.folder_mtime = listing.mtime
    stats.warnings += listing.warnings
    if listing.error:
        stats.stats_error = listing.error
        return stats

    metadata = read_metadata(folder.path, listing, retry_delays)
    extracted, stats.manifest_file, stats.stats_error = metadata.extracted, metadata.file, metadata.error
    stats.manifest_mtime, stats.manifest_size = metadata.mtime, metadata.size
    if extracted is not None:
        _copy_extracted(stats, extracted)
        stats.fingerprint = _fingerprint(extracted)

    done = _done_images(stats, extracted, listing)
    stats.image_files = done
    sources = dict(extracted.sources) if extracted is not None else {}
    if not folder.is_dry_run:
        _fill_from_image_text(stats, listing, sources)
    stats.sampler_name = full_sampler_name(stats.sampler_name, stats.scheduler)
    if sources:
        stats.api_params = {**stats.api_params, SOURCES_KEY: sources}
    stats.images_actual = 0 if folder.is_dry_run else len(done)
    stats.image_files_raw = len(listing.images)
    if folder.is_dry_run:
        stats.dry_run_payloads = sum(1 for name in listing.names if _is_payload(name))
    stats.completion_percentage = completion_percentage(stats.images_actual, stats.images_expected)
    stats.has_extra_images = stats.images_expected is not None and stats.images_actual > stats.images_expected

    _image_times(stats, listing)
    newest = _newest_activity(stats, listing)
    stats.status = decide_status(
        stats.manifest_status,
        readable=stats.stats_error is None,
        done=stats.dry_run_payloads if folder.is_dry_run else stats.images_actual,
        expected=stats.images_expected,
        is_dry_run=folder.is_dry_run,
        newest_mtime=newest,
        now=now,
    )
    if stats.session_created_at is None:
        oldest = listing.oldest_mtime()
        stats.session_created_at = stats.manifest_generated_at or local_time(oldest)
    if stats.duration_seconds is None:
        stats.duration_seconds = _duration(stats, newest)
    return stats


@dataclass(frozen=True, slots=True)
class Metadata:
    """What the session's metadata file gave: its content (None when unreadable), the file, why it
    could not be read, and the file's time and size as read.

    A failure keeps the time and size only when it lasts until the file changes (a broken file
    nobody is writing): refresh then skips the file while it is unchanged.  Other failures (a
    permission, a file being written) have none, so the next refresh reads the file again.
    """

    extracted: Extracted | None = None
    file: str | None = None
    error: str | None = None
    mtime: float | None = None
    size: int | None = None


def _from_json(read: JsonRead, name: str, extract: Callable[[dict[str, Any]], Extracted]) -> Metadata:
    if read.data is not None:
        return Metadata(extract(read.data), name, None, read.mtime, read.size)
    if read.lasting:
        return Metadata(None, name, read.error, read.mtime, read.size)
    return Metadata(None, name, read.error)


def read_metadata(path: Path, listing: FolderListing, retry_delays: tuple[float, ...]) -> Metadata:
    """Pick the metadata file by the spec's precedence (§15) and extract it."""
    if listing.exists(MANIFEST_V2):
        return _from_json(read_json_object(path / MANIFEST_V2, retry_delays), MANIFEST_V2, extract_v2)
    phase2 = _phase2_manifest(path.name, listing)
    if phase2:
        return _from_json(read_json_object(path / phase2, retry_delays), phase2, extract_phase2)
    if listing.exists(METADATA_FILE):
        config = _read_config(path / CONFIG_FILE) if listing.exists(CONFIG_FILE) else None
        return _from_json(read_json_object(path / METADATA_FILE, retry_delays), METADATA_FILE,
                          partial(extract_v0, config=config))
    if listing.exists(CONFIG_FILE):
        config = _read_config(path / CONFIG_FILE)
        if config is None:
            return Metadata(None, CONFIG_FILE, f"cannot read {CONFIG_FILE}")
        info = listing.info(CONFIG_FILE)
        return Metadata(extract_v0(None, config), CONFIG_FILE, None, info.mtime if info else None,
                         info.size if info else None)
    return Metadata()


def _phase2_manifest(folder_name: str, listing: FolderListing) -> str | None:
    candidates = sorted(name for name in listing.names if name.endswith(_PHASE2_SUFFIX))
    preferred = [name for name in candidates if folder_name.endswith("_" + name.removesuffix(_PHASE2_SUFFIX))]
    return next(iter(preferred or candidates), None)


def _read_config(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_MAX_CONFIG_BYTES)
    except OSError:
        return None
    return parse_session_config(raw.decode("utf-8-sig", errors="replace"))


def _copy_extracted(stats: SessionStats, extracted: Extracted) -> None:
    for name in ("sd_model", "template_version", "generation_mode", "seed_mode", "seed_base",
                 "resolved_prompt", "negative_prompt", "width", "height", "steps", "cfg_scale",
                 "sampler_name", "scheduler", "theme_name", "style", "images_expected",
                 "total_combinations", "placeholders", "manifest_generated_at", "duration_seconds"):
        setattr(stats, name, getattr(extracted, name))
    # The manifest's own parameters; the key for derived fields is ours alone.
    stats.api_params = {key: value for key, value in extracted.api_params.items() if key != SOURCES_KEY}
    stats.manifest_format = extracted.manifest_format
    stats.manifest_status = extracted.status_raw
    stats.seed_list = list(extracted.seed_list or [])
    stats.is_seed_sweep = is_seed_sweep(extracted.seed_list, extracted.entries)
    seeds = [e.seed for e in extracted.entries] if extracted.entries is not None else extracted.planned_seeds
    seeds = [s for s in seeds if s is not None]
    stats.seed_min, stats.seed_max = (min(seeds), max(seeds)) if seeds else (None, None)
    stats.variations_summary = ", ".join(f"{name} ({info['count']})" for name, info in stats.placeholders.items())


def _fingerprint(extracted: Extracted) -> str | None:
    if extracted.manifest_generated_at is None:
        return None
    parts = (extracted.manifest_format, extracted.manifest_generated_at.isoformat(),
             extracted.resolved_prompt or "", extracted.sd_model or "")
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _done_images(stats: SessionStats, extracted: Extracted | None, listing: FolderListing) -> list[str]:
    """Image files that are results: recorded entries that exist, else the folder's images."""
    if extracted is not None and extracted.entries is not None:
        done: list[str] = []
        seen: set[str] = set()
        for entry in extracted.entries:
            name = entry.filename
            if not (isinstance(name, str) and listing.exists(name)):  # a listed name is a plain file name
                reason = unsafe_filename_reason(name)
                if reason:
                    stats.warnings.append(f"image entry ignored ({reason}): {name!r}"[:300])
                    continue
                name = multi_image_fallback(name, listing)
            if name and name not in seen:
                seen.add(name)
                done.append(name)
        return done
    names = [name for name in listing.images if not is_annotated(name)]
    return sort_by_index(names, extracted.image_prefix if extracted else None)


def full_sampler_name(sampler: str | None, scheduler: str | None) -> str | None:
    """The sampler as users name it: with its schedule type, which manifests keep apart ("DPM++ 2M"
    and "Karras" read "DPM++ 2M Karras", the name older eras recorded).  "automatic" (the sampler's
    own default) is no part of the name, nor a schedule type the name already ends with."""
    if sampler is None or scheduler is None or scheduler.strip().lower() in ("", "automatic"):
        return sampler
    if sampler.lower().endswith(" " + scheduler.strip().lower()):
        return sampler
    return f"{sampler} {scheduler.strip()}"


#: Missing any of these, a session's images are asked (their generation text records them).
_IMAGE_TEXT_TRIGGERS = ("sd_model", "sampler_name", "steps", "cfg_scale", "width", "height", "resolved_prompt")


def _fill_from_image_text(stats: SessionStats, listing: FolderListing, sources: dict[str, str]) -> None:
    """Fill the session fields its metadata lacks (the mid-October and V0 eras record no model) from
    the generation text of one image: the first done one, else the last (annotation may have
    rewritten an image without it).  The schedule type only comes with the sampler, and the
    negative prompt with the prompt: each pair is one choice.  ``sources`` hears what was filled."""
    missing = {name for name in _IMAGE_TEXT_TRIGGERS if getattr(stats, name) is None}
    if stats.sd_model == "unknown":  # the API did not answer the model query (spec §8); the images know
        missing.add("sd_model")
    if not missing or not stats.image_files:
        return
    if "sampler_name" in missing and stats.scheduler is None:
        missing.add("scheduler")
    if "resolved_prompt" in missing and stats.negative_prompt is None:
        missing.add("negative_prompt")
    for name in dict.fromkeys((stats.image_files[0], stats.image_files[-1])):
        text = png_parameters(os.path.join(listing.path, name))
        if text:
            break
    else:
        return
    for name, value in session_fields(parse_infotext(text)).items():
        if name in missing:
            setattr(stats, name, value)
            sources[name] = FROM_IMAGE_TEXT


def _is_payload(name: str) -> bool:
    return name.endswith(".json") and name not in _METADATA_NAMES and not name.endswith(_PHASE2_SUFFIX)


def _image_times(stats: SessionStats, listing: FolderListing) -> None:
    """First and last image times: those of the first and last image in generation order."""
    if stats.image_files:
        first, last = listing.mtime_of(stats.image_files[0]), listing.mtime_of(stats.image_files[-1])
        times = [t for t in (first, last) if t is not None]
        stats.first_image_created_at = local_time(min(times, default=None))
        stats.last_image_created_at = local_time(max(times, default=None))


def _newest_activity(stats: SessionStats, listing: FolderListing) -> float | None:
    """The newest manifest or image write: what says a run is still alive.

    The generator writes each image, then rewrites the manifest, so the
    manifest and the last image are the newest files of a live run.
    """
    times = [listing.mtime_of(stats.manifest_file), listing.mtime_of(stats.image_files[-1] if stats.image_files
                                                                      else None)]
    return max((t for t in times if t is not None), default=None)


def _duration(stats: SessionStats, newest: float | None) -> float | None:
    start = stats.manifest_generated_at or stats.session_created_at
    if start is None or newest is None:
        return None
    try:
        seconds = newest - start.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    # A copied or touched folder has new file times: a "duration" of weeks is that, not a run.
    return round(seconds, 1) if 0 <= seconds <= MAX_DURATION_SECONDS else None


def local_time(epoch: float | None) -> datetime | None:
    """A file time as a naive local datetime, like the generator's own timestamps."""
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch)
    except (OverflowError, OSError, ValueError):
        return None

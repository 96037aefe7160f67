"""The record of one session's statistics, apart from the readers that compute it.

The app shows and stores these records from its first frame on, but reads
session folders only when refreshing: keeping the readers (:mod:`.stats` and
the era parsers it imports) out of this module keeps them out of the launch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

#: Bump when a change to the readers (:mod:`.stats`) changes what is computed: cached rows are recomputed.
STATS_VERSION = 2

#: ``api_params`` key of the fields a session's files do not state but that were derived, with where
#: from (``{"sd_model": FROM_IMAGE_TEXT, …}``): the details say so beside each.  (A key of the existing
#: JSON column, not a column: the schema stays as it is.)
SOURCES_KEY = "_sources"
FROM_IMAGE_TEXT = "image text"
"""Read from the generation text (A1111 infotext) of the session's images."""
FROM_PLAN = "plan"
"""Inferred from the planned prompts of a mid-October manifest."""
FROM_FIRST_IMAGE = "first image"
"""The prompt of the first image: the template itself is not recorded."""


@dataclass(slots=True)
class SessionStats:
    """Everything the app knows about one session folder.

    Field names follow the upstream ``session_stats`` table where one exists;
    later tools (the SQLite store, export) read them by name.
    """

    session_id: str
    session_path: str
    display_name: str
    name_era: str
    is_dry_run: bool = False
    manifest_format: str = "none"
    """``v2``, ``phase2``, ``v0`` or ``none`` (image files only)."""
    manifest_file: str | None = None
    manifest_mtime: float | None = None
    manifest_size: int | None = None
    folder_mtime: float | None = None
    sd_model: str | None = None
    template_version: str | None = None
    generation_mode: str | None = None
    seed_mode: str | None = None
    seed_base: int | None = None
    resolved_prompt: str | None = None
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    sampler_name: str | None = None
    """The sampler as users name it: with the schedule type when the manifest keeps it apart
    ("DPM++ 2M Karras"; the manifest's own ``sampler`` stays in ``api_params``)."""
    scheduler: str | None = None
    api_params: dict[str, Any] = field(default_factory=dict)
    theme_name: str | None = None
    style: str | None = None
    images_expected: int | None = None
    images_actual: int = 0
    image_files_raw: int = 0
    dry_run_payloads: int = 0
    completion_percentage: float | None = None
    has_extra_images: bool = False
    """More images done than expected (upstream showed > 100 %)."""
    status: str = "unknown"
    manifest_status: str | None = None
    is_seed_sweep: bool = False
    seed_list: list[int] = field(default_factory=list)
    seed_min: int | None = None
    seed_max: int | None = None
    placeholders: dict[str, dict[str, Any]] = field(default_factory=dict)
    variations_summary: str = ""
    total_combinations: int | None = None
    image_files: list[str] = field(default_factory=list)
    """Done image files, in generation (index) order."""
    session_created_at: datetime | None = None
    manifest_generated_at: datetime | None = None
    first_image_created_at: datetime | None = None
    last_image_created_at: datetime | None = None
    duration_seconds: float | None = None
    stats_computed_at: datetime = field(default_factory=datetime.now)
    stats_version: int = STATS_VERSION
    stats_error: str | None = None
    """Why the stats are unavailable (metadata unreadable), or None."""
    fingerprint: str | None = None
    """A hash of what the manifest says at the start of the run (era, start time to the
    microsecond, prompt, model): it survives a rename or move of the folder, so the
    user's metadata can follow the session.  None when the manifest gives no start time."""
    warnings: list[str] = field(default_factory=list)
    """Problems that did not stop the stats (e.g. an image name pointing outside the folder)."""

    @property
    def stats_available(self) -> bool:
        return self.stats_error is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO text)."""
        return {key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in asdict(self).items()}

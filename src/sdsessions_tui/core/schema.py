"""The SQLite tables, declared once with SQLModel.

- ``session_stats``: one row per session folder, owned by refresh (recomputed
  from disk at will).  JSON-valued stats are TEXT holding JSON; times are naive
  local ISO text, as the generator writes them (and because sqlmodel refuses
  naive ``datetime`` values).
- ``session_metadata``: the user's data, with the generator web UI's column
  names (spec §13), keyed like upstream by ``session_id`` (the folder name) so
  an import matches exactly.  Refresh never writes a value here; a rename only
  re-keys the row.
- ``session_tags``: one row per (session, tag), so tag filters use an index
  instead of parsing JSON.
- ``search_docs``: one search document per session (name, prompts,
  placeholders, tags, note), and ``session_search``, an FTS5 trigram index
  over it (external content) for substring search
  at 100 000 sessions.  Terms shorter than a trigram are matched with LIKE on
  ``search_docs`` itself: a plain table scans twice as fast as the FTS table.

No index on ``is_unavailable`` alone: without table statistics SQLite would
pick it (it matches every row) and walk the wide rows; the list index leads
with it instead.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .columns import LIST_INDEX_COLUMNS


class SessionStatsRow(SQLModel, table=True):
    __tablename__ = "session_stats"
    __table_args__ = (
        UniqueConstraint("session_path", name="uq_session_stats_path"),
        # The four indexes of the upstream table:
        Index("idx_session_stats_model", "sd_model"),
        Index("idx_session_stats_seed_sweep", "is_seed_sweep"),
        Index("idx_session_stats_completion", "completion_percentage"),
        Index("idx_session_stats_created_at", "session_created_at"),
        # The list's index: every column the list filters or sorts on, after the
        # availability flag every list query tests.  The list's id query is then
        # answered from this index alone, never touching the wide rows.
        Index("idx_session_stats_list", *LIST_INDEX_COLUMNS),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True)
    session_path: str
    root: str = Field(index=True)
    display_name: str
    name_era: str
    is_dry_run: bool = Field(default=False, index=True)
    is_unavailable: bool = False
    unavailable_since: str | None = None
    fingerprint: str | None = Field(default=None, index=True)
    manifest_format: str = "none"
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
    width: int | None = Field(default=None, index=True)
    height: int | None = None
    steps: int | None = Field(default=None, index=True)
    cfg_scale: float | None = Field(default=None, index=True)
    sampler_name: str | None = Field(default=None, index=True)
    scheduler: str | None = None
    api_params: str = "{}"
    theme_name: str | None = None
    style: str | None = None
    images_expected: int | None = Field(default=None, index=True)
    images_actual: int = Field(default=0, index=True)
    image_files_raw: int = 0
    dry_run_payloads: int = 0
    completion_percentage: float | None = None
    has_extra_images: bool = False
    status: str = Field(default="unknown", index=True)
    manifest_status: str | None = None
    is_seed_sweep: bool = False
    seed_list: str = "[]"
    seed_min: int | None = None
    seed_max: int | None = None
    placeholders: str = "{}"
    variations_summary: str = ""
    total_combinations: int | None = None
    image_files: str = "[]"
    session_created_at: str | None = None
    manifest_generated_at: str | None = None
    first_image_created_at: str | None = None
    last_image_created_at: str | None = None
    duration_seconds: float | None = Field(default=None, index=True)
    stats_computed_at: str
    stats_version: int
    stats_error: str | None = None
    warnings: str = "[]"


class SessionMetadataRow(SQLModel, table=True):
    __tablename__ = "session_metadata"
    __table_args__ = (CheckConstraint("user_rating IN ('like', 'dislike')", name="ck_rating"),)

    session_id: str = Field(primary_key=True)
    session_path: str = ""
    is_test: bool = Field(default=False, index=True)
    is_complete: bool = Field(default=False, index=True)
    is_favorite: bool = Field(default=False, index=True)
    user_rating: str | None = Field(default=None, index=True)
    user_note: str | None = None
    tags: str = "[]"
    auto_metadata: str | None = None
    created_at: str
    updated_at: str = Field(index=True)
    version: int = 1
    """Bumped by every write: an edit made against an older version is refused, not lost silently."""


class SessionTagRow(SQLModel, table=True):
    __tablename__ = "session_tags"
    __table_args__ = (Index("idx_session_tags_tag", "tag"),)

    session_id: str = Field(sa_column=Column(
        Text, ForeignKey("session_metadata.session_id", ondelete="CASCADE", onupdate="CASCADE"), primary_key=True))
    tag: str = Field(sa_column=Column(Text, primary_key=True))


#: ``search_docs.id`` is ``session_stats.id``; ``session_search`` indexes its
#: ``doc`` (FTS5 reads the text back from ``search_docs``, so it is stored once).
#: Only ``Store._index_search`` writes them, keeping the two in step itself:
#: triggers doing the same made a refresh's writes 3× slower.
SEARCH_DDL = (
    "CREATE TABLE search_docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE session_search USING fts5(doc, tokenize='trigram', content='search_docs', "
    "content_rowid='id')",
)

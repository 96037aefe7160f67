"""The SQLite tables, declared once with SQLModel.

- ``session_stats``: one row per session folder, owned by refresh (recomputed
  from disk at will).  Rows are never deleted: a session whose folder is gone
  stays, unavailable, and one whose path another session took is a tombstone
  (``is_unavailable`` = :data:`.columns.TOMBSTONE`, at ``store.tombstone_path``),
  listed nowhere, until its folder turns up elsewhere.  JSON-valued stats are
  TEXT holding JSON; times are naive local ISO text, as the generator writes
  them (and because sqlmodel refuses naive ``datetime`` values).
- ``session_metadata``: the user's data, with the generator web UI's column
  names (spec §13), one row per session: keyed by ``session_key``, the
  ``session_stats.id`` of that session.  Two folders of the same name (a backup
  copy, two GPU boxes' results gathered in one place) are two sessions with
  their own tags and flags, and a renamed or moved folder keeps its id when it
  is relinked, so its metadata follows it and nobody else's.  ``session_id``
  (the folder name, the web UI's key) and ``session_path`` are kept as
  information, updated by a relink.  Refresh never writes a value here.
- ``pending_metadata``: metadata waiting for its session, keyed by folder name:
  a web UI row (or a schema-2 row) whose folder has not been seen.  The first
  time refresh or the watcher stores a session of that name, the row is merged
  into it (:func:`.metadata_merge.merge_changes`) and removed.
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

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
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


class MetadataValues(SQLModel):
    """The user's values, shared by a session's metadata and metadata waiting for its session."""

    session_path: str = ""
    is_test: bool = False
    is_complete: bool = False
    is_favorite: bool = False
    user_rating: str | None = None
    user_note: str | None = None
    tags: str = "[]"
    auto_metadata: str | None = None
    created_at: str
    updated_at: str
    version: int = 1
    """Bumped by every write: an edit made against an older version is refused, not lost silently."""


class SessionMetadataRow(MetadataValues, table=True):
    __tablename__ = "session_metadata"
    __table_args__ = (
        CheckConstraint("user_rating IN ('like', 'dislike')", name="ck_rating"),
        # The list's metadata filters: each index holds the key (the rowid), so a filter is
        # answered from the index alone.
        *(Index(f"ix_session_metadata_{name}", name)
          for name in ("is_test", "is_complete", "is_favorite", "user_rating", "updated_at")),
    )

    session_key: int = Field(sa_column=Column(Integer, ForeignKey("session_stats.id"), primary_key=True))
    """The session's ``session_stats.id`` (stats rows are never deleted: the key stays valid)."""
    session_id: str
    """The folder name, as information (the web UI's key); a relink updates it."""


class PendingMetadataRow(MetadataValues, table=True):
    __tablename__ = "pending_metadata"
    __table_args__ = (CheckConstraint("user_rating IN ('like', 'dislike')", name="ck_pending_rating"),)

    session_id: str = Field(primary_key=True)
    """The folder name the metadata waits for."""


class SessionTagRow(SQLModel, table=True):
    __tablename__ = "session_tags"
    # (tag, session_key): a tag filter reads the keys from the index alone.
    __table_args__ = (Index("idx_session_tags_tag", "tag", "session_key"),)

    session_key: int = Field(sa_column=Column(
        Integer, ForeignKey("session_metadata.session_key", ondelete="CASCADE"), primary_key=True))
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

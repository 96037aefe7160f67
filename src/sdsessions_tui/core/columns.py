"""Facts about the stored columns that the plain-SQL reader and the SQLModel schema both need.

Kept apart from :mod:`.schema` so that reading never imports SQLModel.
"""

#: Columns of ``session_stats`` that hold JSON text.
JSON_STATS_COLUMNS = frozenset({"api_params", "seed_list", "placeholders", "image_files", "warnings"})

#: The list's covering index: the availability flag every list query tests, then
#: every column the list filters or sorts on.
LIST_INDEX_COLUMNS = (
    "is_unavailable", "session_created_at", "id", "session_id", "sd_model", "sampler_name", "status", "steps",
    "cfg_scale", "width", "height", "images_actual", "images_expected", "completion_percentage", "is_seed_sweep",
    "is_dry_run", "duration_seconds",
)

#: ``session_metadata`` columns, in table order: the user's values (shared with ``pending_metadata``),
#: then the session's key (its ``session_stats.id``) and folder name.
METADATA_COLUMNS = ("session_path", "is_test", "is_complete", "is_favorite", "user_rating", "user_note", "tags",
                    "auto_metadata", "created_at", "updated_at", "version", "session_key", "session_id")
#: The identity columns: ``session_stats`` has the folder name and path, and its ``id`` is the key.
METADATA_IDENTITY = ("session_key", "session_id", "session_path")
#: The user's values (what an export adds to the stats columns).
METADATA_VALUE_COLUMNS = tuple(name for name in METADATA_COLUMNS if name not in METADATA_IDENTITY)

#: ``session_stats.is_unavailable`` of a row that gave up its folder path to another session (a
#: "tombstone"): 0 is a session whose folder is there, 1 one whose folder is gone (listed on request),
#: 2 one whose folder is gone and whose path now holds another session (never listed; it keeps its
#: metadata, and takes a path again when its folder turns up elsewhere, see :mod:`.refresh`).
TOMBSTONE = 2

#: Columns stored as 0/1 that read back as ``bool`` (SQLite has no boolean type).
BOOLEAN_COLUMNS = frozenset({"is_dry_run", "is_unavailable", "has_extra_images", "is_seed_sweep", "is_test",
                             "is_complete", "is_favorite"})

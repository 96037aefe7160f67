"""What the store's tests share: sessions written and stored (or only stored), refreshes without retry
waits, and listings by name or path."""

from sdsessions_tui.core import refresh as refresh_module
from sdsessions_tui.core.filters import SessionFilter, SessionSort
from sdsessions_tui.core.session_stats import SessionStats
from sdsessions_tui.core.stats import read_session
from sdsessions_tui.core.store import stats_to_row
from tests.conftest import write_session


def names(store, ids):
    rows = store.fetch_rows(ids)
    return [rows[i].session_id for i in ids]


def add_sessions(store, root, *sessions):
    """Write sessions (name, manifest) under root and store their stats; returns {name: id}."""
    rows = []
    for name, manifest in sessions:
        images = [i["filename"] for i in manifest.get("images", []) if isinstance(i, dict)]
        folder = write_session(root, name, manifest=manifest, images=images)
        rows.append(stats_to_row(read_session(folder, retry_delays=()), str(root)))
    store.upsert_stats(rows)
    ids = store.list_ids(SessionFilter(unavailable=None))
    return {store.fetch_rows([i])[i].session_id: i for i in ids}


def stub_sessions(store, *names, root="/stub"):
    """Stats rows for these folder names under ``root``, without folders on disk; returns {name: key}."""
    rows = [stats_to_row(SessionStats(session_id=name, session_path=f"{root}/{name}", display_name=name,
                                      name_era="none"), root) for name in names]
    store.upsert_stats(rows)
    known = store.known_paths([row["session_path"] for row in rows])
    return {row["session_id"]: known[row["session_path"]].session_key for row in rows}


def refresh(store, roots, **kwargs):
    """A refresh that does not wait to retry a manifest being written."""
    return refresh_module.refresh(store, roots, retry_delays=(), **kwargs)


def by_path(store):
    """Every stored session's list row (the unavailable ones too), by folder path."""
    rows = store.fetch_rows(store.list_ids(SessionFilter(unavailable=None)))
    return {row.session_path: row for row in rows.values()}


def filtered(store, **kwargs):
    sort = kwargs.pop("sort", SessionSort("name", descending=False))
    return names(store, store.list_ids(SessionFilter(**kwargs), sort))

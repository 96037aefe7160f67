"""The stored columns: declared once (the stats record, :mod:`.columns`), and the SQLModel schema, the
plain-SQL reader's column lists and the row records checked against that declaration by name and type."""

from typing import get_origin, get_type_hints

from sdsessions_tui.core import columns, schema, sql_filters
from sdsessions_tui.core.columns import NULLABLE_STATS_COLUMNS, STATS_FIELD_TYPES, STORE_COLUMN_TYPES, stored_type
from sdsessions_tui.core.fsnames import NAME_COLUMNS
from sdsessions_tui.core.store import KnownSession, SessionMetadata, SessionRow

STATS_TABLE = schema.SessionStatsRow.__table__
METADATA_TABLE = schema.SessionMetadataRow.__table__


def _table_types() -> dict[str, object]:
    """``session_stats`` columns and the types the SQLModel schema declares them with (the key as ``int``)."""
    types = {name: info.annotation for name, info in schema.SessionStatsRow.model_fields.items()}
    return {**types, "id": int}


def test_the_stats_table_is_the_record_by_name_and_type():
    """A field added to the record or the table alone, or declared with another type, fails here."""
    declared = {name: stored_type(hint) for name, hint in {**STATS_FIELD_TYPES, **STORE_COLUMN_TYPES}.items()}
    assert {**declared, "id": int} == _table_types()
    assert {column.name for column in STATS_TABLE.columns if column.nullable} == NULLABLE_STATS_COLUMNS


def test_stored_types():
    assert stored_type(list[int]) is str and stored_type(dict[str, object]) is str
    assert stored_type(columns.datetime | None) == str | None
    assert stored_type(float | None) == float | None and stored_type(bool) is bool


def test_the_column_sets_follow_the_types():
    assert columns.JSON_STATS_COLUMNS == {"api_params", "seed_list", "placeholders", "image_files", "warnings"}
    assert columns.JSON_STATS_TYPES["placeholders"] is dict and columns.JSON_STATS_TYPES["seed_list"] is list
    assert columns.TIME_STATS_COLUMNS == {name for name in STATS_FIELD_TYPES if name.endswith("_at")}
    booleans = {column.name for table in (STATS_TABLE, METADATA_TABLE) for column in table.columns
                if column.type.python_type is bool}
    assert columns.BOOLEAN_COLUMNS == booleans
    containers = {name for name, hint in get_type_hints(SessionMetadata).items() if get_origin(hint) in (tuple, dict)}
    assert columns.METADATA_JSON_COLUMNS == containers


def test_plain_sql_column_lists_match_the_schema(store):
    """The reader names columns without importing the SQLModel schema; the two must agree."""
    assert store.stats_columns() == [column.name for column in STATS_TABLE.columns]
    assert {*columns.STATS_COLUMNS, "id"} == {column.name for column in STATS_TABLE.columns}
    assert columns.METADATA_COLUMNS == tuple(column.name for column in METADATA_TABLE.columns)
    assert set(columns.LIST_INDEX_COLUMNS) <= set(_table_types())
    assert all(_table_types()[name] in (str, str | None) for name in NAME_COLUMNS)


def test_the_sort_columns_exist():
    tables = {"s": set(_table_types()), "m": set(columns.METADATA_COLUMNS)}
    for column in sql_filters._SORT_COLUMNS.values():
        table, name = column.split(".")
        assert name in tables[table], column


def test_the_row_records_read_columns_of_their_type():
    """The list rows and refresh's known sessions are read by field name (the key as ``session_key``), as the
    columns hold them."""
    table = _table_types()
    for record in (SessionRow, KnownSession):
        for name, hint in get_type_hints(record).items():
            if name != "metadata":
                assert hint == table["id" if name == "session_key" else name], f"{record.__name__}.{name}"

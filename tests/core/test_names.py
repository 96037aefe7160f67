from datetime import datetime

import pytest

from sdsessions_tui.core.names import parse_folder_name


@pytest.mark.parametrize(
    ("folder", "created", "name", "era", "display"),
    [
        ("2025-10-01_215220_regenerate_facial_expressions", datetime(2025, 10, 1, 21, 52, 20),
         "regenerate_facial_expressions", "old", "regenerate_facial_expressions"),
        ("2025-09-29_101010", datetime(2025, 9, 29, 10, 10, 10), "", "old", "2025-09-29_101010"),
        ("2025-10-14_173320_hassaku_actualportrait.prompt", datetime(2025, 10, 14, 17, 33, 20),
         "hassaku_actualportrait.prompt", "old", "hassaku_actualportrait"),
        ("2025-10-29_155046_Hassaku_Portrait", datetime(2025, 10, 29, 15, 50, 46), "Hassaku_Portrait", "old",
         "Hassaku_Portrait"),
        ("20251029_143022-teasing-cyberpunk-cartoon", datetime(2025, 10, 29, 14, 30, 22),
         "teasing-cyberpunk-cartoon", "new", "teasing cyberpunk cartoon"),
        ("20251117_111757-donmain_test_nightclub", datetime(2025, 11, 17, 11, 17, 57), "donmain_test_nightclub",
         "new", "donmain_test_nightclub"),
        ("20251117_111757_docs_name", datetime(2025, 11, 17, 11, 17, 57), "docs_name", "docs", "docs_name"),
        ("20251117_111757-name with spaces.and.dots", datetime(2025, 11, 17, 11, 17, 57),
         "name with spaces.and.dots", "new", "name with spaces.and.dots"),
    ],
)
def test_every_naming_era(folder, created, name, era, display):
    parsed = parse_folder_name(folder)
    assert (parsed.created_at, parsed.name, parsed.era, parsed.display_name) == (created, name, era, display)


@pytest.mark.parametrize("folder", ["my random folder", "2025-13-45_999999_bad_date", "20251117-111757", "", "\ufeff"])
def test_unmatched_names_are_kept_with_unknown_date(folder):
    parsed = parse_folder_name(folder)
    assert parsed.created_at is None
    assert parsed.era == "unknown"
    assert parsed.display_name == folder


@pytest.mark.parametrize(("folder", "untitled"), [
    ("2025-09-29_101010", True), ("20251117_111757", True), ("20251117_111757-.prompt", True),
    ("20251117_111757- - ", True), ("20251117_111757-night_city", False), ("2025-09-29_101010_variations", False),
    ("my random folder", False), ("20251117-111757", False),
])
def test_a_folder_named_by_its_timestamp_alone_is_untitled(folder, untitled):
    parsed = parse_folder_name(folder)
    assert parsed.untitled is untitled
    if untitled:
        assert parsed.display_name == folder  # (what the details and the stored rows keep showing)

"""Thumbnail cache: formats by content, bad files give None, never a write in a session folder."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from sdsessions_tui.core import thumbnails
from sdsessions_tui.core.thumbnails import default_cache_dir, get_thumbnail, prune_cache, thumbnail_path


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (600, 400), mode: str = "RGB") -> bytes:
    picture = Image.new(mode, size, (30, 120, 200) if mode == "RGB" else None)
    if mode == "RGB":
        for x in range(0, size[0], 7):  # some detail, so the encoders do real work
            picture.putpixel((x, x * size[1] // size[0]), (250, 250, 0))
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def session(tmp_path: Path) -> Path:
    folder = tmp_path / "root" / "20251114_093010-session"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "thumbnails"


def files_in(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def check_thumbnail(path: Path | None, expected: tuple[int, int]) -> None:
    assert path is not None and path.is_file()
    with Image.open(path) as picture:
        picture.load()
        assert picture.size == expected
        assert picture.mode in ("RGB", "RGBA")


def test_png_gets_a_thumbnail_of_at_most_256_pixels(session: Path, cache: Path) -> None:
    image = session / "001.png"
    image.write_bytes(image_bytes("PNG"))
    before = files_in(session)
    thumb = get_thumbnail(image, cache)
    check_thumbnail(thumb, (256, 171))
    assert thumb.parent == cache
    assert files_in(session) == before  # nothing written next to the image
    assert not str(thumb).startswith(str(session))


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_content_decides_the_format_not_the_png_suffix(session: Path, cache: Path, fmt: str) -> None:
    image = session / "002.png"
    image.write_bytes(image_bytes(fmt, (400, 600)))
    check_thumbnail(get_thumbnail(image, cache), (171, 256))
    assert files_in(session) == {"002.png"}


def test_small_image_is_not_enlarged_and_size_is_honoured(session: Path, cache: Path) -> None:
    image = session / "003.png"
    image.write_bytes(image_bytes("PNG", (40, 20)))
    check_thumbnail(get_thumbnail(image, cache), (40, 20))
    big = session / "004.png"
    big.write_bytes(image_bytes("PNG", (300, 300)))
    check_thumbnail(get_thumbnail(big, cache, size=64), (64, 64))


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "LA", "I;16", "CMYK"])
def test_other_modes_are_converted(session: Path, cache: Path, mode: str) -> None:
    image = session / "005.png"
    picture = Image.new(mode, (30, 30))
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    picture.save(image, fmt)
    thumb = get_thumbnail(image, cache)
    check_thumbnail(thumb, (30, 30))
    with Image.open(thumb) as result:
        assert result.mode == ("RGBA" if mode in ("RGBA", "LA") else "RGB")


@pytest.mark.parametrize("content", [
    pytest.param(lambda: image_bytes("PNG")[:300], id="truncated-png"),
    pytest.param(lambda: image_bytes("JPEG")[:200], id="truncated-jpeg"),
    pytest.param(lambda: b"", id="empty"),
    pytest.param(lambda: b"not an image at all" * 10, id="garbage"),
    pytest.param(lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="png-magic-only"),
])
def test_unreadable_images_give_none_and_leave_nothing(session: Path, cache: Path, content) -> None:
    image = session / "006.png"
    image.write_bytes(content())
    assert get_thumbnail(image, cache) is None
    assert files_in(cache) == set()
    assert files_in(session) == {"006.png"}


def test_missing_image_gives_none(session: Path, cache: Path) -> None:
    assert get_thumbnail(session / "missing.png", cache) is None
    assert get_thumbnail(session / "no-folder" / "x.png", cache) is None
    with pytest.raises(OSError):
        thumbnail_path(session / "missing.png", cache)


def test_directory_given_as_image_gives_none(session: Path, cache: Path) -> None:
    (session / "dir.png").mkdir()
    assert get_thumbnail(session / "dir.png", cache) is None


def test_cached_thumbnail_is_reused(session: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = session / "007.png"
    image.write_bytes(image_bytes("PNG"))
    first = get_thumbnail(image, cache)

    def fail(*_args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(thumbnails, "_make_thumbnail", fail)
    assert get_thumbnail(image, cache) == first
    assert get_thumbnail(Path(os.path.relpath(image)), cache) == first  # key is the absolute path


def test_rewritten_image_gets_a_new_thumbnail(session: Path, cache: Path) -> None:
    image = session / "008.png"
    image.write_bytes(image_bytes("PNG", (600, 400)))
    os.utime(image, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    first = get_thumbnail(image, cache)
    check_thumbnail(first, (256, 171))
    image.write_bytes(image_bytes("PNG", (400, 600)))
    os.utime(image, ns=(1_700_000_000_000_000_001, 1_700_000_000_000_000_001))  # 1 ns later
    second = get_thumbnail(image, cache)
    assert second != first
    check_thumbnail(second, (171, 256))
    assert files_in(cache) == {first.name, second.name}


def test_same_mtime_but_other_size_is_another_key(session: Path, cache: Path) -> None:
    image = session / "009.png"
    image.write_bytes(image_bytes("PNG"))
    os.utime(image, (1_700_000_000, 1_700_000_000))
    first = thumbnail_path(image, cache)
    image.write_bytes(image_bytes("PNG") + b"trailing")
    os.utime(image, (1_700_000_000, 1_700_000_000))
    assert thumbnail_path(image, cache) != first
    assert thumbnail_path(image, cache, size=128) != thumbnail_path(image, cache)


def test_cache_inside_the_image_folder_is_refused(session: Path) -> None:
    image = session / "010.png"
    image.write_bytes(image_bytes("PNG"))
    for bad in (session, session / ".thumbs"):
        with pytest.raises(ValueError):
            get_thumbnail(image, bad)
    assert files_in(session) == {"010.png"}
    # a sibling folder whose name merely starts like the session folder is fine
    assert get_thumbnail(image, session.parent / (session.name + "-thumbs")) is not None


def test_failed_write_leaves_no_temp_file(session: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = session / "011.png"
    image.write_bytes(image_bytes("PNG"))

    def broken_save(self, *_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    assert get_thumbnail(image, cache) is None
    assert files_in(cache) == set()


def test_concurrent_requests_agree(session: Path, cache: Path) -> None:
    image = session / "012.png"
    image.write_bytes(image_bytes("JPEG", (1200, 800)))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: get_thumbnail(image, cache), range(16)))
    assert len(set(results)) == 1
    check_thumbnail(results[0], (256, 171))
    assert files_in(cache) == {results[0].name}  # no temp file left behind


def test_default_cache_dir_is_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = default_cache_dir()
    assert path.name == "thumbnails"
    assert "sdsessions" in path.parts


def test_prune_removes_oldest_beyond_the_cap(cache: Path) -> None:
    cache.mkdir(parents=True)
    for index in range(6):
        path = cache / f"{index}.webp"
        path.write_bytes(b"x" * 100)
        os.utime(path, (1_700_000_000 + index, 1_700_000_000 + index))
    stale = cache / ".tmp-old.webp"
    stale.write_bytes(b"x")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    fresh = cache / ".tmp-writing.webp"
    fresh.write_bytes(b"x")
    assert prune_cache(cache, 350) == 4
    assert files_in(cache) == {"5.webp", "4.webp", "3.webp", ".tmp-writing.webp"}
    assert prune_cache(cache, 10_000) == 0
    assert prune_cache(cache / "missing", 0) == 0


def test_cache_hit_counts_as_recent_use(session: Path, cache: Path) -> None:
    image = session / "013.png"
    image.write_bytes(image_bytes("PNG"))
    thumb = get_thumbnail(image, cache)
    os.utime(thumb, (1_000_000_000, 1_000_000_000))
    get_thumbnail(image, cache)
    assert thumb.stat().st_mtime > 1_000_000_000


def test_an_image_linking_outside_the_root_is_never_opened(session: Path, cache: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 #14: an image linking to /etc/shadow was opened for a thumbnail."""
    outside = tmp_path / "outside.png"
    outside.write_bytes(image_bytes())
    inside = session / "inside_0000.png"
    inside.write_bytes(image_bytes())
    (session / "escape_0001.png").symlink_to(outside)
    (session / "alias_0002.png").symlink_to(inside.name)
    opened: list[str] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    root = session.parent
    assert get_thumbnail(session / "escape_0001.png", cache, root=root) is None
    assert opened == [] and not files_in(cache)
    assert get_thumbnail(session / "alias_0002.png", cache, root=root) is not None


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels with almost no data: a decompression bomb's shape."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("content", "words"), [
    pytest.param(lambda: b"", "empty file", id="zero-bytes"),
    pytest.param(lambda: b"not an image at all" * 10, "unknown format", id="garbage"),
    pytest.param(lambda: image_bytes("PNG")[:300], "truncated or corrupt", id="truncated-png"),
    pytest.param(lambda: png_header(20_000, 20_000), "decompression-bomb", id="bomb-20000x20000"),
    pytest.param(lambda: png_header(10_000, 10_000), "10000 × 10000", id="bomb-between-warning-and-error",
                 marks=pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")),
])
def test_each_bad_image_says_why(session: Path, cache: Path, content, words: str) -> None:
    image = session / "bad_0000.png"
    image.write_bytes(content())
    result = thumbnails.make_thumbnail(image, cache)
    assert result.path is None and result.reason is not None and words in result.reason
    assert files_in(cache) == set()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_decompression_bomb_limit_is_pillows(session: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is Image.MAX_IMAGE_PIXELS: a user who lowers it gets it honoured (and said)."""
    image = session / "big_0000.png"
    image.write_bytes(image_bytes("PNG", (600, 400)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    result = thumbnails.make_thumbnail(image, cache)
    assert result.path is None and "(240,000 pixels; the limit is 1,000 pixels" in (result.reason or "")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 150_000)  # between the limit and twice it: Pillow only warns
    assert "600 × 400 pixels; the limit is 150,000" in (thumbnails.make_thumbnail(image, cache).reason or "")


@pytest.mark.parametrize(("mode", "fmt"), [("CMYK", "JPEG"), ("I;16", "PNG"), ("P", "PNG"), ("RGBA", "PNG")])
def test_unusual_modes_give_a_thumbnail(session: Path, cache: Path, mode: str, fmt: str) -> None:
    image = session / "mode_0000.png"
    Image.new(mode, (300, 200)).save(image, fmt)
    result = thumbnails.make_thumbnail(image, cache)
    assert result.reason is None
    check_thumbnail(result.path, (256, 171))


def test_missing_and_deleted_while_read(session: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "not found" in (thumbnails.make_thumbnail(session / "gone.png", cache).reason or "")
    image = session / "vanishing_0000.png"
    image.write_bytes(image_bytes())
    real_open = Image.open

    def delete_then_open(path, *args, **kwargs):
        os.unlink(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Image, "open", delete_then_open)
    assert "not found" in (thumbnails.make_thumbnail(image, cache).reason or "")
    assert files_in(cache) == set()


def test_rewritten_while_read_is_not_cached_under_the_old_key(session: Path, cache: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    image = session / "growing_0000.png"
    image.write_bytes(image_bytes())
    real_make = thumbnails._make_thumbnail

    def make_then_rewrite(path, size):
        picture = real_make(path, size)
        with open(path, "ab") as stream:
            stream.write(b"more")
        return picture

    monkeypatch.setattr(thumbnails, "_make_thumbnail", make_then_rewrite)
    assert "changed while being read" in (thumbnails.make_thumbnail(image, cache).reason or "")
    assert files_in(cache) == set()


def test_a_path_climbing_out_of_the_root_is_not_read(session: Path, cache: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(image_bytes())
    climbing = session / ".." / ".." / "outside.png"
    result = thumbnails.make_thumbnail(climbing, cache, root=session.parent)
    assert result.path is None and "outside the sessions folder" in (result.reason or "")
    assert files_in(cache) == set()


def test_cached_thumbnail_only_looks(session: Path, cache: Path) -> None:
    image = session / "lookup_0000.png"
    image.write_bytes(image_bytes())
    assert thumbnails.cached_thumbnail(image, cache) is None
    assert thumbnails.cached_thumbnail(session / "missing.png", cache) is None
    made = get_thumbnail(image, cache)
    assert thumbnails.cached_thumbnail(image, cache) == made

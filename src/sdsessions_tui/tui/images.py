"""How thumbnails are drawn: the image protocol, chosen once, and textual-image imported safely.

``textual-image`` queries the terminal when ``textual_image.renderable`` is first
imported (Sixel and Kitty-graphics support, cell size in pixels).  The query
puts *stdin* in cbreak mode: when stdout is a terminal but stdin is not (a
pipe, ``< /dev/null``, some test runners) the import dies with
``termios.error``; and once Textual runs, its input thread would swallow the
answers.  So nothing imports ``textual_image`` by itself: the app calls
:func:`configure_images` once, before ``App.run``, with the protocol the user
chose.  Until then (and with ``"none"``) no image is shown.

Keeping the query under control needs some of textual-image's private names
(:data:`PRIVATE_NAMES`): they live in this module only, the version is pinned
with an upper bound in ``pyproject.toml``, and a test fails, naming the name,
when a release drops one.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, Iterator, overload

if TYPE_CHECKING:  # (never imported at run time: the import would query the terminal)
    from textual_image.widget._base import Image as ImageWidget  # the base of every protocol's widget

log = logging.getLogger(__name__)

IMAGE_PROTOCOLS: Final = ("auto", "halfcell", "unicode", "sixel", "tgp", "none")
#: textual-image's private names this module relies on: (module, attribute).  Checked by a test,
#: so an upgrade that renames one fails there, by name, not as a terminal query at launch.
PRIVATE_NAMES: Final = (
    ("textual_image._terminal", "get_cell_size"),
    ("textual_image._terminal", "CellSize"),
    ("textual_image._terminal", "capture_terminal_response"),
    ("textual_image._terminal", "TerminalError"),
    ("textual_image._terminal", "get_tiocgwinsz"),
    ("textual_image.widget", "Image"),
    ("textual_image.widget._base", "Image"),
    ("textual_image.widget.Image", "_Renderable"),
)

_image_widget_class: type[ImageWidget] | None = None
_image_protocol: str = "none"


def configure_images(protocol: str = "auto") -> str:
    """Choose how thumbnails are drawn; call once before ``App.run``.  Returns the protocol in use.

    Only ``"auto"`` imports ``textual_image`` here (its import is the terminal query).  The
    other protocols ask the terminal nothing, so the import (~70 ms, with Pillow) waits for
    the first thumbnail (:func:`image_widget_class`), which comes after the app's first frame.

    ``protocol`` is one of :data:`IMAGE_PROTOCOLS`:

    - ``"auto"``: ask the terminal (Sixel, then Kitty graphics, else half cells).  The
      terminal is only queried when both stdin and stdout are terminals; otherwise
      the choice is ``"halfcell"`` (stdout a terminal) or ``"unicode"``, without a query.
    - ``"halfcell"``, ``"unicode"``: coloured text cells; deterministic, never query the terminal.
    - ``"sixel"``, ``"tgp"``: forced, without a support query (the cell size in pixels
      still comes from the terminal's window-size ioctl when there is one).
    - ``"none"``: no image; ``textual_image`` is not imported.

    The terminal is queried at most once per process (at the first ``"auto"`` call,
    if textual-image was not imported before), so call this before Textual starts reading stdin.  Later calls may switch
    between protocols; ``"auto"`` then keeps the first answer.  Widgets already
    mounted keep the protocol they were composed with.  Raises :class:`ValueError`
    for an unknown protocol.
    """
    global _image_widget_class, _image_protocol
    if protocol not in IMAGE_PROTOCOLS:
        raise ValueError(f"unknown image protocol {protocol!r}; expected one of {', '.join(IMAGE_PROTOCOLS)}")
    _image_widget_class, _image_protocol = None, protocol
    if protocol != "auto":
        return protocol
    _import_textual_image(probe=_terminal_can_answer())
    from textual_image import widget as image_widgets

    classes = _widget_classes()
    chosen = image_widgets.Image
    _image_protocol = next((name for name, cls in classes.items() if chosen is cls
                            or chosen._Renderable is getattr(cls, "_Renderable", None)), "halfcell")
    return _image_protocol


def image_protocol() -> str:
    """The protocol set by :func:`configure_images` (``"none"`` until it is called)."""
    return _image_protocol


def image_widget_class() -> type[ImageWidget] | None:
    """The textual-image widget of the configured protocol (imported at the first call); None for ``"none"``."""
    global _image_widget_class
    if _image_widget_class is None and _image_protocol != "none":
        _image_widget_class = _widget_classes()[_image_protocol]
    return _image_widget_class


def _widget_classes() -> dict[str, type[ImageWidget]]:
    _import_textual_image(probe=False)  # a no-op once imported (by "auto", with its query)
    from textual_image import widget as image_widgets

    return {"halfcell": image_widgets.HalfcellImage, "unicode": image_widgets.UnicodeImage,
            "sixel": image_widgets.SixelImage, "tgp": image_widgets.TGPImage}


def _terminal_can_answer() -> bool:
    try:
        return bool(sys.__stdin__ and sys.__stdout__ and sys.__stdin__.isatty() and sys.__stdout__.isatty())
    except (OSError, ValueError):  # closed streams
        return False


def _import_textual_image(*, probe: bool) -> None:
    """Import ``textual_image.widget``, letting it query the terminal only when ``probe``."""
    if "textual_image.widget" in sys.modules:
        return
    from textual_image import _terminal  # no query at import; holds the cell-size cache

    library_log = logging.getLogger("textual_image")
    level = library_log.level
    library_log.setLevel(logging.ERROR)  # its "assuming VT340 sizes" warning would land on the terminal
    try:
        if probe:
            cell = _cell_size_without_query(_terminal, fallback=None)
            if cell is not None:  # the ioctl knows: no need for the escape-sequence query
                # textual-image's own cache is an attribute of its (typed) function: set with setattr, as it does
                setattr(_terminal.get_cell_size, "_result", _terminal.CellSize(*cell))  # noqa: B010  # see above
            try:
                import textual_image.widget  # noqa: F401  (queries the terminal)
                return
            except Exception as error:  # termios.error, ZeroDivisionError on a 0-column pty…
                log.debug("textual-image terminal query failed, using no query: %s", error)
                for name in [name for name in sys.modules
                             if name.startswith(("textual_image.renderable", "textual_image.widget"))]:
                    del sys.modules[name]
        if not hasattr(_terminal.get_cell_size, "_result"):
            setattr(_terminal.get_cell_size, "_result",  # noqa: B010  # as above
                    _terminal.CellSize(*_cell_size_without_query(_terminal)))
        original = _terminal.capture_terminal_response

        @contextmanager
        def no_query(*_args: Any, **_kwargs: Any) -> Iterator[Any]:
            raise _terminal.TerminalError("terminal queries are disabled")
            yield  # pragma: no cover

        # The renderable modules bind capture_terminal_response at import: they keep
        # this refusing version (their support queries return False); the module's own
        # name is restored for anyone else.
        _terminal.capture_terminal_response = no_query
        try:
            import textual_image.widget  # noqa: F401
        finally:
            _terminal.capture_terminal_response = original
    finally:
        library_log.setLevel(level)


@overload
def _cell_size_without_query(terminal: Any) -> tuple[int, int]: ...
@overload
def _cell_size_without_query(terminal: Any, fallback: tuple[int, int] | None) -> tuple[int, int] | None: ...
def _cell_size_without_query(terminal: Any, fallback: tuple[int, int] | None = (10, 20)) -> tuple[int, int] | None:
    """A terminal cell's size in pixels from the window-size ioctl or the environment, else ``fallback``."""
    try:
        if sys.__stdout__ is not None and sys.__stdout__.isatty():
            rows, columns, width, height = terminal.get_tiocgwinsz()
            if rows and columns and width >= columns and height >= rows:
                return width // columns, height // rows
    except Exception:  # no ioctl on this platform/stream
        pass
    width_env, height_env = os.environ.get("TEXTUAL_CELL_WIDTH", ""), os.environ.get("TEXTUAL_CELL_HEIGHT", "")
    if width_env.isdigit() and height_env.isdigit() and int(width_env) and int(height_env):
        return int(width_env), int(height_env)
    return fallback


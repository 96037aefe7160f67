"""The thumbnail widget: a session's first image, decoded in a thread once the cursor rests.

Drawn by the textual-image widget of the protocol :mod:`.images` set up (none: the widget
hides itself), from the thumbnail cache of :mod:`..core.thumbnails`.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rich.text import Text
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from ..core.thumbnails import DEFAULT_SIZE, default_cache_dir, get_thumbnail
from .images import image_widget_class
from .messages import ThumbnailLoaded

if TYPE_CHECKING:  # (never imported at run time: the import would query the terminal)
    from textual_image.widget._base import Image as ImageWidget  # the base of every protocol's widget

log = logging.getLogger(__name__)

#: Seconds the highlighted session must stay put before its image is decoded.
THUMBNAIL_DELAY: Final = 0.15



class Thumbnail(Widget):
    """The first image of a session, decoded in a thread after a short pause.

    :meth:`request` is cheap and may be called on every cursor move: the image is
    looked up ``THUMBNAIL_DELAY`` seconds after the last request only, in a
    thread worker (group ``"thumbnail"``, exclusive).  ``state`` is ``"off"`` (no
    image protocol), ``"empty"`` (no image to show), ``"loading"``, ``"shown"`` or
    ``"missing"`` (the image could not be read).
    """

    DEFAULT_CSS = """
    Thumbnail {
        height: 12;
        width: 1fr;
    }
    Thumbnail.-off {
        display: none;
    }
    Thumbnail > #thumbnail-message {
        width: auto;
        height: 1;
        color: $text-muted;
    }
    Thumbnail > #thumbnail-image {
        width: auto;
        height: 100%;
        display: none;
    }
    """

    def __init__(self, cache_dir: Path | None = None, *, size: int = DEFAULT_SIZE, delay: float = THUMBNAIL_DELAY,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.thumbnail_size = size
        self.delay = delay
        self.state = "empty"
        self.source: Path | None = None
        """The image asked for last."""
        self._root: Path | None = None
        self.cached_path: Path | None = None
        """The cached thumbnail shown now, or None."""
        self._image_class = image_widget_class()
        if self._image_class is None:
            self.state = "off"
            self.add_class("-off")
        self._token = 0
        self._timer: Timer | None = None
        self._message_text = "no image"
        self._message = Static(Text(self._message_text, style="dim"), id="thumbnail-message")
        self._image: ImageWidget | None = None

    def compose(self) -> ComposeResult:
        yield self._message
        if self._image_class is not None:
            self._image = self._image_class(id="thumbnail-image")
            yield self._image

    @property
    def image_widget(self) -> ImageWidget | None:
        """The textual-image widget (None with the ``"none"`` protocol)."""
        return self._image

    def request(self, image: Path | None, root: Path | None = None) -> None:
        """Show ``image`` (an original session image, found under the sessions ``root``) soon; None
        shows "no image" now.  An image linking outside ``root`` is never opened."""
        if self.state == "off":
            return
        if image is not None and image == self.source and self.state in ("loading", "shown"):
            return  # same image (e.g. the session was refreshed): nothing to redo; "missing" is retried
        self.source = image
        self._root = root
        self._token += 1
        if self._timer is not None:
            self._timer.stop()  # Timer.reset() would not restart the countdown
            self._timer = None
        if image is None:
            self._show("empty")
            return
        self._show("loading")
        self._timer = self.set_timer(self.delay, partial(self._start, self._token, image), name="thumbnail-delay")

    def _start(self, token: int, image: Path) -> None:
        self._timer = None
        if token != self._token:
            return
        self.run_worker(partial(self._load, token, image, self.cache_dir, self.thumbnail_size, self._root),
                        name="thumbnail", group="thumbnail", exclusive=True, thread=True, exit_on_error=False)

    def _load(self, token: int, image: Path, cache_dir: Path, size: int, root: Path | None = None) -> None:
        """Thread: the cached thumbnail of ``image`` (made if needed), decoded, posted to this widget."""
        path: Path | None = None
        picture: Any = None
        try:
            from PIL import Image as PILImage  # here: Pillow is not needed for the first paint

            path = get_thumbnail(image, cache_dir, size, root=root)
            if path is not None:
                with PILImage.open(path) as opened:
                    opened.load()
                    picture = opened.copy()
        except Exception as error:  # a pruned cache file, a cache dir we may not use…
            log.debug("thumbnail of %s failed: %s", image, error)
            path, picture = None, None
        self.post_message(ThumbnailLoaded(token, path, picture))

    def on_thumbnail_loaded(self, loaded: ThumbnailLoaded) -> None:
        loaded.stop()
        if loaded.token != self._token:
            return  # a newer request is pending
        if loaded.picture is None or self._image is None:
            self._show("missing")
            return
        self.cached_path = loaded.path
        self._image.image = loaded.picture
        self._show("shown")

    def _show(self, state: str) -> None:
        self.state = state
        if state != "shown":
            self.cached_path = None
            if self._image is not None and self._image.display:
                self._image.image = None
        if self._image is not None:
            self._image.display = state == "shown"
        self._message.display = state != "shown"
        message = "…" if state == "loading" else "no image"
        if message != self._message_text:
            self._message_text = message
            self._message.update(Text(message, style="dim"))


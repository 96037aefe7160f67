"""The tag and note editor: the details side's edit mode (keys ``e`` and ``n``).

It sits above the details panel, not inside it, so the panel's one-key edit
bindings (``f``, ``t``, ``+``…) never fire from the editor's fields and the
footer lists only what works there.  The editor holds no metadata: it posts
what the user asked for (:class:`MetadataEditor.TagSubmitted`,
:class:`MetadataEditor.TagRemoved`, :class:`MetadataEditor.NoteChanged`) and
the app applies it to its targets (the marked rows, else the highlighted
session) through the same pending-edit path as the flag keys, then shows the
result with :meth:`MetadataEditor.show_tags`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option
from textual.widgets.text_area import Edit, EditResult
from textual_autocomplete import AutoComplete, DropdownItem

from ..core.edits import MAX_NOTE_LENGTH, MAX_TAG_LENGTH
from ..core.store import SessionMetadata
from ..core.text import clean_text
from .commands import bindings, command
from .escape_keys import plain_key
from .messages import KnownTagsLoaded


class TagAutoComplete(AutoComplete):
    """Existing tags, most used first, with their session counts.

    The list only suggests: Enter adds exactly what was typed (``b-4`` stays ``b-4`` though
    ``bo-4`` exists) unless the user moved onto a suggestion with ↓ or ↑, and then Enter (or
    Tab) adds that one.  Typing again drops the choice; Esc closes the list, the text stays.
    """

    def __init__(self, target: Input, items: Callable[[], list[DropdownItem]]) -> None:
        super().__init__(target, candidates=lambda _state: items(), id="tag-complete")
        self.chosen = False
        """The user moved onto a suggestion (↓ or ↑) since the last change of the text."""

    def _listen_to_messages(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and event.key in ("enter", "tab") and not self.chosen:
            self.action_hide()  # the input's own Enter (add the text) or Tab (next field) goes ahead
            return
        super()._listen_to_messages(event)
        if isinstance(event, events.Key) and event.key in ("down", "up") and self.display:
            self.chosen = True
        elif isinstance(event, Input.Changed) or (isinstance(event, events.Key) and event.key == "escape"):
            self.chosen = False

    def post_completion(self) -> None:
        """Enter (or Tab) on a suggestion: the tag is added, the input is ready for the next."""
        super().post_completion()
        target = self.target
        target.post_message(Input.Submitted(target, target.value))


async def _split_escape_pair(field: Widget, event: events.Key) -> None:
    """An Esc and a key read as one Alt+key (a slow link): Esc closes the editor, then the key
    goes to where the focus is back (the list), as it would have with a pause between the two.

    (Textual runs each class's ``_on_key`` in turn: preventing the default skips the field's own.)
    """
    key = plain_key(event)
    if key is not None:
        event.stop()
        event.prevent_default()
        await field.run_action(command("editor.close").action)  # the focus moves at once
        field.app.post_message(key)  # as the driver sends keys


class TagInput(Input):
    """The tag input; Alt+key (an Esc read together with the next key) is Esc, then the key."""

    async def _on_key(self, event: events.Key) -> None:
        await _split_escape_pair(self, event)


class TagList(OptionList):
    """The targets' tags; Delete or Backspace removes the highlighted one (from every target)."""

    BINDINGS = bindings("tags")

    def action_remove_tag(self) -> None:
        if self.highlighted is not None:
            option = self.get_option_at_index(self.highlighted)
            editor = next(node for node in self.ancestors if isinstance(node, MetadataEditor))
            self.post_message(MetadataEditor.TagRemoved(editor, str(option.id)))


class NoteArea(TextArea):
    """A multi-line note that never grows past :data:`MAX_NOTE_LENGTH` characters.

    Every change (typed, pasted, undone) goes through :meth:`edit`, where an insertion is
    cut to the room left; deleting is always allowed, even in a longer note imported
    from elsewhere.  :class:`NoteArea.LimitReached` says how much did not fit.
    """

    class LimitReached(Message):
        def __init__(self, dropped: int) -> None:
            super().__init__()
            self.dropped = dropped

    async def _on_key(self, event: events.Key) -> None:
        """Alt+key (an Esc read together with the next key) is Esc, then the key: not typed here."""
        await _split_escape_pair(self, event)

    def edit(self, edit: Edit) -> EditResult:
        removed = len(self.get_text_range(edit.top, edit.bottom))
        room = max(0, MAX_NOTE_LENGTH - (len(self.text) - removed))
        if len(edit.text) > room:
            self.post_message(self.LimitReached(len(edit.text) - room))
            edit.text = edit.text[:room]
        return super().edit(edit)


class MetadataEditor(VerticalScroll, can_focus=False):
    """Add tags (with completion), remove them, and write a note; Esc closes.

    It scrolls (the focused field is kept in view) when a short terminal cannot show it all.
    """

    BINDINGS = bindings("editor")

    class TagSubmitted(Message):
        """The user asked for this tag (not normalised yet: the app checks it and says why not)."""

        def __init__(self, editor: MetadataEditor, text: str) -> None:
            super().__init__()
            self.editor, self.text = editor, text

    class TagRemoved(Message):
        def __init__(self, editor: MetadataEditor, tag: str) -> None:
            super().__init__()
            self.editor, self.tag = editor, tag

    class NoteChanged(Message):
        def __init__(self, editor: MetadataEditor, text: str) -> None:
            super().__init__()
            self.editor, self.text = editor, text

    def __init__(self) -> None:
        super().__init__()
        self.session_keys: list[int] = []
        """The sessions being edited (table ids)."""
        self.known_tags: list[tuple[str, int]] = []
        """Every tag in the database with its session count (:meth:`set_known_tags`)."""
        self._everywhere: set[str] = set()
        """Tags (casefolded) every edited session has already: not offered for completion."""
        self._completions: list[DropdownItem] = []
        """The dropdown's candidates, built when the tags change (the dropdown asks at every keystroke)."""
        self._note = ""
        """The note as last loaded or reported: a Changed event with the same text is not an edit."""
        self.seen: dict[int, SessionMetadata] = {}
        """Each edited session's stored metadata as the user saw it (when the editor opened, or
        their own save): what their edits are made against, so that another instance's change
        meanwhile shows as a conflict instead of being overwritten by the next keystroke."""

    def compose(self) -> ComposeResult:
        yield Label("", id="editor-title")
        tag_input = TagInput(placeholder="add a tag (Enter; ↓ for existing tags)", max_length=MAX_TAG_LENGTH * 2,
                          id="tag-input")
        yield tag_input
        yield TagAutoComplete(tag_input, lambda: self._completions)
        yield TagList(id="tag-list")
        yield Label("", id="editor-message")
        yield Label("", id="note-counter")
        yield NoteArea(id="note-input", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, session_keys: list[int], title: str, note: str | None, note_reason: str | None = None) -> None:
        """Edit these sessions; ``note_reason``: why their note cannot be edited here (None: it can)."""
        self.session_keys = list(session_keys)
        self.add_class("-open")
        self.query_one("#editor-title", Label).update(Text(clean_text(title), style="bold"))
        self.show_message(None)
        area = self.query_one(NoteArea)
        area.read_only = note_reason is not None
        # control characters from the data are shown escaped (``\x1b``), never sent to the terminal
        self._note = clean_text(note or "", keep_newlines=True)
        if area.text != self._note:  # (the same text again: the cursor stays where it is)
            area.load_text(self._note)  # its Changed event carries the same text: not reported
        if note_reason:
            self.show_message(note_reason)
        self._show_counter()

    def close(self) -> None:
        self.remove_class("-open")
        self.session_keys = []
        self.query_one("#tag-input", Input).value = ""

    def show_tags(self, tags: Sequence[tuple[str, int]], sessions: int) -> None:
        """The targets' tags; with several sessions, how many of them have each."""
        tag_list = self.query_one(TagList)
        highlighted = tag_list.highlighted
        options = []
        for tag, count in tags:
            label = Text(clean_text(tag))
            if sessions > 1:
                label.append(f"  {count}/{sessions}", style="dim")
            options.append(Option(label, id=tag))
        tag_list.set_options(options)
        self._everywhere = {tag.casefold() for tag, count in tags if count >= sessions}
        self._build_completions()
        if options:
            tag_list.highlighted = min(highlighted or 0, len(options) - 1)
        tag_list.set_class(not options, "-empty")

    def on_known_tags_loaded(self, loaded: KnownTagsLoaded) -> None:
        loaded.stop()
        self.set_known_tags(loaded.tags)

    def set_known_tags(self, tags: list[tuple[str, int]]) -> None:
        """The database's tags with their counts (loaded in a worker when the editor opens)."""
        self.known_tags = tags
        self._build_completions()

    def _build_completions(self) -> None:
        self._completions = [DropdownItem(main=clean_text(tag), prefix=f"{count:>5}  ")
                             for tag, count in self.known_tags if tag.casefold() not in self._everywhere]

    @property
    def typed_tag(self) -> str:
        """What is in the tag input, not added yet (closing the editor adds it: see the app's close)."""
        return self.query_one("#tag-input", Input).value

    def tag_added(self) -> None:
        """The submitted tag was taken: the input is ready for the next one."""
        self.query_one("#tag-input", Input).value = ""

    def show_message(self, text: str | None, *, error: bool = False) -> None:
        label = self.query_one("#editor-message", Label)
        label.update(Text(clean_text(text or "")))
        label.set_class(bool(text), "-visible")
        label.set_class(error, "-error")

    def focus_part(self, part: str) -> None:
        (self.query_one("#note-input") if part == "note" else self.query_one("#tag-input")).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.TagSubmitted(self, event.value))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._show_counter()
        text = event.text_area.text
        if text != self._note:
            self._note = text
            self.post_message(self.NoteChanged(self, text))

    def on_note_area_limit_reached(self, event: NoteArea.LimitReached) -> None:
        self.show_message(f"a note has at most {MAX_NOTE_LENGTH} characters: {event.dropped} not added",
                          error=True)

    def _show_counter(self) -> None:
        length = len(self.query_one(NoteArea).text)
        counter = self.query_one("#note-counter", Label)
        counter.update(f"Note  {length}/{MAX_NOTE_LENGTH}", layout=False)  # full width: no layout per key
        counter.set_class(length >= MAX_NOTE_LENGTH, "-full")

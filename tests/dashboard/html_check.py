"""Is a dashboard answer well-formed? Every element opened is closed, in order (void elements
excepted), nothing is closed that was not open, and a full page is one <!doctype html>
document. Stricter than HTML5 (which lets </p> and </li> be left out): our templates close
everything, so anything else is a broken page."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = frozenset(
    "area base br col embed hr img input link meta source track wbr".split()  # HTML5 void
)


class MalformedError(AssertionError):
    pass


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            raise MalformedError(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            raise MalformedError(f"</{tag}> closes a void element")
        if not self.stack or self.stack[-1] != tag:
            raise MalformedError(f"</{tag}> while {self.stack[-3:]} are open")
        self.stack.pop()


def check(html: str, *, fragment: bool = False) -> None:
    """Raise MalformedError unless `html` is a well-formed page (or htmx fragment)."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    if checker.stack:
        raise MalformedError(f"left open: {checker.stack}")
    if not fragment and not (checker.doctype and html.lstrip().lower().startswith("<!doctype")):
        raise MalformedError("not a <!doctype html> document")

"""Reading an API-2 request into one plain document: a dict of str, int, float, bool, None,
lists and dicts (contract §12).

Where the document is, whatever the Content-Type header says:

    POST body  {"apikey": …}            JSON (a UTF-8 BOM and leading blanks are skipped)
    POST body  <?xml …?><request>…      XML
    POST body  json=%7B…%7D / xml=…      a form (urlencoded or multipart) holding it
    query      ?json=%7B…%7D / ?xml=…    when the body holds none

No document → 10; not JSON, XML or a form holding one → 11; broken XML → 12; broken JSON → 13.

XML is read with expat and refuses any DOCTYPE: without a DTD no entity can be declared and
no external resource named, so nothing is expanded, fetched or opened (billion laughs, XXE).
Both formats refuse nesting deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from xml.parsers import expat

from pilotgate.errors import ApiError

from . import request

#: Containers inside one another; a valid API-2 document needs 3 (document → send → item).
MAX_DEPTH = 8
#: XML elements whose siblings form a list (`<send><sms …/><sms …/></send>`).
LIST_TAGS = frozenset({"sms", "item", "message"})


@dataclass(frozen=True, slots=True)
class Located:
    """The document's bytes, whether they are XML, and the query's own parameters."""

    raw: bytes
    xml: bool
    query: dict[str, str]


def locate(query: bytes, body: bytes, content_type: str) -> Located:
    """Find the document of a request; ApiError 10 when there is none, 11 when the body is
    neither JSON, XML nor a form holding one."""
    params = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8"))
    raw = body.removeprefix(codecs.BOM_UTF8).lstrip()
    if raw.startswith((b"{", b"[", b"<")):
        return Located(raw, raw.startswith(b"<"), params)
    raw, xml = _from_fields(body, content_type, params)
    return Located(raw, xml, params)


def parse(located: Located) -> dict[str, Any]:
    """The document as plain values; ApiError 11 (not UTF-8), 12 (XML) or 13 (JSON)."""
    if located.xml:
        return _xml(located.raw)
    try:
        text = located.raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(11, detail="a JSON document must be UTF-8") from None
    return _json(text)


def _from_fields(body: bytes, content_type: str, query: dict[str, str]) -> tuple[bytes, bool]:
    """The `json=` (or `xml=`) field of a form body, else of the query string."""
    form: dict[str, bytes] = {}
    if body.strip():
        if content_type.lower().startswith("multipart/form-data"):
            pairs = request._pairs_multipart(body, content_type)
        else:
            pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
        form = {key.strip().lower(): value.encode("latin-1") for key, value in pairs}
    for fields in (form, {k: v.encode("utf-8") for k, v in query.items()}):
        for key in ("json", "xml"):
            if fields.get(key, b"").strip():
                return fields[key].strip(), key == "xml"
    if body.strip():
        raise ApiError(11, detail="the body is neither JSON, XML nor a form holding one")
    raise ApiError(10)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json(text: str) -> dict[str, Any]:
    try:
        # NaN and Infinity are not JSON; huge integers fail Python's digit limit (ValueError).
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise ApiError(13) from None
    if not isinstance(value, dict):
        raise ApiError(13, detail="the document must be an object")
    if _depth_exceeds(value, MAX_DEPTH):
        raise ApiError(13, detail=f"nested deeper than {MAX_DEPTH}")
    if "\\ud" in text or "\\uD" in text:
        # "\ud800" alone decodes to a lone surrogate, which no database can store as text.
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(13, detail="a lone surrogate") from None
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


class _Tree:
    """Builds plain values from expat's events; each open element is [tag, attrs, kids, text]."""

    def __init__(self) -> None:
        self.open: list[tuple[str, dict[str, str], list[tuple[str, Any]], list[str]]] = []
        self.root: Any = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if len(self.open) >= MAX_DEPTH:
            raise ApiError(12, detail=f"nested deeper than {MAX_DEPTH}")
        self.open.append((tag, attrs, [], []))

    def text(self, data: str) -> None:
        self.open[-1][3].append(data)

    def end(self, tag: str) -> None:
        _, attrs, kids, parts = self.open.pop()
        value = _element_value(attrs, kids, "".join(parts))
        if self.open:
            self.open[-1][2].append((tag, value))
        else:
            self.root = value


def _element_value(attrs: dict[str, str], kids: list[tuple[str, Any]], text: str) -> Any:
    """Leaf → its text; children all named sms/item/message → a list; otherwise a dict of
    attributes and children (a repeated child becomes a list), text under "text"."""
    if not attrs and not kids:
        return text if text.strip() else ""
    if not attrs and all(tag in LIST_TAGS for tag, _ in kids):
        return [value for _, value in kids]
    values: dict[str, Any] = dict(attrs)
    groups: dict[str, list[Any]] = {}
    for tag, value in kids:
        groups.setdefault(tag, []).append(value)
    for tag, group in groups.items():
        values[tag] = group[0] if len(group) == 1 else group
    if text.strip() and "text" not in values:
        values["text"] = text
    return values


def _refuse_dtd(*_: object) -> int:
    raise ApiError(12, detail="DTDs and entities are refused")


def _xml(data: bytes) -> dict[str, Any]:
    tree = _Tree()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.StartElementHandler = tree.start
    parser.EndElementHandler = tree.end
    parser.CharacterDataHandler = tree.text
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, ValueError, LookupError):
        # An undefined entity (`&foo;`) is an ExpatError too: it can only be declared in a DTD.
        # A declared encoding Python does not know (`x-unknown`) is a LookupError, one it
        # cannot use for XML (`idna`, multi-byte) a ValueError: the document is unreadable.
        raise ApiError(12) from None
    if not isinstance(tree.root, dict):
        raise ApiError(12, detail="the root element must hold the document's fields")
    return tree.root

"""HTML: the page's main text, one section per h1–h3 heading, labelled with its heading path.

trafilatura finds the main content (dropping menus, footers, cookie banners); when it is
not importable or finds nothing, a BeautifulSoup walk over <main>/<article>/<body> is used,
with script, style, nav, header, footer, aside, form and similar elements removed. Either
way headings h1–h3 start sections ("Guide > Install"); text before the first heading is
labelled with the page <title>, else the file name.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Iterator

from rag_core.ingest.loaders.base import LoadOptions, Section, decode_text
from rag_core.ingest.loaders.noise import note
from rag_core.ingest.loaders.text import file_label

if TYPE_CHECKING:  # pragma: no cover
    from bs4 import BeautifulSoup, Tag

_SECTION_TAGS = {"h1": 1, "h2": 2, "h3": 3}
_DROP_TAGS = ("script", "style", "nav", "noscript", "template", "iframe", "svg", "canvas",
              "header", "footer", "aside", "form", "button", "select", "head")
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "blockquote", "pre", "ul", "ol", "dl",
               "table", "tr", "li", "dt", "dd", "h4", "h5", "h6", "figure", "figcaption",
               "address", "hr", "details", "summary", "body"}
_WS = re.compile(r"\s+")
#: a tag opening, closing, comment or declaration: "<" then a letter, "/", "!" or "?" (linear)
_TAG = re.compile(r"<[A-Za-z/!?]")
#: trafilatura's time grows faster than linearly in tags and in attributes (6 s at 20k tags,
#: 0.5 s for one tag of 8k attributes): larger pages take the BeautifulSoup walk
TRAFILATURA_MAX_TAGS = 5_000
TRAFILATURA_MAX_EQUALS = 5_000
#: BeautifulSoup is linear but slow (~70 µs a tag): a page is read up to this many tags
MAX_TAGS = 50_000

#: ("heading", level, title) | ("text", str) | ("break", "\n" or "\n\n")
Event = tuple


@functools.lru_cache(maxsize=1)
def _bs4():
    """BeautifulSoup, imported with the first page read (~40 ms that `--help` and a query need not pay)."""
    import bs4

    return bs4


@functools.lru_cache(maxsize=1)
def _trafilatura():
    """trafilatura, or None if it cannot be imported (e.g. lxml_html_clean is missing)."""
    try:
        import trafilatura
    except Exception:  # noqa: BLE001 - any import failure means: use the fallback
        return None
    return trafilatura


def _label(path: list[tuple[int, str]], fallback: str) -> str:
    return " > ".join(t for _, t in path if t) or fallback


def _sections_from_events(events: Iterator[Event], preamble: str) -> list[Section]:
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    label, parts = preamble, []
    for event in events:
        if event[0] == "heading":
            sections.append(Section(label, "".join(parts)))
            _, level, title = event
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, title))
            label, parts = _label(path, preamble), []
        elif event[0] == "text" and not event[1].strip() and (not parts or parts[-1] in ("\n", "\n\n")):
            continue  # source indentation between blocks
        elif event[0] == "break" and parts and parts[-1] in ("\n", "\n\n"):
            parts[-1] = max(parts[-1], event[1], key=len)  # adjacent block edges: one break
        else:
            parts.append(event[1])
    sections.append(Section(label, "".join(parts)))
    # inline whitespace from the HTML source is not meaningful: trim it at every line edge
    trimmed = [Section(s.label, "\n".join(line.strip() for line in s.text.split("\n"))) for s in sections]
    return [s for s in trimmed if s.text.strip()]  # headings without text of their own are structure


# ---- trafilatura path ---------------------------------------------------------------


def _trafilatura_events(html: str) -> list[Event] | None:
    trafilatura = _trafilatura()
    if trafilatura is None:
        return None
    try:
        xml = trafilatura.extract(html, output_format="xml", include_comments=False,
                                  include_tables=True, include_images=False, deduplicate=False)
    except Exception:  # noqa: BLE001 - a trafilatura crash falls back to BeautifulSoup
        return None
    if not xml:
        return None
    soup = _bs4().BeautifulSoup(xml, "xml")
    main = soup.find("main")
    if main is None:
        return None
    events: list[Event] = []
    for element in main.find_all(recursive=False):
        if element.name == "head" and element.get("rend") in _SECTION_TAGS:
            title = _WS.sub(" ", element.get_text()).strip()
            events.append(("heading", _SECTION_TAGS[element["rend"]], title))
        elif element.name == "list":
            items = [_WS.sub(" ", item.get_text(" ")).strip() for item in element.find_all("item")]
            events.append(("text", "\n".join(f"- {item}" for item in items if item)))
        elif element.name == "table":
            for row in element.find_all("row"):
                cells = [_WS.sub(" ", cell.get_text(" ")).strip() for cell in row.find_all("cell")]
                events.append(("text", " | ".join(cells)))
                events.append(("break", "\n"))
        else:
            events.append(("text", _WS.sub(" ", element.get_text(" ")).strip()))
        events.append(("break", "\n\n"))
    return events if any(e[0] == "text" and e[1].strip() for e in events) else None


# ---- BeautifulSoup fallback ---------------------------------------------------------


#: deeper than this, an element's text is taken flat (get_text walks without recursion):
#: a page of 100k nested <div>s must not exhaust the stack
MAX_DEPTH = 200


def _walk(node: Tag, depth: int = 0) -> Iterator[Event]:
    bs4 = _bs4()
    if depth > MAX_DEPTH:
        yield ("text", _WS.sub(" ", node.get_text(" ")))
        return
    for child in node.children:
        if isinstance(child, bs4.Comment):
            continue
        if isinstance(child, bs4.NavigableString):
            if type(child) is bs4.NavigableString:  # skips Doctype, CData, ProcessingInstruction
                yield ("text", str(child) if node.name == "pre" else _WS.sub(" ", str(child)))
            continue
        if not isinstance(child, bs4.Tag) or child.name in _DROP_TAGS:
            continue
        if child.name in _SECTION_TAGS:
            yield ("heading", _SECTION_TAGS[child.name], _WS.sub(" ", child.get_text(" ")).strip())
        elif child.name == "br":
            yield ("break", "\n")
        elif child.name in ("td", "th"):
            yield from _walk(child, depth + 1)
            yield ("text", " | ")
        elif child.name in _BLOCK_TAGS:
            brk = "\n" if child.name in ("li", "tr", "dt", "dd") else "\n\n"
            yield ("break", brk)
            if child.name == "li":
                yield ("text", "- ")
            yield from _walk(child, depth + 1)
            yield ("break", brk)
        else:
            yield from _walk(child, depth + 1)


def _soup_events(soup: BeautifulSoup) -> list[Event]:
    root = soup.find("main") or soup.find("article") or soup.body or soup
    events = list(_walk(root))
    # a table row ends with a dangling " | "; drop it so rows read "a | b"
    cleaned: list[Event] = []
    for event in events:
        if event[0] == "break" and cleaned and cleaned[-1] == ("text", " | "):
            cleaned.pop()
        cleaned.append(event)
    return cleaned


def _bounded(html: str) -> tuple[str, int]:
    """The page cut before its MAX_TAGS+1-th tag (with a note), and how many tags it keeps."""
    count = 0
    for count, match in enumerate(_TAG.finditer(html), start=1):
        if count > MAX_TAGS:
            note(f"truncated: read the first {MAX_TAGS} HTML tags of a longer page; "
                 "split the page or save it as text to load the rest")
            return html[: match.start()], MAX_TAGS
    return html, count


def split_html(html: str, fallback_label: str) -> list[Section]:
    """Sections of an HTML page (see module docstring); work bounded by the tag count."""
    html, tags = _bounded(html)
    soup = _bs4().BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    preamble = _WS.sub(" ", title).strip() or fallback_label
    small = tags <= TRAFILATURA_MAX_TAGS and html.count("=") <= TRAFILATURA_MAX_EQUALS
    events = _trafilatura_events(html) if small else None
    if events is None:
        events = _soup_events(soup)
    return _sections_from_events(iter(events), preamble)


def load_html(name: str, data: bytes, options: LoadOptions) -> list[Section]:
    return split_html(decode_text(data), file_label(name))

"""The samples gallery: what a sample program says about itself, and its chapter.

A sample's docstring is its card: the first line is the title, the paragraph after it the
summary. A line marked `# pyrona: thumbnail` (at its end, or alone on the line before it)
is the step its card shows. Chapters come from the file name, so that a new family of
samples (`immutable_*.py`) finds its chapter without touching this module's callers.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from pyrona.tracer.store import TraceStore

#: (file name prefixes, chapter), in the gallery's order; the last one takes the rest.
CHAPTERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("fs_",), "The model, step by step"),
    (("immutable_", "frozen_"), "Deep immutability"),
    (("concurrency_",), "Concurrency"),
    (("",), "Programs"),
)
THUMBNAIL = re.compile(r"#\s*pyrona:\s*thumbnail\b")


@dataclass(frozen=True, slots=True)
class SampleDoc:
    title: str
    summary: str
    chapter: str
    thumbnail_line: int | None  # the line whose step the card shows


def chapter_of(name: str) -> str:
    for prefixes, chapter in CHAPTERS:
        if name.startswith(prefixes):
            return chapter
    return CHAPTERS[-1][1]


def chapter_rank(chapter: str) -> int:
    return next((i for i, (_, c) in enumerate(CHAPTERS) if c == chapter), len(CHAPTERS))


def read_sample(path: Path) -> SampleDoc:
    """The card of the sample program at `path` (a title from its name when it has no docstring)."""
    fallback = path.stem.replace("_", " ").capitalize()
    try:
        source = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(source)) or ""
    except (SyntaxError, ValueError, OSError):
        return SampleDoc(fallback, "", chapter_of(path.name), None)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc.strip()) if p.strip()]
    if len(paragraphs) >= 2:  # title, then the summary
        title, summary = paragraphs[0].rstrip("."), paragraphs[1]
    else:  # a one-line docstring is a summary
        title, summary = fallback, paragraphs[0] if paragraphs else ""
    return SampleDoc(title, summary, chapter_of(path.name), thumbnail_line(source))


def thumbnail_line(source: str) -> int | None:
    """The line marked `# pyrona: thumbnail` (the next code line when the mark stands alone)."""
    lines = source.splitlines()
    for at, text in enumerate(lines):
        if not THUMBNAIL.search(text):
            continue
        if not text.lstrip().startswith("#"):
            return at + 1
        for after in range(at + 1, len(lines)):
            code = lines[after].strip()
            if code and not code.startswith("#"):
                return after + 1
    return None


def thumbnail_step(store: TraceStore, trace: int, line: int | None) -> int | None:
    """The last step at `line` of the program's own file (a step shows what its line did)."""
    if line is None:
        return None
    files = store.files(trace)
    if 0 not in files:
        return None
    main, found = files[0][0], None
    for step in store.steps(trace):
        if step.file == main and step.line == line:
            found = step.index
    return found

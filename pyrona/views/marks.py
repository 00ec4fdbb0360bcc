"""What a program's source says about its presentation: `# pyrona:` marks and captions.

A presenter annotates a program with comments only, so it still runs anywhere:
`# pyrona: slide [caption]` makes the step of that line a slide (at the end of the line, or
alone on the line before it), `# pyrona: hide NAME` keeps the variable NAME out of the
diagrams. The caption of a line is the comment block that precedes it in its paragraph of
code (the nearest comment above it with no blank line in between), which is how the
samples are written: a comment, then the lines it explains. Pure functions of the text.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

#: `# pyrona: WORD rest`: the mark's word and what follows it
MARK = re.compile(r"#\s*pyrona:\s*([A-Za-z]+)\b[ \t]*(.*?)\s*$")
#: a mark at the end of a line, removed from the text shown
MARK_TAIL = re.compile(r"\s*#\s*pyrona:.*$")
MAX_CAPTION = 400


@dataclass(frozen=True)
class Marks:
    """The marks of one source file: slides (line -> caption, "" when none) and hidden names."""

    slides: dict[int, str] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()


def read_marks(source: str) -> Marks:
    """The `# pyrona: slide` and `# pyrona: hide` marks of `source` (1-based code lines)."""
    lines = source.splitlines()
    slides: dict[int, str] = {}
    hidden: set[str] = set()
    for at, text in enumerate(lines):
        found = MARK.search(text)
        if found is None:
            continue
        word, rest = found.group(1).lower(), found.group(2)
        if word == "hide":
            hidden.update(name for name in re.split(r"[\s,]+", rest) if name.isidentifier())
        elif word == "slide":
            line = at + 1 if not text.lstrip().startswith("#") else next_code_line(lines, at + 1)
            if line is not None:
                slides[line] = rest[:MAX_CAPTION]
    return Marks(slides, frozenset(hidden))


def next_code_line(lines: list[str], start: int) -> int | None:
    """The first line at or after index `start` that is code (1-based), or None."""
    for at in range(start, len(lines)):
        code = lines[at].strip()
        if code and not code.startswith("#"):
            return at + 1
    return None


def captions(source: str) -> dict[int, str]:
    """Each code line's caption: the comment block nearest above it in its paragraph (blank
    lines end a paragraph; marks are not captions). Lines with no comment above are left out."""
    out: dict[int, str] = {}
    block: list[str] = []  # the comment block being read
    current = ""  # the caption of the paragraph's lines so far
    for number, text in enumerate(source.splitlines(), start=1):
        stripped = text.strip()
        if not stripped:
            block, current = [], ""
            continue
        if stripped.startswith("#"):
            if not MARK.search(stripped):
                block.append(stripped.lstrip("#").strip())
            continue
        if block:
            current, block = " ".join(x for x in block if x)[:MAX_CAPTION], []
        if current:
            out[number] = current
    return out


def docstring(source: str) -> str:
    """The module's docstring, or "" (also for source that does not parse)."""
    try:
        return ast.get_docstring(ast.parse(source)) or ""
    except (SyntaxError, ValueError):
        return ""


def without_marks(line: str) -> str:
    """The line as shown to an audience: any `# pyrona:` mark at its end removed."""
    return MARK_TAIL.sub("", line)

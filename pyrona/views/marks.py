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
import io
import re
import tokenize
from dataclasses import dataclass, field

#: `# pyrona: WORD rest`: the mark's word and what follows it
MARK = re.compile(r"#\s*pyrona:\s*([A-Za-z]+)\b[ \t]*(.*?)\s*$")
#: a mark at the end of a line, removed from the text shown
MARK_TAIL = re.compile(r"\s*#\s*pyrona:.*$")
MAX_CAPTION = 400
SKIPPED_TOKENS = frozenset({tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                            tokenize.ENDMARKER, tokenize.COMMENT})


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
    """Each code line's caption: its own comment at the end of the line, else the comment
    block nearest above it in its paragraph (a blank line ends a paragraph; marks are not
    captions). Lines with neither are left out; so is source that does not tokenize."""
    comments: dict[int, tuple[bool, str]] = {}  # line -> (alone on its line, text)
    code_lines: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                alone = not tok.line[: tok.start[1]].strip()
                text = without_marks(tok.string).lstrip("#").strip()  # (`# note  # pyrona: x`)
                if text:
                    comments[tok.start[0]] = (alone, text)
            elif tok.type not in SKIPPED_TOKENS:
                code_lines.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return {}
    out: dict[int, str] = {}
    block: list[str] = []
    current = ""
    for number, text in enumerate(source.splitlines(), start=1):
        comment = comments.get(number)
        if number not in code_lines:
            if comment is not None:
                block.append(comment[1])
            elif not text.strip():
                block, current = [], ""
            continue
        if block:
            current, block = " ".join(x for x in block if x)[:MAX_CAPTION], []
        own = comment[1][:MAX_CAPTION] if comment is not None and not comment[0] else ""
        if own or current:
            out[number] = own or current
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

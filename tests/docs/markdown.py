"""Reading the project's Markdown: fenced blocks with their run markers, links and path mentions.

The convention (docs/README readers never see it: the markers are HTML comments) is described at the top of
tests/docs/test_snippets.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: the documents whose snippets and references are checked
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])

SNIPPET_LANGUAGES = {
    "bash": "bash",
    "sh": "bash",
    "shell": "bash",
    "console": "bash",
    "python": "python",
    "py": "python",
}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>run|no-run)\s*(?::\s*(?P<reason>.*?))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    language: str  # the info string's first word, lower-case ("" if none)
    code: str
    marker: str | None  # "run", "no-run" or None
    reason: str | None

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def runner(self) -> str | None:
        return SNIPPET_LANGUAGES.get(self.language)


def blocks(doc: Path) -> list[Block]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        language = (m.group("info").split() or [""])[0].lower()
        j = i + 1
        body: list[str] = []
        while j < len(lines) and not re.match(rf"^\s*{re.escape(fence[0]) * len(fence)}+\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mm = _MARKER.match(lines[k]) if k >= 0 else None
        out.append(
            Block(
                doc,
                i + 1,
                language,
                "\n".join(body) + "\n",
                mm.group("kind") if mm else None,
                (mm.group("reason") or None) if mm else None,
            )
        )
        i = j + 1
    return out


def prose(doc: Path) -> list[tuple[int, str]]:
    """(line number, text) of every line outside fenced blocks."""
    out: list[tuple[int, str]] = []
    fenced: str | None = None
    for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        m = _FENCE.match(line)
        if m and fenced is None:
            fenced = m.group("fence")
            continue
        if fenced is not None:
            if line.strip().startswith(fenced) and not line.strip().strip(fenced[0]):
                fenced = None
            continue
        out.append((n, line))
    return out


_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE = re.compile(r"`(?P<code>[^`\s]+)`")
#: top-level entries of the repository that a path mention starts with
_TOP = ("src/", "tests/", "docs/", "scripts/", "bench/", "seed/", "shared/", "../", "./")
#: made by scripts/setup, not in the repository
_GENERATED = (".venv/", ".venv-az/")


def references(doc: Path) -> list[tuple[int, str, Path]]:
    """(line, text, resolved path) of every relative link and every path-like code span of the prose."""
    out: list[tuple[int, str, Path]] = []
    for n, line in prose(doc):
        for m in _LINK.finditer(line):
            target = m.group("target")
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            out.append((n, target, (doc.parent / path).resolve()))
        for m in _CODE.finditer(line):
            code = m.group("code").rstrip(".,;:")
            if code.startswith(_GENERATED) or "{" in code or "<" in code or "*" in code:
                continue
            if code.startswith(_TOP) or (code.endswith(".md") and "/" not in code.lstrip("./")):
                base = doc.parent if code.startswith(("../", "./")) else ROOT
                path = code.split(":", 1)[0]
                out.append((n, code, (base / path).resolve()))
    return out

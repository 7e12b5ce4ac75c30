"""The docs' form: every snippet is marked (run, or no-run with a reason; see test_snippets.py), every
relative link and path they mention exists in the repository (with the heading a link's #anchor names),
and no blank line cuts a table in two."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.markdown import DOCS, ROOT, blocks, prose, references

#: files others own that still break a rule: the test expects them to fail until they are fixed (strict:
#: it fails as soon as one passes, so the entry is removed with the fix)
PENDING: dict[tuple[str, str], str] = {}


def _params(check: str) -> list[object]:
    out: list[object] = []
    for doc in DOCS:
        name = str(doc.relative_to(ROOT))
        reason = PENDING.get((check, name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(doc, id=name, marks=marks))
    return out


@pytest.mark.parametrize("doc", _params("markers"))
def test_every_snippet_is_marked(doc: Path) -> None:
    problems = []
    for b in blocks(doc):
        if b.runner is not None and b.marker is None:
            problems.append(f"{b.where}: a `{b.language}` block without <!-- run --> or <!-- no-run: why -->")
        if b.marker == "no-run" and not b.reason:
            problems.append(f"{b.where}: <!-- no-run --> needs a reason: <!-- no-run: why -->")
        if b.marker == "run" and b.runner is None:
            problems.append(
                f"{b.where}: <!-- run --> before a `{b.language or 'plain'}` block, which cannot run"
            )
    assert problems == []


def _slug(heading: str) -> str:
    text = re.sub(r"[`*_]|<[^>]+>", lambda m: "_" if m.group(0) == "_" else "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text))


def _anchors(doc: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for _, line in prose(doc) if re.match(r"^#{1,6}\s", line)}


@pytest.mark.parametrize("doc", _params("references"))
def test_links_and_paths_exist(doc: Path) -> None:
    problems = []
    for line, text, path in references(doc):
        if not path.exists():
            problems.append(f"{doc.relative_to(ROOT)}:{line}: {text} does not exist")
        elif not path.is_relative_to(ROOT):
            problems.append(f"{doc.relative_to(ROOT)}:{line}: {text} is outside the repository")
        elif "#" in text and path.suffix == ".md":
            anchor = text.split("#", 1)[1]
            if anchor not in _anchors(path):
                problems.append(f"{doc.relative_to(ROOT)}:{line}: no heading #{anchor} in {path.name}")
    assert problems == []


def test_slugs_as_github_makes_them() -> None:
    assert _slug(" `CERTIFICATE_VERIFY_FAILED`") == "certificate_verify_failed"
    assert (
        _slug(" Gen1/Gen2: a different Hypervisor generation") == "gen1gen2-a-different-hypervisor-generation"
    )
    assert _slug(" `azemu` commands") == "azemu-commands"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_tables_are_not_cut_by_blank_lines(doc: Path) -> None:
    lines = prose(doc)
    problems = []
    for i, (n, line) in enumerate(lines):
        if not line.startswith("|"):
            continue
        prev = lines[i - 1][1] if i else ""
        nxt = lines[i + 1][1] if i + 1 < len(lines) else ""
        starts_table = not prev.startswith("|")
        if starts_table and not re.match(r"^\|(\s*:?-+:?\s*\|)+\s*$", nxt):
            problems.append(
                f"{doc.relative_to(ROOT)}:{n}: a table row with no header above it (a blank line?)"
            )
    assert problems == []

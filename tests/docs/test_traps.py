"""docs/traps.md runs as written and quotes what really happens: its runnable blocks run in order against one
fresh azemu (as tests/docs/test_snippets.py runs every other page's), and every line of the page's ``text``
blocks must appear in what the blocks under the same heading printed (``…`` standing for what differs from
run to run). The `--rules textbook` quotes are reproduced against an azemu started with those rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from azemu.cli import clientenv
from azemu.testing import AzemuServer
from tests.docs.markdown import ROOT, Block, blocks, prose
from tests.docs.test_snippets import _env, run_block

pytestmark = pytest.mark.az
PAGE = ROOT / "docs" / "traps.md"


def _slug(heading: str) -> str:
    from tests.docs.test_markdown import _slug as slug

    return slug(heading)


@dataclass
class Section:
    slug: str
    runnable: list[Block] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)


def sections() -> list[Section]:
    """The page's headings in order, each with the runnable blocks and quoted lines below it."""
    headings = [(n, _slug(line.lstrip("#"))) for n, line in prose(PAGE) if re.match(r"^#{1,3}\s", line)]
    out = [Section(slug) for _, slug in headings]

    def owner(line: int) -> Section:
        index = max(i for i, (n, _) in enumerate(headings) if n < line)
        return out[index]

    for b in blocks(PAGE):
        if b.marker == "run":
            owner(b.line).runnable.append(b)
        elif b.language == "text":
            owner(b.line).quoted += [line.strip() for line in b.code.splitlines() if line.strip()]
    return out


def assert_quoted(section: Section, output: str) -> None:
    for line in section.quoted:
        pattern = ".*?".join(re.escape(part) for part in line.split("…"))
        assert re.search(pattern, output), (
            f"#{section.slug}: the page quotes\n  {line}\nbut the commands printed\n{output}"
        )


def test_the_page_runs_and_quotes_what_it_printed() -> None:
    if clientenv.find_az() is None:
        pytest.skip("no az CLI (scripts/setup --test installs the pinned one into .venv-az)")
    checked = 0
    with AzemuServer() as emu:
        env = _env(emu)
        for section in sections():
            printed = []
            for block in section.runnable:
                done = run_block(block, env)
                assert done.returncode == 0, (
                    f"{block.where}: exited {done.returncode}\n{block.code}\n{done.stdout}\n{done.stderr}"
                )
                printed.append(done.stdout + done.stderr)
            if section.runnable and section.quoted:
                assert_quoted(section, "\n".join(printed).replace("\r", ""))
                checked += 1
    assert checked == 5  # one quote per trap


def test_the_textbook_quotes() -> None:
    section = next(s for s in sections() if s.slug == "with---rules-textbook")
    assert section.quoted and not section.runnable
    with AzemuServer(rules="textbook") as emu:
        for args in (
            ("group", "create", "-n", "bookRG", "-l", "eastus"),
            ("vm", "create", "-g", "bookRG", "-n", "stoppedVM", "--image", "Ubuntu2204", "--admin-username",
             "azureuser", "--admin-password", "Az3mu!Passw0rd", "--public-ip-address", "", "--nsg", ""),
            ("vm", "stop", "-g", "bookRG", "-n", "stoppedVM"),
        ):  # fmt: skip
            done = emu.az(*args, "-o", "none")
            assert done.returncode == 0, done.stderr
        refused = emu.az("vm", "generalize", "-g", "bookRG", "-n", "stoppedVM")
    assert refused.returncode != 0
    assert_quoted(section, refused.stderr)

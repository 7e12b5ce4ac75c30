"""Every snippet of README.md and docs/*.md runs, so none can rot.

How to write a snippet (the convention this test enforces)
----------------------------------------------------------
* A fenced block whose language is ``bash`` (or ``sh``, ``shell``, ``console``) or ``python`` (``py``) is a
  snippet, and the line before it (blank lines aside) must be one of two HTML comments, which Markdown
  renderers do not show:

  - ``<!-- run -->``: the block is executed by this test;
  - ``<!-- no-run: why -->``: it is not, and the reason says why (it starts a server, runs the test suite
    itself, ...). Use it rarely: a block that is not run is a block that can rot.

  Blocks without a language, or in ``text``/``json``, are output and listings, not snippets.
* The runnable blocks of one document run **in document order against one fresh azemu** (in memory, on
  a free port), so a block may use what an earlier block of the same page made (``myRG``, ``myVM``).
* Each block runs as a reader would run it in the checkout, with ``eval "$(azemu env)"`` done for them:
  the current directory is the repository root, the environment holds the exports of ``azemu env`` for
  that azemu (``AZEMU_PORT``/``AZEMU_DATA_DIR`` included, so ``azemu …`` and ``azemu az …`` talk to it),
  and ``.venv/bin`` comes first on ``PATH``. ``bash`` blocks run with ``set -euo pipefail``; ``python``
  blocks with the test environment's interpreter (the Azure SDK installed). A block must exit 0 within
  ten minutes; a command that is meant to fail is written ``cmd || true``.
* A block should leave nothing behind outside the azemu it ran against (temporary files go in
  ``mktemp -d`` and are removed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from azemu.cli import clientenv
from azemu.testing import AzemuServer
from tests.docs.markdown import DOCS, ROOT, Block, blocks

pytestmark = pytest.mark.az

#: pages whose blocks another test runs (and checks the output of), so they are not run twice
RUN_ELSEWHERE = {ROOT / "docs" / "traps.md": "tests/docs/test_traps.py"}
RUNNABLE = {doc: [b for b in blocks(doc) if b.marker == "run"] for doc in DOCS if doc not in RUN_ELSEWHERE}


def _env(emu: AzemuServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZEMU_", "AZURE_"))}
    env.update(emu.env())
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_block(block: Block, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if block.runner == "bash":
        argv = ["bash", "-c", "set -euo pipefail\n" + block.code]
    elif block.runner == "python":
        argv = [sys.executable, "-c", block.code]
    else:
        raise AssertionError(f"{block.where}: a `{block.language or 'plain'}` block cannot be marked run")
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("doc", [d for d in RUNNABLE if RUNNABLE[d]], ids=lambda d: str(d.relative_to(ROOT)))
def test_runnable_snippets_run(doc: Path) -> None:
    if clientenv.find_az() is None:
        pytest.skip("no az CLI (scripts/setup --test installs the pinned one into .venv-az)")
    with AzemuServer() as emu:
        env = _env(emu)
        for block in RUNNABLE[doc]:
            started = time.monotonic()
            done = run_block(block, env)
            print(f"{block.where}: {time.monotonic() - started:.1f} s")
            assert done.returncode == 0, (
                f"{block.where}: the {block.language} block exited {done.returncode}\n"
                f"--- block ---\n{block.code}--- stdout ---\n{done.stdout}--- stderr ---\n{done.stderr}"
            )

"""What a lab is, as data: its story and task, the seed's words it is built from, hints, and two functions - one
that prepares azemu's state (``start``) and one that reads it and says what is right or wrong (``check``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azemu.labs.world import Prep, World


@dataclass(frozen=True)
class Cite:
    """Where a requirement comes from: the chapter's words, and what real Azure does (both, where they differ)."""

    seed: str | None = None
    azure: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {}
        if self.seed:
            out["seed"] = self.seed
        if self.azure:
            out["azure"] = self.azure
        return out


@dataclass(frozen=True)
class Finding:
    """One requirement of a lab and what azemu's state shows about it."""

    requirement: str  # what must be true, in a sentence
    ok: bool
    found: str  # what azemu's state shows, precisely (names, values, the error Azure would give)
    cite: Cite = field(default_factory=Cite)
    advisory: bool = False  # reported, but does not decide whether the lab is passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "ok": self.ok,
            "found": self.found,
            "advisory": self.advisory,
            **self.cite.to_dict(),
        }


Starter = Callable[["Prep"], None]
Checker = Callable[["World"], Sequence[Finding]]


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    kind: (
        str  # "exercise" (a workflow of the chapter) or "trap" (one of its "Common Wrong Answers and Traps")
    )
    seed: str  # the part of the chapter the lab is built from
    quote: str  # the chapter's words the lab turns into an exercise
    story: str  # the situation ``start`` prepares
    task: str  # what the learner has to do (names of the resources the check looks for)
    hints: tuple[str, ...]
    start: Starter
    check: Checker
    trap: int | None = None  # the number of the chapter's trap (1-5), when it is one

    @property
    def resource_group(self) -> str:
        return f"lab-{self.id}"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "trap": self.trap,
            "seed": self.seed,
            "resourceGroup": self.resource_group,
        }

    def detail(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "quote": self.quote,
            "story": self.story,
            "task": self.task,
            "hintCount": len(self.hints),
        }

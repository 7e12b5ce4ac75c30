"""The labs service: list, detail, start, check, hint, reset - what the admin API (``/_azemu/labs``) serves."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from azemu.domain.emulator import Emulator
from azemu.domain.errors import AzureError, NotFound
from azemu.domain.timefmt import iso
from azemu.labs.catalog import LABS
from azemu.labs.model import Finding, Lab
from azemu.labs.progress import Entry, Progress
from azemu.labs.world import Prep, World, instant

log = logging.getLogger("azemu.labs")


class LabNotFound(NotFound):
    code = "LabNotFound"


class LabNotStarted(AzureError):
    code, status = "LabNotStarted", 409


class Labs:
    def __init__(self, emu: Emulator, labs: Sequence[Lab] = LABS) -> None:
        self.emu = emu
        self.labs = {lab.id: lab for lab in labs}
        self.progress = Progress(emu.store)

    def lab(self, lab_id: str) -> Lab:
        lab = self.labs.get(lab_id)
        if lab is None:
            raise LabNotFound(
                f"There is no lab '{lab_id}'. Labs: {', '.join(self.labs)} (azemu lab list).", target="labId"
            )
        return lab

    def _now(self) -> str:
        return iso(self.emu.clock.now())

    # reading -------------------------------------------------------------------------------------------
    def listing(self) -> list[dict[str, Any]]:
        every = self.progress.all()
        return [
            {**lab.summary(), "status": (every.get(lab.id) or {}).get("status", "not started")}
            for lab in self.labs.values()
        ]

    def detail(self, lab_id: str) -> dict[str, Any]:
        lab = self.lab(lab_id)
        entry = self.progress.of(lab_id)
        return {**lab.detail(), "progress": _public(entry)}

    # changing ------------------------------------------------------------------------------------------
    def start(self, lab_id: str) -> dict[str, Any]:
        """Prepare the lab's state in its own resource group (deleting what an earlier start left there)."""
        lab = self.lab(lab_id)
        prep = Prep(self.emu, lab.resource_group)
        with instant(self.emu.clock):
            self._delete_group(lab)
            prep.group()
            lab.start(prep)
        at = self._now()
        self.progress.update(
            lab_id,
            lambda _: {
                "status": "started",
                "startedAt": at,
                "checks": 0,
                "hintsShown": 0,
                "facts": prep.facts,
            },
        )
        return self.detail(lab_id)

    def check(self, lab_id: str) -> dict[str, Any]:
        lab = self.lab(lab_id)
        entry = self.progress.of(lab_id)
        if entry.get("status") == "not started":
            raise LabNotStarted(
                f"Lab '{lab_id}' has not been started: its resources are made by 'azemu lab start {lab_id}'."
            )
        findings = self._findings(
            lab, World(self.emu, lab.resource_group, facts=dict(entry.get("facts") or {}))
        )
        required = [f for f in findings if not f.advisory]
        met = sum(f.ok for f in required)
        passed = bool(required) and met == len(required)
        at = self._now()

        def record(e: Entry) -> Entry:
            e["checks"] = int(e.get("checks") or 0) + 1
            e["lastCheck"] = {"at": at, "passed": passed, "met": met, "of": len(required)}
            if passed:
                e["status"] = "passed"
                e.setdefault("passedAt", at)
            return e

        updated = self.progress.update(lab_id, record)
        return {
            "lab": lab_id,
            "passed": passed,
            "summary": f"{met} of {len(required)} requirements met" + (": lab passed" if passed else ""),
            "findings": [f.to_dict() for f in findings],
            "progress": _public(updated),
        }

    def hint(self, lab_id: str) -> dict[str, Any]:
        """The next hint (the last one again once all were shown)."""
        lab = self.lab(lab_id)
        shown = min(int(self.progress.of(lab_id).get("hintsShown") or 0) + 1, len(lab.hints))

        def record(e: Entry) -> Entry:
            e["hintsShown"] = max(int(e.get("hintsShown") or 0), shown)
            return e

        self.progress.update(lab_id, record)
        return {"lab": lab_id, "number": shown, "of": len(lab.hints), "hint": lab.hints[shown - 1]}

    def reset(self, lab_id: str) -> dict[str, Any]:
        """Delete the lab's resource group and forget its progress."""
        lab = self.lab(lab_id)
        with instant(self.emu.clock):
            deleted = self._delete_group(lab)
        self.progress.update(lab_id, lambda _: None)
        return {"lab": lab_id, "status": "not started", "resourceGroupDeleted": deleted}

    # ---------------------------------------------------------------------------------------------------
    def _delete_group(self, lab: Lab) -> bool:
        op = self.emu.resource_groups.begin_delete_group(
            self.emu.defaults.subscription_id, lab.resource_group, self.emu.defaults.tenant_id
        )
        return op is not None

    def _findings(self, lab: Lab, world: World) -> list[Finding]:
        """The lab's check; if the check itself breaks (a bug in azemu, not the learner's fault), one finding
        says so instead of an internal error."""
        try:
            return list(lab.check(world))
        except Exception as exc:
            log.exception("the check of lab %s failed", lab.id)
            return [
                Finding(
                    "azemu can check this lab",
                    False,
                    f"azemu's check of this lab failed ({type(exc).__name__}: {exc}) - a bug in azemu, please "
                    "report it.",
                )
            ]


def _public(entry: Entry) -> dict[str, Any]:
    """Progress as clients see it (the facts a lab remembered for its check stay inside)."""
    return {k: v for k, v in entry.items() if k != "facts"}

"""A learner's progress, per data directory: one JSON document in the state store's settings, read and written
in one transaction (so a crash keeps either the old progress or the new one, never half of it). ``azemu reset``
forgets it with everything else."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from azemu.state.store import Store

SETTING = "labs.progress"

Entry = dict[str, Any]


def _load(raw: str | None) -> dict[str, Entry]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


class Progress:
    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> dict[str, Entry]:
        with self.store.read() as tx:
            return _load(tx.get_setting(SETTING))

    def of(self, lab_id: str) -> Entry:
        return self.all().get(lab_id) or {"status": "not started"}

    def update(self, lab_id: str, change: Callable[[Entry], Entry | None]) -> Entry:
        """Read, change and write one lab's entry in one transaction; ``change`` returning None forgets it."""
        with self.store.transaction() as tx:
            every = _load(tx.get_setting(SETTING))
            entry = change(dict(every.get(lab_id) or {"status": "not started"}))
            if entry is None:
                every.pop(lab_id, None)
            else:
                every[lab_id] = entry
            tx.put_setting(SETTING, json.dumps(every, sort_keys=True))
        return entry or {"status": "not started"}

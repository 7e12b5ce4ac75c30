"""The state store's durability setting, measured: SQLite in WAL mode with ``synchronous=FULL`` (an fsync of the
write-ahead log at every commit) beside ``NORMAL`` (fsync at checkpoints only), same workload, same run.

Both keep every acknowledged write when the *process* is killed (the WAL is in the OS's hands at commit, and
`tests/reliability` kill azemu mid-stream); they differ on *power loss*, where NORMAL may lose the last
transactions before a checkpoint (never corrupting the database). azemu is a local emulator: it uses NORMAL.
Run: scripts/bench (or .venv/bin/python -m bench.store)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from azemu.state.records import ResourceRecord
from azemu.state.sqlite import SqliteStore

WRITES = 1500
ROUNDS = 5


def workload(store: SqliteStore, round_: int) -> float:
    """One transaction per write, each a VM-sized document: what a burst of PUTs does."""
    body = {"properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}, "blob": "x" * 2000}, "tags": {}}
    started = time.perf_counter()
    for i in range(WRITES):
        rid = f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm{round_}-{i}"
        rec = ResourceRecord(rid, "Microsoft.Compute/virtualMachines", f"vm{i}", "s", "rg", "eastus", "running", body,
                             '"e"', 0.0, 0.0)  # fmt: skip
        with store.transaction() as tx:
            tx.put_resource(rec)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores = {
            mode: SqliteStore(Path(tmp) / f"{mode}.db", synchronous=mode) for mode in ("FULL", "NORMAL")
        }
        times: dict[str, list[float]] = {mode: [] for mode in stores}
        for r in range(ROUNDS):
            for mode, store in stores.items():  # interleaved: both see the same machine noise
                times[mode].append(workload(store, r))
        full, normal = (statistics.median(times[m]) for m in ("FULL", "NORMAL"))
        print(f"{WRITES} single-write transactions, median of {ROUNDS} interleaved rounds")
        print(f"  synchronous=FULL  : {full * 1e6 / WRITES:.0f} us per commit")
        print(f"  synchronous=NORMAL: {normal * 1e6 / WRITES:.0f} us per commit")
        print(f"  FULL / NORMAL: {full / normal:.2f}")


if __name__ == "__main__":
    main()

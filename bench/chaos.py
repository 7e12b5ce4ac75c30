"""Reliability and security, measured: crashes, graceful stops, racing clients, fuzzed requests, resource
bounds and a soak, each printing its figures (docs/reliability.md quotes them).

Run: scripts/chaos            the full harness (>= 50 kills, 32 racing clients, >= 10,000 fuzzed requests,
                              a 30-minute soak; `--soak-minutes N` to shorten it)
     scripts/chaos --quick    the sizes the test suite uses (tests/reliability/test_chaos.py)
Every scenario is a function returning its figures, so tests assert the goals on small sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import ssl
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from tests import gallerykit as gk
from tests import vmkit

from azemu.testing import AzemuServer

TERMINAL = {"Succeeded", "Failed", "Canceled"}
CONFLICT_CODES = {
    "OperationNotAllowed",
    "Conflict",
    "ConflictingUserInput",
    "PreconditionFailed",
    "PropertyChangeNotAllowed",
    "ResourceGroupBeingDeleted",
    "InvalidParameter",
    "OperationPreempted",
}


@dataclass
class Figures:
    scenario: str
    values: dict[str, Any] = field(default_factory=dict)
    goals: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def met(self) -> bool:
        return all(self.values.get(k) == v for k, v in self.goals.items())


@contextmanager
def server(**kw: Any) -> Iterator[AzemuServer]:
    with tempfile.TemporaryDirectory(prefix="azemu-chaos-", dir=os.environ.get("AZEMU_BENCH_DIR")) as tmp:
        emu = AzemuServer(data_dir=Path(tmp) / "data", in_memory=kw.pop("in_memory", False), **kw)
        with emu:
            yield emu


def _clients(emu: AzemuServer) -> vmkit.Clients:
    """SDK clients that give up at once when the server is gone (the SDK's default retries sleep minutes)."""
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    cred = emu.credential()
    kw = {**emu.client_kwargs, "retry_total": 1, "retry_backoff_max": 1}
    sub = emu.subscription_id
    return vmkit.Clients(
        ResourceManagementClient(cred, sub, **kw),
        ComputeManagementClient(cred, sub, **kw),
        NetworkManagementClient(cred, sub, **kw),
        sub,
    )


def _start(emu: AzemuServer) -> None:
    """Start again after a kill; a server that does not come up is the worst finding: keep its data dir."""
    try:
        emu.start()
    except (RuntimeError, TimeoutError):
        import shutil

        keep = Path(tempfile.mkdtemp(prefix="azemu-chaos-failed-"))
        shutil.copytree(emu.data_dir, keep / "data", dirs_exist_ok=True)
        print(f"--- the server did not restart; its data dir is kept in {keep}", flush=True)
        logs = sorted((emu.data_dir / "logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
        for log in logs[-2:]:
            print(
                f"--- {log.name}\n" + "".join(log.read_text(errors="replace").splitlines(True)[-60:]),
                flush=True,
            )
        raise


def _path(emu: AzemuServer, rest: str) -> str:
    return f"/subscriptions/{emu.subscription_id}/resourceGroups/{rest}"


def _wait_operations(emu: AzemuServer, advance: float = 7200.0) -> list[dict[str, Any]]:
    """Advance azemu's clock past every pending operation; the operations still not terminal."""
    emu.admin("POST", "/clock", {"advance": advance})
    ops = emu.admin("GET", "/operations")["value"]
    return [o for o in ops if o.get("status") not in TERMINAL]


# 1. crash anywhere ------------------------------------------------------------------------------------
@dataclass
class Ledger:
    """What clients were told: resources acknowledged, files written, deletes acknowledged."""

    resources: dict[str, str] = field(default_factory=dict)  # id -> expected provisioningState (or "")
    problems: list[str] = field(default_factory=list)
    files: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (rg, vm, path) -> content
    gone: set[str] = field(default_factory=set)


def _round(emu: AzemuServer, c: vmkit.Clients, n: int, image_id: str, led: Ledger) -> None:
    """One round of the mixed workload; each step that a client saw acknowledged goes in the ledger."""
    rg = f"r{n}"
    vmkit.ensure_group(c, rg)
    led.resources[f"/subscriptions/{emu.subscription_id}/resourceGroups/{rg}"] = ""
    vm = vmkit.linux_vm(c, rg, "vm")
    led.resources[vm.id] = "Succeeded"
    for k in range(2):
        token = uuid.uuid4().hex
        out = vmkit.run(c, rg, "vm", f"mkdir -p /data && echo {token} > /data/f{k}.txt").value[0].message
        if "Enable succeeded" in out:
            led.files[(rg, "vm", f"/data/f{k}.txt")] = token
    disk_id = vm.storage_profile.os_disk.managed_disk.id
    snap = c.compute.snapshots.begin_create_or_update(
        rg,
        "snap",
        {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id}},
        },
    ).result()
    led.resources[snap.id] = "Succeeded"
    # a gallery version replicating on the clock (scaled latency): acknowledged as soon as the PUT answers
    gal = _path(emu, f"chaos/providers/Microsoft.Compute/galleries/gal/images/def/versions/1.0.{n}")
    status, _, _ = emu.request(
        "PUT",
        gal + "?api-version=2024-03-03",
        {
            "location": "eastus",
            "properties": {
                "publishingProfile": {
                    "targetRegions": [{"name": "eastus", "regionalReplicaCount": 1}, {"name": "westus2"}]
                },
                "storageProfile": {"source": {"id": image_id}},
            },
        },
    )
    if status in (200, 201):
        led.resources[gal] = "Succeeded"
    # deletes: the previous round's snapshot and a fresh disk
    prev = _path(emu, f"r{n - 1}/providers/Microsoft.Compute/snapshots/snap")
    if prev in led.resources:
        c.compute.snapshots.begin_delete(f"r{n - 1}", "snap").result()
        led.resources.pop(prev, None)
        led.gone.add(prev)


def _api(rid: str) -> str:
    """An api-version the resource's type is served at."""
    low = rid.lower()
    if "/galleries/" in low:
        return "2024-03-03"
    if "/snapshots/" in low or "/disks/" in low:
        return "2025-01-02"
    return "2024-11-01"


def _audit(emu: AzemuServer, led: Ledger) -> dict[str, int]:
    if emu.process is None or emu.process.poll() is not None:
        led.problems.append(f"the server exited by itself ({emu.process and emu.process.returncode})")
        _start(emu)
    stuck = _wait_operations(emu)
    c = _clients(emu)
    losses = checked = 0
    for rid, state in led.resources.items():
        checked += 1
        status, body, _ = emu.request("GET", rid + "?api-version=" + _api(rid))
        if status != 200:
            losses += 1
            led.problems.append(f"lost {rid}: {status} {body}")
        elif state and (body.get("properties") or {}).get("provisioningState") != state:
            losses += 1
            led.problems.append(f"{rid}: {(body.get('properties') or {}).get('provisioningState')}")
    for rid in led.gone:
        checked += 1
        status, _, _ = emu.request("GET", rid + "?api-version=" + _api(rid))
        if status != 404:
            losses += 1
            led.problems.append(f"deleted but back: {rid}")
    corrupt: set[tuple[str, str]] = set()
    by_vm: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (rg, vm, path), token in led.files.items():
        by_vm.setdefault((rg, vm), []).append((path, token))
    for (rg, vm), files in by_vm.items():
        out = vmkit.run(c, rg, vm, *[f"echo {p}=$(cat {p})" for p, _ in files]).value[0].message
        for path, token in files:
            checked += 1
            if f"{path}={token}" not in out:
                losses += 1
                corrupt.add((rg, vm))
                led.problems.append(f"file {rg}/{vm}{path}: {out[-200:]!r}")
    emu.admin("POST", "/gc")  # what the audit's own Run Commands released (GC runs after commit)
    content = emu.admin("GET", "/content")
    if content.get("missing") or content.get("unreferenced") or stuck:
        led.problems.append(f"content {content}; stuck {stuck}")
    return {
        "checked": checked,
        "losses": losses,
        "corrupt": len(corrupt),
        "missing": int(content.get("missing", 0)),
        "orphaned": int(content.get("unreferenced", 0)),
        "stuck": len(stuck),
    }


def _setup_gallery(emu: AzemuServer) -> str:
    c = vmkit.clients(emu)
    vmkit.ensure_group(c, "chaos")
    image = gk.generalized_image(c, "chaos", "gold")
    gk.gallery(c, "chaos", "gal")
    gk.definition(c, "chaos", "gal", "def")
    return str(image.id)


def _chosen_kill(emu: AzemuServer, point: str) -> None:
    """Kill at a chosen point: inside a content write, right after a delete (GC pending), mid-replication."""
    c = vmkit.clients(emu)
    vmkit.ensure_group(c, "chosen")
    if point == "content-write":
        vm = vmkit.linux_vm(c, "chosen", f"w{uuid.uuid4().hex[:6]}")
        blobs = emu.data_dir / "content"
        before = sum(1 for _ in blobs.rglob("*"))

        def write() -> None:
            try:
                emu.request(
                    "POST",
                    f"{vm.id}/runCommand?api-version=2024-11-01",
                    {"commandId": "RunShellScript", "script": ["dd if=/dev/urandom of=/big bs=1M count=128"]},
                )
            except OSError:
                pass

        t = threading.Thread(target=write, daemon=True)
        t.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum(1 for _ in blobs.rglob("*")) < before + 4:
            time.sleep(0.005)
        emu.kill()
        t.join(5)
    elif point == "after-delete":
        name = f"d{uuid.uuid4().hex[:6]}"
        vmkit.linux_vm(c, "chosen", name, delete_disk=True)
        c.compute.virtual_machines.begin_delete("chosen", name).result()  # content released; GC pending
        emu.kill()
    elif point == "mid-replication":
        emu.kill()  # the round's gallery version is replicating on the scaled clock right now
    else:
        raise ValueError(point)


def crash(kills: int = 50, seed: int = 15, latency: str = "scaled:0.01") -> Figures:
    rng = random.Random(seed)
    fig = Figures("crash (SIGKILL)")
    totals: Counter[str] = Counter()
    led = Ledger()
    chosen = ["content-write", "after-delete", "mid-replication"]
    with server(latency=latency) as emu:
        image_id = _setup_gallery(emu)
        n = 0
        for k in range(kills):
            c = _clients(emu)
            point = chosen[k] if k < len(chosen) and kills >= len(chosen) else "random"
            if point == "random":
                stop = threading.Event()

                def work(c: vmkit.Clients = c, stop: threading.Event = stop) -> None:
                    nonlocal n
                    while not stop.is_set():
                        n += 1
                        try:
                            _round(emu, c, n, image_id, led)
                        except Exception:  # the server died under it: nothing more was acknowledged
                            return

                t = threading.Thread(target=work, daemon=True)
                t.start()
                time.sleep(rng.uniform(0.05, 2.5))
                emu.kill()
                stop.set()
                t.join(30)
            else:
                if point == "mid-replication":
                    n += 1
                    _round(emu, c, n, image_id, led)
                _chosen_kill(emu, point)
            _start(emu)
            for key, value in _audit(emu, led).items():
                totals[key] += value
            totals["distinct"] = max(totals["distinct"], len(led.resources) + len(led.gone) + len(led.files))
    fig.values = {
        "kills": kills,
        "acked writes (distinct)": totals["distinct"],
        "acked writes checked (all audits)": totals["checked"],
        "losses": totals["losses"],
        "corrupt disks": totals["corrupt"],
        "missing blobs": totals["missing"],
        "orphaned blobs": totals["orphaned"],
        "ops not terminal": totals["stuck"],
    }
    fig.goals = {
        "losses": 0,
        "corrupt disks": 0,
        "missing blobs": 0,
        "orphaned blobs": 0,
        "ops not terminal": 0,
    }
    fig.notes.extend(led.problems[:20])
    fig.notes.append(f"{n} workload rounds; chosen points: {', '.join(chosen)}")
    return fig


# 2. graceful stop ---------------------------------------------------------------------------------------
def sigterm() -> Figures:
    """SIGTERM while a request is in flight and an operation runs on an advanced clock."""
    fig = Figures("graceful stop (SIGTERM)")
    with server(latency="realistic") as emu:
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "term")
        emu.admin("POST", "/clock", {"latency": "instant"})
        vm = vmkit.linux_vm(c, "term", "vm")
        emu.admin("POST", "/clock", {"latency": "realistic", "advance": 1000})
        offset = emu.admin("GET", "/clock")["offsetSeconds"]
        emu.request("PUT", _path(emu, "doomed") + "?api-version=2024-11-01", {"location": "eastus"})
        _, _, headers = emu.request("DELETE", _path(emu, "doomed") + "?api-version=2024-11-01")
        answer: dict[str, Any] = {}

        def in_flight() -> None:
            try:
                answer["status"] = emu.request(
                    "POST",
                    f"{vm.id}/runCommand?api-version=2024-11-01",
                    {
                        "commandId": "RunShellScript",
                        "script": ["dd if=/dev/urandom of=/inflight bs=1M count=96"],
                    },
                )[0]
            except OSError as exc:
                answer["error"] = str(exc)

        t = threading.Thread(target=in_flight)
        t.start()
        time.sleep(0.15)
        assert emu.process is not None
        emu.process.send_signal(signal.SIGTERM)
        code = emu.process.wait(30)
        t.join(30)
        emu.process = None
        emu.start()
        clock = emu.admin("GET", "/clock")
        location = headers["location"].split(emu.endpoint, 1)[1]
        still = emu.request("GET", location)[0]
        stuck = _wait_operations(emu)
        done = emu.request("GET", location)[0]
        fig.values = {
            # uvicorn shuts down gracefully on SIGTERM, then re-raises it: the exit status says SIGTERM
            "clean exit": int(code in (0, -signal.SIGTERM)),
            "in-flight answered": int("status" in answer and answer["status"] < 500),
            "clock kept": int(clock["offsetSeconds"] >= offset),
            "op resumed then done": int(still == 202 and done == 200 and not stuck),
        }
    with server(in_memory=True) as mem:
        health = mem.admin("GET", "/health")
        log = "".join(p.read_text() for p in (mem.data_dir / "logs").glob("server-*.log"))
        fig.values["in-memory warned"] = int(
            "nothing survives" in health["durability"] and "nothing survives" in log
        )
    fig.goals = {
        "clean exit": 1,
        "in-flight answered": 1,
        "clock kept": 1,
        "op resumed then done": 1,
        "in-memory warned": 1,
    }
    return fig


# 3. racing clients --------------------------------------------------------------------------------------
class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.conflicts = 0
        self.codes: Counter[str] = Counter()
        self.violations: list[str] = []

    def record(self, what: str, status: int, body: Any) -> None:
        code = ((body or {}).get("error") or {}).get("code", "") if isinstance(body, dict) else ""
        with self.lock:
            self.requests += 1
            self.codes[f"{status} {code}".strip()] += 1
            if status >= 500 or (status >= 400 and not code):
                self.violations.append(f"{what}: {status} {body}")
            elif status in (409, 412) or code in CONFLICT_CODES:
                self.conflicts += 1
            elif status >= 400 and status != 404:
                self.violations.append(f"{what}: unexpected {status} {code}")


def _follow(
    emu: AzemuServer, what: str, status: int, body: Any, headers: dict[str, str], tally: Tally
) -> None:
    """Record an answer; a 202/201 with an operation is followed to its end (under instant: one poll)."""
    tally.record(what, status, body)
    url = headers.get("azure-asyncoperation") or (headers.get("location") if status == 202 else None)
    if not url or (status >= 300 and status != 202):
        return
    path = url.split(emu.endpoint, 1)[-1]
    for _ in range(50):
        s, b, _ = emu.request("GET", path)
        st = (b or {}).get("status") if isinstance(b, dict) else None
        if s >= 500:
            tally.record(what + " (poll)", s, b)
            return
        if s == 202 or st in ("InProgress", "Running"):
            time.sleep(0.05)
            continue
        if st == "Failed":
            code = ((b.get("error") or {}).get("code")) or ""
            with tally.lock:
                if code in CONFLICT_CODES or code in ("ResourceNotFound", "NotFound"):
                    tally.conflicts += 1
                else:
                    tally.violations.append(f"{what}: operation Failed {code} {b.get('error')}")
        return


def _race(
    emu: AzemuServer, clients: int, actions: list[tuple[str, str, Any]], per_client: int, seed: int
) -> Tally:
    tally = Tally()
    rng = random.Random(seed)
    plans = [[rng.choice(actions) for _ in range(per_client)] for _ in range(clients)]
    barrier = threading.Barrier(clients)

    def client(plan: list[tuple[Any, ...]]) -> None:
        barrier.wait()
        for method, path, body, *extra in plan:
            try:
                status, answer, headers = emu.request(method, path, body, headers=extra[0] if extra else None)
            except OSError as exc:
                with tally.lock:
                    tally.violations.append(f"{method} {path}: {exc}")
                continue
            _follow(emu, f"{method} {path.split('/providers/')[-1]}", status, answer, headers, tally)

    threads = [threading.Thread(target=client, args=(p,)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def _vm_invariants(emu: AzemuServer, vm_id: str) -> list[str]:
    bad: list[str] = []
    status, view, _ = emu.request("GET", f"{vm_id}/instanceView?api-version=2024-11-01")
    if status == 404:
        return bad
    power = [s["code"] for s in view.get("statuses", []) if s["code"].startswith("PowerState/")]
    if len(power) != 1:
        bad.append(f"VM power states {power}")
        return bad
    run = emu.request(
        "POST",
        f"{vm_id}/runCommand?api-version=2024-11-01",
        {"commandId": "RunShellScript", "script": ["true"]},
    )
    if power[0] in ("PowerState/deallocated", "PowerState/stopped") and run[0] < 400:
        bad.append(f"{power[0]} VM ran a command ({run[0]})")
    if power[0] == "PowerState/running" and run[0] >= 400:
        bad.append(f"running VM refused a command: {run[1]}")
    return bad


def race(clients: int = 32, per_client: int = 6, seed: int = 15) -> Figures:
    fig = Figures(f"racing clients ({clients})")
    total = Tally()
    with server() as emu:
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "race")
        vm = vmkit.linux_vm(c, "race", "racer")
        api = "?api-version=2024-11-01"
        img = _path(emu, "race/providers/Microsoft.Compute/images")
        run = {"commandId": "RunShellScript", "script": ["echo $RANDOM >> /var/log/race.txt"]}
        vm_actions = [
            ("POST", f"{vm.id}/start{api}", None),
            ("POST", f"{vm.id}/deallocate{api}", None),
            ("POST", f"{vm.id}/powerOff{api}", None),
            ("POST", f"{vm.id}/restart{api}", None),
            ("POST", f"{vm.id}/generalize{api}", None),
            ("POST", f"{vm.id}/runCommand{api}", run),
            ("POST", f"{vm.id}/runCommand{api}", run),
            ("PATCH", f"{vm.id}{api}", {"tags": {"who": "racer"}}),
            ("PATCH", f"{vm.id}{api}", {"tags": {"who": "stale"}}, {"If-Match": '"0xstale"'}),
            ("PUT", f"{vm.id}{api}", {"location": "eastus"}, {"If-None-Match": "*"}),
            (
                "PUT",
                f"{img}/cap{api}",
                {"location": "eastus", "properties": {"sourceVirtualMachine": {"id": vm.id}}},
            ),
            ("GET", f"{vm.id}{api}", None),
        ]
        t1 = _race(emu, clients, vm_actions, per_client, seed)
        delete = _race(emu, max(2, clients // 8), [("DELETE", f"{vm.id}{api}", None)], 1, seed)
        # one gallery version: updates and deletes while it replicates (scaled latency)
        image_id = _setup_gallery(emu)
        emu.admin("POST", "/clock", {"latency": "scaled:0.01"})
        ver = _path(emu, "chaos/providers/Microsoft.Compute/galleries/gal/images/def/versions/1.0.0")
        gapi = "?api-version=2024-03-03"

        def vbody(n: int) -> dict[str, Any]:
            return {
                "location": "eastus",
                "tags": {"n": str(n)},
                "properties": {
                    "publishingProfile": {
                        "targetRegions": [{"name": "eastus"}, {"name": "westus2", "regionalReplicaCount": n}]
                    },
                    "storageProfile": {"source": {"id": image_id}},
                },
            }

        emu.request("PUT", ver + gapi, vbody(1))
        g_actions = [
            ("PUT", ver + gapi, vbody(2)),
            ("PUT", ver + gapi, vbody(3)),
            ("PATCH", ver + gapi, {"tags": {"k": "v"}}),
            ("GET", ver + gapi, None),
            ("DELETE", ver + gapi, None),
            ("PUT", ver + gapi, {**vbody(1), "x-if-match": None}),
        ]
        g_actions = [
            (m, p, {k: v for k, v in b.items() if k != "x-if-match"} if b else b) for m, p, b in g_actions
        ]
        t2 = _race(emu, clients, g_actions, per_client, seed + 1)
        emu.admin("POST", "/clock", {"latency": "instant"})
        # one resource group: creates inside it while it is deleted
        vmkit.ensure_group(c, "contested")
        nsg = _path(emu, "contested/providers/Microsoft.Network/networkSecurityGroups")
        rg_actions = [
            ("PUT", f"{nsg}/n{i}?api-version=2024-05-01", {"location": "eastus"}) for i in range(8)
        ] + [
            ("DELETE", _path(emu, "contested") + api, None),
            ("PUT", _path(emu, "contested") + api, {"location": "eastus"}),
        ]
        t3 = _race(emu, clients, rg_actions, per_client, seed + 2)
        stuck = _wait_operations(emu)
        # invariants afterwards
        violations = [*t1.violations, *delete.violations, *t2.violations, *t3.violations]
        violations += [f"operation not terminal: {o['kind']}" for o in stuck]
        violations += _vm_invariants(emu, vm.id)
        status = emu.request("GET", _path(emu, "contested") + api)[0]
        listed = emu.request("GET", f"/subscriptions/{emu.subscription_id}/resources?api-version=2024-11-01")[
            1
        ]["value"]
        inside = [r["id"] for r in listed if "/resourcegroups/contested/" in r["id"].lower()]
        if status == 404 and inside:
            violations.append(f"group gone but {len(inside)} resources inside remain")
        status, v, _ = emu.request("GET", ver + gapi)
        if status == 200:
            reps = ((v.get("properties") or {}).get("replicationStatus") or {}).get("summary") or []
            if v["properties"]["provisioningState"] not in TERMINAL:
                violations.append(f"version still {v['properties']['provisioningState']}")
            del reps
        emu.admin("POST", "/gc")
        content = emu.admin("GET", "/content")
        if content.get("missing") or content.get("unreferenced"):
            violations.append(f"content after the race: {content}")
        for t in (t1, delete, t2, t3):
            total.requests += t.requests
            total.conflicts += t.conflicts
            total.codes.update(t.codes)
    fig.values = {"requests": total.requests, "conflicts": total.conflicts, "violations": len(violations)}
    fig.goals = {"violations": 0}
    fig.notes = [*violations[:20], f"answers: {dict(total.codes.most_common(12))}"]
    return fig


# 4. fuzzing ---------------------------------------------------------------------------------------------
FUZZ_TARGETS = [  # (ARM type, path under the group's providers, api-version, spec model)
    ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines/fz", "2024-11-01", None),
    ("Microsoft.Compute/disks", "Microsoft.Compute/disks/fz", "2025-01-02", None),
    ("Microsoft.Compute/snapshots", "Microsoft.Compute/snapshots/fz", "2025-01-02", None),
    ("Microsoft.Compute/images", "Microsoft.Compute/images/fz", "2024-11-01", None),
    ("Microsoft.Compute/availabilitySets", "Microsoft.Compute/availabilitySets/fz", "2024-11-01", None),
    ("Microsoft.Compute/galleries", "Microsoft.Compute/galleries/fz", "2024-03-03", None),
    ("Microsoft.Compute/galleries/images", "Microsoft.Compute/galleries/fzgal/images/fz", "2024-03-03", None),
    (
        "Microsoft.Compute/galleries/images/versions",
        "Microsoft.Compute/galleries/fzgal/images/def/versions/1.0.0",
        "2024-03-03",
        None,
    ),
    (
        "Microsoft.Compute/virtualMachineScaleSets",
        "Microsoft.Compute/virtualMachineScaleSets/fz",
        "2024-11-01",
        None,
    ),
    ("Microsoft.Network/virtualNetworks", "Microsoft.Network/virtualNetworks/fz", "2024-05-01", None),
    ("Microsoft.Network/networkInterfaces", "Microsoft.Network/networkInterfaces/fz", "2024-05-01", None),
    ("Microsoft.Network/publicIPAddresses", "Microsoft.Network/publicIPAddresses/fz", "2024-05-01", None),
    (
        "Microsoft.Network/networkSecurityGroups",
        "Microsoft.Network/networkSecurityGroups/fz",
        "2024-05-01",
        None,
    ),
    ("POST", "Microsoft.Compute/virtualMachines/fzvm/runCommand", "2024-11-01", "RunCommandInput"),
    ("PATCH", "Microsoft.Compute/virtualMachines/fzvm", "2024-11-01", "VirtualMachineUpdate"),
    ("POST", "Microsoft.Compute/disks/fzdisk/beginGetAccess", "2025-01-02", "GrantAccessData"),
]


def _strategies() -> Any:
    """hypothesis strategies for request bodies, built from the spec shapes azemu reads bodies with."""
    from hypothesis import strategies as st

    from azemu.domain import shapes

    models = shapes.models()
    json_leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
    )
    junk = st.recursive(
        json_leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )

    def of(tref: str, depth: int) -> Any:
        if depth > 4:
            return junk
        if tref.startswith("M:"):
            props = {p.name: p for p in models.models.get(tref[2:], {}).values() if p.writable}
            chosen = dict(sorted(props.items())[:24])
            return st.fixed_dictionaries({}, optional={k: of(p.type, depth + 1) for k, p in chosen.items()})
        if tref.startswith("E:"):
            values = list(models.enums.get(tref[2:], {}).values()) or ["x"]
            return (
                st.sampled_from(values) | st.sampled_from([v.lower() for v in values]) | st.text(max_size=8)
            )
        if tref.startswith("[") and tref.endswith("]"):
            return st.lists(of(tref[1:-1], depth + 1), max_size=2)
        if tref.startswith("{") and tref.endswith("}"):
            return st.dictionaries(st.text(max_size=8), of(tref[1:-1], depth + 1), max_size=2)
        base = {
            "string": st.text(max_size=16)
            | st.sampled_from(["eastus", "/subscriptions/x", "Standard_D2s_v5", ""]),
            "int": st.integers(min_value=-(2**70), max_value=2**70),
            "float": st.floats(allow_nan=False, allow_infinity=False),
            "bool": st.booleans(),
            "date-time": st.sampled_from(["2026-01-01T00:00:00Z", "yesterday", ""]),
        }.get(tref, junk)
        return base

    def body(model: str) -> Any:
        shaped = of("M:" + model, 0)
        located = st.builds(
            lambda b, loc: {**b, "location": loc}, shaped, st.sampled_from(["eastus", "EASTUS", "mars"])
        )
        return st.one_of(located, located, shaped, junk)

    return st, body


def _abuse_cases(emu: AzemuServer, rng: random.Random) -> list[tuple[str, bytes]]:
    """Raw HTTP requests no client library would send."""
    host = f"localhost:{emu.port}"
    token = emu.token()
    rg = _path(emu, "fuzz") + "?api-version=2024-11-01"
    put = f"/subscriptions/{emu.subscription_id}/resourceGroups/fuzz/providers/Microsoft.Compute/disks/raw?api-version=2025-01-02"

    def req(method: str, path: str, body: bytes = b"", headers: str = "", length: int | None = None) -> bytes:
        n = len(body) if length is None else length
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {n}\r\nConnection: close\r\n{headers}\r\n"
        ).encode("latin-1") + body

    deep = b"[" * 100_000 + b"]" * 100_000
    deep_obj = b'{"location":"eastus","properties":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}"
    cases = [
        ("truncated body", req("PUT", put, b'{"location": "eas', length=500)),
        ("invalid utf-8", req("PUT", put, b'{"location": "\xff\xfe\xfa"}')),
        ("utf-16 body", req("PUT", put, '{"location": "eastus"}'.encode("utf-16"))),
        ("bom", req("PUT", put, b'\xef\xbb\xbf{"location": "eastus", "properties": {"diskSizeGB": 4}}')),
        ("deep arrays", req("PUT", put, deep)),
        ("deep objects", req("PUT", put, deep_obj)),
        (
            "huge number",
            req("PUT", put, b'{"location": "eastus", "properties": {"diskSizeGB": 1' + b"0" * 5000 + b"}}"),
        ),
        (
            "int beyond 64 bits",
            req("PUT", put, b'{"location": "eastus", "sku": {"capacity": 1180591620717411303424}}'),
        ),
        ("huge exponent", req("PUT", put, b'{"location": "eastus", "properties": {"diskSizeGB": 1e999999}}')),
        ("nan", req("PUT", put, b'{"location": "eastus", "properties": {"diskSizeGB": NaN}}')),
        (
            "huge float digits",
            req("PUT", put, b'{"location": "eastus", "properties": {"diskSizeGB": 0.' + b"1" * 20000 + b"}}"),
        ),
        ("duplicate keys", req("PUT", put, b'{"location": "eastus", "location": 5}')),
        ("not json", req("PUT", rg, b"location=eastus")),
        ("empty body", req("PUT", rg, b"")),
        ("NUL in body", req("PUT", rg, b'{"location": "east\x00us"}')),
        ("escaped NUL", req("PUT", rg, b'{"location": "east\\u0000us"}')),
        ("lone surrogate", req("PUT", rg, b'{"location": "\\ud800", "tags": {"\\udfff": "x"}}')),
        ("1 MB header", req("GET", rg, headers="X-Big: " + "a" * 1_000_000 + "\r\n")),
        ("10 MB header", req("GET", rg, headers="X-Big: " + "a" * 10_000_000 + "\r\n")),
        ("many headers", req("GET", rg, headers="".join(f"X-H{i}: v\r\n" for i in range(5000)))),
        ("5 MB body", req("PUT", rg, b'{"location": "eastus", "tags": {"a": "' + b"x" * 5_000_000 + b'"}}')),
        ("bad content-length", req("PUT", rg, b'{"location":"eastus"}', length=-5)),
        (
            "chunked garbage",
            (
                f"PUT {rg} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
            ).encode(),
        ),
        ("NUL in path", req("GET", rg.replace("fuzz", "fu%00zz"))),
        (
            "dotdot path",
            req(
                "GET",
                f"/subscriptions/{emu.subscription_id}/resourceGroups/%2e%2e%2f%2e%2e/providers/Microsoft.Compute/disks/x?api-version=2025-01-02",
            ),
        ),
        (
            "encoded slash",
            req(
                "PUT",
                f"/subscriptions/{emu.subscription_id}/resourceGroups/fuzz/providers/Microsoft.Compute/disks/a%2Fb?api-version=2025-01-02",
                b'{"location":"eastus","properties":{"creationData":{"createOption":"Empty"},"diskSizeGB":4}}',
            ),
        ),
        ("overlong path", req("GET", "/subscriptions/" + "a" * 100_000)),
        ("bad percent", req("GET", "/subscriptions/%zz%?api-version=%")),
        ("odd method", req("PROPFIND", rg)),
        ("TRACE", req("TRACE", rg)),
        (
            "no host",
            f"GET {rg} HTTP/1.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode(),
        ),
        ("http/1.0", f"GET {rg} HTTP/1.0\r\nAuthorization: Bearer {token}\r\n\r\n".encode()),
        ("garbage request line", b"\x16\x03\x01garbage\r\n\r\n"),
        ("query abuse", req("GET", rg + "&api-version=2024-11-01&$filter=" + "(" * 5000)),
        (
            "unicode path",
            req(
                "GET",
                _path(emu, "f%C3%BCzz\u00e9".encode("utf-8").decode("latin-1")) + "?api-version=2024-11-01",
            ),
        ),
    ]
    out = list(cases)
    for _ in range(4):  # random bytes after a valid request line
        blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4000)))
        out.append(("random body", req("PUT", put, blob)))
    return out


def _send_raw(emu: AzemuServer, data: bytes, timeout: float = 10.0) -> int:
    """Send bytes over TLS; the status code answered (0: the server closed without answering)."""
    ctx = emu.ssl_context()
    try:
        with (
            socket.create_connection(("127.0.0.1", emu.port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as s,
        ):
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR) if len(data) < 1000 and b"Content-Length: 500" in data else None
            except (OSError, ssl.SSLError):
                pass
            buf = b""
            while b"\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        line = buf.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) > 1 and line[1].isdigit() else 0
    except (OSError, ssl.SSLError):
        return 0


def _slow_clients(emu: AzemuServer, n: int, seconds: float) -> tuple[int, float]:
    """n connections trickling a request a byte at a time while another client is served; (served, p-max s)."""
    ctx = emu.ssl_context()
    socks = []
    for _ in range(n):
        try:
            raw = socket.create_connection(("127.0.0.1", emu.port), timeout=5)
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(b"GET /subscriptions HTTP/1.1\r\nHo")
            socks.append(s)
        except OSError:
            break
    served, worst = 0, 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in socks:
            try:
                s.send(b"s")
            except OSError:
                pass
        t = time.perf_counter()
        status, _, _ = emu.request("GET", _path(emu, "fuzz") + "?api-version=2024-11-01")
        worst = max(worst, time.perf_counter() - t)
        served += status == 200
        time.sleep(0.2)
    for s in socks:
        s.close()
    return served, worst


def fuzz(requests: int = 10_000, seed: int = 15, slow: float = 5.0) -> Figures:
    import httpx
    from hypothesis import HealthCheck, Phase, given, settings

    fig = Figures("fuzzed requests")
    rng = random.Random(seed)
    st, body_of = _strategies()
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()
    fivexx: list[str] = []
    unenveloped: list[str] = []
    rss: list[int] = []
    with server() as emu:
        proc = psutil.Process(emu.process.pid if emu.process else 0)
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "fuzz")
        vmkit.linux_vm(c, "fuzz", "fzvm")
        base = _path(emu, "fuzz/providers/")
        emu.request(
            "PUT",
            base + "Microsoft.Compute/disks/fzdisk?api-version=2025-01-02",
            {
                "location": "eastus",
                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4},
            },
        )
        emu.request(
            "PUT", base + "Microsoft.Compute/galleries/fzgal?api-version=2024-03-03", {"location": "eastus"}
        )
        emu.request(
            "PUT",
            base + "Microsoft.Compute/galleries/fzgal/images/def?api-version=2024-03-03",
            {
                "location": "eastus",
                "properties": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
                },
            },
        )
        rss.append(proc.memory_info().rss)
        client = httpx.Client(
            base_url=emu.endpoint,
            verify=emu.ssl_context(),
            headers={"Authorization": f"Bearer {emu.token()}"},
            timeout=60,
        )

        def answer(what: str, r: httpx.Response) -> None:
            statuses[r.status_code] += 1
            if r.status_code >= 500:
                fivexx.append(f"{what}: {r.status_code} {r.text[:300]}")
            elif r.status_code >= 400:
                try:
                    code = r.json()["error"]["code"]
                    codes[code] += 1
                except (ValueError, KeyError, TypeError):
                    unenveloped.append(f"{what}: {r.status_code} {r.text[:200]}")

        targets = []
        from azemu.domain import shapes

        for arm_type, path, api, model in FUZZ_TARGETS:
            method = arm_type if arm_type in ("POST", "PATCH") else "PUT"
            m = model or shapes.models().kinds[arm_type.lower()]["model"]
            targets.append((method, base + path + f"?api-version={api}", m))
        raw_share = max(40, requests // 25)
        schema_n = requests - raw_share

        @settings(
            max_examples=schema_n,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(st.sampled_from(targets).flatmap(lambda t: st.tuples(st.just(t), body_of(t[2]))))
        def one(case: Any) -> None:
            (method, url, _model), body = case
            content = json.dumps(body).encode()
            r = client.request(method, url, content=content, headers={"Content-Type": "application/json"})
            answer(f"{method} {url.split('/providers/')[-1]} {content[:200]!r}", r)
            if len(rss) < 200 and sum(statuses.values()) % 500 == 0:
                rss.append(proc.memory_info().rss)

        one()
        client.close()
        cases = _abuse_cases(emu, rng)
        sent_raw = 0
        while sent_raw < raw_share:
            name, data = cases[sent_raw % len(cases)]
            status = _send_raw(emu, data)
            sent_raw += 1
            statuses[status] += 1
            if status >= 500:
                fivexx.append(f"raw {name}: {status}")
        served, worst = _slow_clients(emu, 64, slow)
        alive = emu.process is not None and emu.process.poll() is None
        rss.append(proc.memory_info().rss)
    total = sum(statuses.values())
    fig.values = {
        "requests": total,
        "5xx": len(fivexx),
        "distinct rejection codes": len(codes),
        "rejections without envelope": len(unenveloped),
        "crashes": int(not alive),
        "RSS MiB start/max": f"{rss[0] >> 20}/{max(rss) >> 20}",
        "slow-loris: others served": served,
        "slow-loris: worst s": round(worst, 2),
    }
    fig.goals = {"5xx": 0, "crashes": 0, "rejections without envelope": 0}
    fig.notes = (
        fivexx[:15]
        + unenveloped[:10]
        + [f"codes: {dict(codes.most_common(15))}", f"statuses: {dict(statuses)}"]
    )
    return fig


# 6. resource bounds -------------------------------------------------------------------------------------
class Prober:
    """Another client reading while the abuse runs: how long its answers take, and whether all came."""

    def __init__(self, emu: AzemuServer) -> None:
        self.emu = emu
        self.times: list[float] = []
        self.failed = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        path = f"/subscriptions/{self.emu.subscription_id}/resourcegroups?api-version=2024-11-01"
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                ok = self.emu.request("GET", path)[0] == 200
            except OSError:
                ok = False
            self.times.append(time.perf_counter() - t)
            self.failed += not ok
            time.sleep(0.05)

    def __enter__(self) -> Prober:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    @property
    def worst(self) -> float:
        return max(self.times, default=0.0)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def bounds(
    group_size: int = 10_000, regions: int = 50, replicas: int = 100, disk_full: bool = True
) -> Figures:
    import httpx

    fig = Figures("resource bounds")
    rows: dict[str, Any] = {}
    unbounded = 0
    with server() as emu:
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "bounds")
        vmkit.linux_vm(c, "bounds", "guest")
        scripts = {
            "dd without count": "dd if=/dev/zero of=/zero bs=1M",
            "dd in a loop": "i=0; while true; do dd if=/dev/zero of=/f$i bs=256M count=1 || break; i=$((i+1)); done",
            "busy loop": "while true; do :; done",
            "recursion": "f() { f; }; f",
            "fork bomb": ":(){ :|:& };:",
            "sleep forever": "sleep infinity",
        }
        with Prober(emu) as probe:
            for name, script in scripts.items():
                try:
                    result, took = _timed(lambda s=script: vmkit.run(c, "bounds", "guest", s))
                    msg = result.value[0].message
                    tail = msg.split("[stderr]")[-1].strip().splitlines() or ["(ended, no output)"]
                    rows[name] = f"{took:.1f} s: {tail[-1][:90]}"
                except Exception as exc:
                    took = 0.0
                    rows[name] = f"refused: {str(exc)[:90]}"
                unbounded += took > 120
        rows["others served during guest abuse (worst s)"] = f"{probe.worst:.2f}, failures {probe.failed}"
        # a group of group_size resources
        nsg = _path(emu, "big/providers/Microsoft.Network/networkSecurityGroups")
        vmkit.ensure_group(c, "big")
        token = emu.token()
        errors = Counter[int]()

        def fill(start: int) -> None:
            with httpx.Client(
                verify=emu.ssl_context(), headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as h:
                for i in range(start, group_size, 4):
                    r = h.put(f"{emu.endpoint}{nsg}/n{i}?api-version=2024-05-01", json={"location": "eastus"})
                    if r.status_code >= 300:
                        errors[r.status_code] += 1

        with Prober(emu) as probe:
            _, took = _timed(
                lambda: [
                    t.join()
                    for t in [threading.Thread(target=fill, args=(k,)) for k in range(4)]
                    if not t.start()
                ]
            )
            listed, list_took = _timed(lambda: sum(1 for _ in c.network.network_security_groups.list("big")))
            _, del_took = _timed(lambda: c.rm.resource_groups.begin_delete("big").result())
        rows[f"{group_size}-resource group"] = (
            f"created in {took:.0f} s (errors {dict(errors)}), listed {listed} in {list_took:.1f} s, "
            f"deleted in {del_took:.1f} s; others' worst {probe.worst:.2f} s"
        )
        unbounded += listed != group_size - sum(errors.values())
        # a version in many regions with many replicas each
        image_id = _setup_gallery(emu)
        from azemu.domain import regions as region_table

        region_names = ["eastus", *[r["name"] for r in region_table.all_regions() if r["name"] != "eastus"]][
            :regions
        ]
        ver = _path(emu, "chaos/providers/Microsoft.Compute/galleries/gal/images/def/versions")

        def version(name: str, count: int) -> tuple[int, Any, dict[str, str]]:
            return emu.request(
                "PUT",
                f"{ver}/{name}?api-version=2024-03-03",
                {
                    "location": "eastus",
                    "properties": {
                        "publishingProfile": {
                            "targetRegions": [
                                {"name": r, "regionalReplicaCount": count} for r in region_names
                            ]
                        },
                        "storageProfile": {"source": {"id": image_id}},
                    },
                },
            )

        proc = psutil.Process(emu.process.pid if emu.process else 0)
        before = proc.memory_info().rss
        with Prober(emu) as probe:
            (status, _, _), took = _timed(lambda: version("1.0.0", replicas))
            stuck = _wait_operations(emu)
        state = emu.request("GET", f"{ver}/1.0.0?api-version=2024-03-03")[1]["properties"][
            "provisioningState"
        ]
        over = version("2.0.0", 101)
        rows[f"{regions} regions x {replicas} replicas"] = (
            f"{status} in {took:.1f} s, {state}, RSS +{(proc.memory_info().rss - before) >> 20} MiB; "
            f"others' worst {probe.worst:.2f} s; 101 replicas: {over[0]} {over[1]['error']['code']}"
        )
        unbounded += bool(stuck) or state != "Succeeded" or over[0] != 400
    if disk_full:
        rows["disk full"] = full = _disk_full()
        unbounded += "lost 0, after a crash and restart 0" not in full and not full.startswith("skipped")
    fig.values = {"scenarios": len(rows), "unbounded": unbounded}
    fig.goals = {"unbounded": 0}
    fig.notes = [f"{k}: {v}" for k, v in rows.items()]
    return fig


def _disk_full() -> str:
    """The data directory on a small file system filling up: a clear error, nothing acknowledged lost."""
    if os.geteuid() != 0:
        return "skipped (needs root to mount a small tmpfs)"
    mount = Path(tempfile.mkdtemp(prefix="azemu-full-"))
    if os.system(f"mount -t tmpfs -o size=40m tmpfs {mount} 2>/dev/null") != 0:
        return "skipped (could not mount a tmpfs)"
    try:
        emu = AzemuServer(data_dir=mount / "data", in_memory=False)
        with emu:
            c = vmkit.clients(emu)
            vmkit.ensure_group(c, "full")
            vmkit.linux_vm(c, "full", "vm")
            acked: list[tuple[str, str]] = []
            refusal = ""
            for i in range(40):
                token = uuid.uuid4().hex
                status, body, _ = emu.request(
                    "POST",
                    _path(emu, "full/providers/Microsoft.Compute/virtualMachines/vm/runCommand")
                    + "?api-version=2024-11-01",
                    {
                        "commandId": "RunShellScript",
                        "script": [f"echo {token} > /t{i}", f"dd if=/dev/urandom of=/b{i} bs=1M count=4"],
                    },
                )
                if status < 300:
                    acked.append((f"/t{i}", token))
                else:
                    refusal = f"{status} {body['error']['code']}: {body['error']['message'][:80]}"
                    break
            health = emu.admin("GET", "/health")
            vm_id = _path(emu, "full/providers/Microsoft.Compute/virtualMachines/vm")

            def lost() -> int:  # read through the admin API: a read needs no room on the disk
                bad = 0
                for p, t in acked:
                    status, body, _ = emu.request("GET", f"/_azemu/guest/file?vm={vm_id}&path={p}")
                    bad += status != 200 or str(body).strip() != t
                return bad

            lost_now = lost()
            emu.kill()
            emu.start()
            lost_after = lost()
            return (
                f"{len(acked)} writes acknowledged, then {refusal or 'no refusal'}; lost {lost_now}, after a "
                f"crash and restart {lost_after}; health {health['status']} "
                f"({', '.join(p['code'] for p in health['problems'])})"
            )
    finally:
        os.system(f"umount {mount}")
        mount.rmdir()


# 7. soak ------------------------------------------------------------------------------------------------
def soak(seconds: float = 1800.0, rate: float = 20.0) -> Figures:
    fig = Figures(f"soak ({seconds / 60:g} min at {rate:g} req/s)")
    samples: list[tuple[float, int, int]] = []  # (t, rss, fds)
    lat: list[tuple[float, float]] = []  # (t, seconds)
    errors = 0
    with server() as emu:
        proc = psutil.Process(emu.process.pid if emu.process else 0)
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "soak")
        vm = vmkit.linux_vm(c, "soak", "vm")
        disk = vm.storage_profile.os_disk.managed_disk.id
        rg = _path(emu, "soak")
        snap = rg + "/providers/Microsoft.Compute/snapshots/s?api-version=2025-01-02"
        ops: list[tuple[str, str, Any]] = [
            ("GET", rg + "?api-version=2024-11-01", None),
            ("PATCH", rg + "?api-version=2024-11-01", {"tags": {"t": "x"}}),
            ("GET", f"{vm.id}?api-version=2024-11-01", None),
            (
                "POST",
                f"{vm.id}/runCommand?api-version=2024-11-01",
                {
                    "commandId": "RunShellScript",
                    "script": [
                        "date >> /var/log/soak.log; tail -c 100000 /var/log/soak.log > /tmp/x; mv /tmp/x /var/log/soak.log"
                    ],
                },
            ),
            (
                "PUT",
                snap,
                {
                    "location": "eastus",
                    "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}},
                },
            ),
            ("DELETE", snap, None),
            ("GET", f"/subscriptions/{emu.subscription_id}/resources?api-version=2024-11-01", None),
        ]
        start = time.monotonic()
        i = 0
        next_sample = start
        while time.monotonic() - start < seconds:
            method, path, body = ops[i % len(ops)]
            i += 1
            t = time.perf_counter()
            try:
                status = emu.request(method, path, body)[0]
            except OSError:
                status = 599
            now = time.monotonic() - start
            lat.append((now, time.perf_counter() - t))
            errors += status >= 500
            if time.monotonic() >= next_sample:
                samples.append((now, proc.memory_info().rss, proc.num_fds()))
                next_sample += max(1.0, seconds / 60)
            time.sleep(max(0.0, (i / rate) - (time.monotonic() - start)))
        health = emu.admin("GET", "/health")["status"]
    warm = [s for s in samples if s[0] >= seconds * 0.2] or samples
    first = [x for t, x in lat if t < seconds / 2]
    second = [x for t, x in lat if t >= seconds / 2]

    def p99(xs: list[float]) -> float:
        return statistics.quantiles(xs, n=100)[98] * 1000 if len(xs) >= 2 else 0.0

    rss0, rss1 = warm[0][1] >> 20, warm[-1][1] >> 20
    fds0, fds1 = warm[0][2], warm[-1][2]
    fig.values = {
        "requests": len(lat),
        "5xx": errors,
        "RSS MiB (after warm-up -> end)": f"{rss0} -> {rss1}",
        "open fds": f"{fds0} -> {fds1}",
        "p99 ms (1st half / 2nd half)": f"{p99(first):.1f} / {p99(second):.1f}",
        "flat": int(rss1 <= rss0 * 1.2 + 16 and fds1 <= fds0 + 8),
        "health": health,
    }
    fig.goals = {"5xx": 0, "flat": 1, "health": "ok"}
    return fig


# the table ----------------------------------------------------------------------------------------------
def table(figs: list[Figures]) -> str:
    lines = ["| scenario | figure | value | goal |", "|---|---|---|---|"]
    for f in figs:
        for k, v in f.values.items():
            goal = f.goals.get(k, "")
            lines.append(f"| {f.scenario} | {k} | {v} | {goal} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the test suite's sizes")
    ap.add_argument("--soak-minutes", type=float, default=None)
    ap.add_argument(
        "--only", default="", help="comma-separated: crash,sigterm,race,fuzz,security,bounds,soak"
    )
    args = ap.parse_args(argv)
    q = args.quick
    soak_s = (args.soak_minutes if args.soak_minutes is not None else (0.5 if q else 30)) * 60
    runs: dict[str, Callable[[], Figures]] = {
        "crash": lambda: crash(kills=4 if q else 50),
        "sigterm": sigterm,
        "race": lambda: race(clients=8 if q else 32),
        "fuzz": lambda: fuzz(requests=400 if q else 10_000, slow=2 if q else 10),
        "bounds": lambda: bounds(
            group_size=300 if q else 10_000, regions=5 if q else 50, replicas=10 if q else 100
        ),
        "soak": lambda: soak(seconds=soak_s),
    }
    only = [x for x in args.only.split(",") if x] or list(runs)
    figs: list[Figures] = []
    for name in only:
        t = time.monotonic()
        fig = runs[name]()
        figs.append(fig)
        print(
            f"## {fig.scenario}: {'met' if fig.met() else 'NOT MET'} ({time.monotonic() - t:.0f} s)",
            flush=True,
        )
        for note in fig.notes:
            print(f"   {note}", flush=True)
    print()
    print(table(figs))
    return 0 if all(f.met() for f in figs) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``azemu demo``: the AZ-104 chapter's walk-through (steps 1-6) against a fresh azemu with the real az CLI, for
one Linux and one Windows VM side by side - each command and its result, what changed inside each guest
(read through azemu's admin API), VMs made from the image with fresh identities, and the specialized-image
contrast: a clone with the same identity, flagged by azemu's conflict detection. docs/demo.md describes it.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TaskProgressColumn, TextColumn
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from azemu.cli import clientenv
from azemu.clock.profiles import parse_profile
from azemu.testing.server import AzemuServer

RG = "demoRG"
GALLERY = "demoGallery"
PASSWORD = "Az3mu!Passw0rd"
API = "2024-11-01"
GALLERY_API = "2023-07-03"
STATE_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
MAX_LINES = 14


@dataclass(frozen=True)
class Os:
    key: str  # linux | windows
    label: str
    image: str  # az vm create --image
    vm: str  # the source VM
    prepare: str  # step 1's script
    generalize: str  # step 2's script
    definition: str
    command_id: str


LINUX = Os(
    "linux",
    "Linux (Ubuntu 22.04)",
    "Ubuntu2204",
    "linuxVM",
    "apt-get install -y -q nginx > /dev/null && apt-get clean && dpkg -s nginx | grep Status",
    "waagent -deprovision+user -force && truncate -s 0 /etc/machine-id",
    "ubuntu-web",
    "RunShellScript",
)
WINDOWS = Os(
    "windows",
    "Windows Server 2022",
    "Win2022Datacenter",
    "windowsVM",
    'Install-WindowsFeature Web-Server | Out-Null; Remove-Item "$env:TEMP\\*" -Recurse -Force '
    "-ErrorAction SilentlyContinue; 'IIS installed: ' + (Get-WindowsFeature Web-Server).Installed",
    "C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown /quiet",
    "windows-web",
    "RunPowerShellScript",
)
BOTH = (LINUX, WINDOWS)


class DemoFailed(Exception):
    pass


@dataclass
class Ran:
    args: list[str]
    code: int
    out: str
    err: str
    seconds: float


@dataclass
class Demo:
    emu: AzemuServer
    console: Console
    az_path: str
    envs: list[dict[str, str]]
    commands: int = 0
    facts: dict[str, Any] = field(default_factory=lambda: {"linux": {}, "windows": {}})
    steps: list[tuple[str, float]] = field(default_factory=list)

    # the real az, two at a time (one profile each: two az processes must not share one) -----------------
    def az(self, args: Sequence[str], track: int = 0) -> Ran:
        started = time.monotonic()
        done = subprocess.run(
            [self.az_path, *args], env=self.envs[track], capture_output=True, text=True, timeout=600
        )
        return Ran(list(args), done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def run(self, commands: Sequence[Sequence[str]], watch: Sequence[str] = ()) -> list[Ran]:
        """Run az commands side by side (one per profile), showing progress bars while azemu's operations (and
        the gallery versions in ``watch``, per region) are under way; print each command and its result."""
        for args in commands:
            self.console.print(Text("$ az " + " ".join(shlex.quote(a) for a in args), style="bold cyan"))
        with ThreadPoolExecutor(max_workers=len(self.envs)) as pool:
            futures = [pool.submit(self.az, args, i % len(self.envs)) for i, args in enumerate(commands)]
            self._watch(futures, watch)
            results = [f.result() for f in futures]
        self.commands += len(results)
        for r in results:
            self._print(r)
        failed = [r for r in results if r.code != 0]
        if failed:
            raise DemoFailed(f"az {' '.join(failed[0].args[:3])} failed: {failed[0].err.strip()}")
        return results

    def _print(self, r: Ran) -> None:
        words = []
        for a in r.args[:3]:
            if a.startswith("-"):
                break
            words.append(a)
        name = " ".join(words)
        lines = (r.out.strip() or r.err.strip()).splitlines()
        shown = lines[:MAX_LINES] + (
            [f"… ({len(lines) - MAX_LINES} more lines)"] if len(lines) > MAX_LINES else []
        )
        head = Text.assemble(
            ("  ✓ " if r.code == 0 else "  ✗ ", "green" if r.code == 0 else "red"),
            (f"az {name}", "bold"),
            (f"  {r.seconds:.1f} s", "dim"),
        )
        body = Text("\n".join(shown) or "(no output)", style="dim")
        self.console.print(Group(head, Padding(body, (0, 0, 0, 4))))

    def _watch(self, futures: Sequence[Future[Ran]], versions: Sequence[str]) -> None:
        if not self.console.is_terminal:
            for f in futures:
                f.exception()
            return
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            console=self.console,
            transient=True,
        )
        tasks: dict[str, TaskID] = {}
        with progress:
            while not all(f.done() for f in futures):
                try:
                    self._poll(progress, tasks, versions)
                except Exception:  # a progress bar is never worth failing the demo for
                    pass
                time.sleep(0.15)

    def _poll(self, progress: Progress, tasks: dict[str, TaskID], versions: Sequence[str]) -> None:
        now = _ts(self.emu.admin("GET", "/clock")["now"])
        for op in self.emu.admin("GET", "/operations")["value"]:
            if f"/resourcegroups/{RG.lower()}" not in str(op.get("resourceId") or "").lower():
                continue
            start, due = _ts(op.get("startTime")), _ts(op.get("dueTime"))
            total = max(due - start, 0.001)
            done = op.get("endTime") is not None
            if op["name"] not in tasks:
                if done:
                    continue
                label = f"{op['kind']} {str(op.get('resourceId')).rsplit('/', 1)[-1]} (azemu's clock)"
                tasks[op["name"]] = progress.add_task(label, total=total)
            progress.update(tasks[op["name"]], completed=total if done else min(max(now - start, 0), total))
        for vid in versions:
            status, body, _ = self.emu.request(
                "GET", f"{vid}?api-version={GALLERY_API}&$expand=ReplicationStatus"
            )
            if status != 200:
                continue
            for region in (body.get("properties", {}).get("replicationStatus") or {}).get("summary", []):
                key = f"{vid}@{region['region']}"
                if key not in tasks:
                    label = (
                        f"replicate {vid.rsplit('/', 3)[-3]} {vid.rsplit('/', 1)[-1]} → {region['region']}"
                    )
                    tasks[key] = progress.add_task(label, total=100)
                progress.update(tasks[key], completed=int(region.get("progress") or 0))

    # what azemu knows ---------------------------------------------------------------------------------
    def vm_id(self, name: str) -> str:
        return f"/subscriptions/{self.emu.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{name}"

    def version_id(self, definition: str, version: str = "1.0.0") -> str:
        return (
            f"/subscriptions/{self.emu.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/"
            f"{GALLERY}/images/{definition}/versions/{version}"
        )

    def snapshot(self, vm: str) -> dict[str, Any]:
        """A guest's identity (through the admin API, not Run Command) and the VM's power and OS state."""
        q = urllib.parse.urlencode({"vm": self.vm_id(vm)})
        ident = dict(self.emu.admin("GET", f"/guest/identity?{q}"))
        status, reg, _ = self.emu.request(
            "GET",
            "/_azemu/guest/registry?"
            + urllib.parse.urlencode({"vm": self.vm_id(vm), "key": STATE_KEY, "name": "ImageState"}),
        )
        if status == 200:
            ident["imageState"] = reg.get("value")
        _, view, _ = self.emu.request("GET", f"{self.vm_id(vm)}/instanceView?api-version={API}")
        codes = [s.get("code", "") for s in (view or {}).get("statuses", [])]
        ident["power"] = next((c.split("/", 1)[1] for c in codes if c.startswith("PowerState/")), "")
        ident["osState"] = next((c.split("/", 1)[1] for c in codes if c.startswith("OSState/")), "")
        ident["warnings"] = sorted(
            {c.rsplit("/", 1)[1] for c in codes if c.startswith("AzEmu/IdentityConflict/")}
        )
        return ident

    def heading(self, number: str, title: str, text: str) -> None:
        self.console.print()
        self.console.print(Rule(f"[bold]{escape(number)} {escape(title)}[/]", align="left"))
        self.console.print(Text(text, style="italic"))

    def note(self, text: str) -> None:
        self.console.print(Text.from_markup(f"  [yellow]→[/] {text}"))


def _ts(value: str | None) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp() if value else 0.0


# rendering ---------------------------------------------------------------------------------------------------
FIELDS = {
    "linux": [
        ("computer name", "computerName"),
        ("machine-id", "machineId"),
        ("SSH host keys", "sshHostKeys"),
        ("users", "users"),
    ],
    "windows": [
        ("computer name", "computerName"),
        ("machine SID", "sid"),
        ("image state", "imageState"),
        ("users", "users"),
    ],
}
STATE_FIELDS = [("power state", "power"), ("OS state", "osState")]


def _cell(value: Any) -> str:
    if value in (None, "", []):
        return "(none)"
    if isinstance(value, list):
        return "\n".join(_short_key(str(v)) for v in value)
    return str(value)


def _short_key(value: str) -> str:
    """SSH host key fingerprints, shortened (RSA keys made lazily show the seed they will come from)."""
    if value.startswith("SHA256:"):
        return value[:19] + "…"
    if value.startswith("RSA-seed:"):
        return "RSA " + value[9:21] + "…"
    return value


def diff_table(
    title: str,
    os_key: str,
    left: dict[str, Any],
    right: dict[str, Any],
    names: tuple[str, str],
    *,
    same_is_good: bool = False,
    states: bool = False,
) -> Table:
    """Before and after (or source and copy), row by row, each row marked changed or the same."""
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_edge=False)
    t.add_column("")
    t.add_column(names[0])
    t.add_column(names[1])
    t.add_column("")
    for label, key in FIELDS[os_key] + (STATE_FIELDS if states else []):
        a, b = _cell(left.get(key)), _cell(right.get(key))
        same = a == b
        mark = (
            ("[green]same[/]" if same_is_good else "[dim]same[/]")
            if same
            else ("[yellow]changed[/]" if same_is_good else "[green]changed[/]")
        )
        t.add_row(label, a, b if same else f"[bold]{escape(b)}[/]", mark)
    return t


def _fresh(os_key: str, source: dict[str, Any], copy: dict[str, Any]) -> dict[str, bool]:
    """Which identity facts of a VM made from the image differ from its source's (before generalization)."""
    if os_key == "windows":
        return {
            "computerName": source.get("computerName") != copy.get("computerName"),
            "sid": bool(copy.get("sid")) and source.get("sid") != copy.get("sid"),
        }
    keys_a, keys_b = set(source.get("sshHostKeys") or []), set(copy.get("sshHostKeys") or [])
    return {
        "computerName": source.get("computerName") != copy.get("computerName"),
        "machineId": bool(copy.get("machineId")) and source.get("machineId") != copy.get("machineId"),
        "sshHostKeys": bool(keys_b) and not keys_a & keys_b,
    }


def _same(os_key: str, a: dict[str, Any], b: dict[str, Any]) -> dict[str, bool]:
    """Which identity facts a specialized clone shares with its source."""
    keys = ("computerName", "sid") if os_key == "windows" else ("computerName", "machineId", "sshHostKeys")
    return {k: bool(a.get(k)) and a.get(k) == b.get(k) for k in keys}


def _keys(flags: dict[str, bool], wanted: bool) -> str:
    return ", ".join(k for k, v in flags.items() if v is wanted)


def _new_vm_cell(f: dict[str, Any]) -> str:
    if all(f["fresh"].values()):
        return f"{f['newVm']}: fresh identity ({_keys(f['fresh'], True)} new)"
    return f"{f['newVm']}: NOT fresh - {_keys(f['fresh'], False)} kept from {f['sourceVm']}"


def _clone_cell(f: dict[str, Any]) -> str:
    same = (
        f"same identity as {f['newVm']}"
        if all(f["cloneSame"].values())
        else f"differs from {f['newVm']} in {_keys(f['cloneSame'], False)}"
    )
    return f"{f['clone']}: {same}; flagged by azemu: {', '.join(f['cloneConflicts']) or 'nothing'}"


def summary_table(facts: dict[str, Any], wall: float, latency: str, commands: int) -> Table:
    t = Table(
        title=f"Summary - the chapter's walk-through on azemu ({latency} latency, {commands} az commands, "
        f"{wall:.0f} s)",
        box=box.ROUNDED,
        title_justify="left",
        show_lines=True,
    )
    t.add_column("")
    for os_ in BOTH:
        t.add_column(os_.label)
    rows: list[tuple[str, Any]] = [
        ("step 2: inside the guest", lambda f: f["generalizedBy"]),
        (
            "steps 3-4: source VM",
            lambda f: f"{f['sourceVm']}: {f['sourcePower']}, OS state {f['sourceOsState']}",
        ),
        ("step 5: managed image", lambda f: f"{f['image']} ({f['imageGeneration']})"),
        (
            "step 6: gallery version",
            lambda f: "\n".join(
                [
                    f["version"],
                    *(f"{r['region']}: {r['state']}, {r['replicas']} replica(s)" for r in f["regions"]),
                ]
            ),
        ),
        ("a VM from the image", _new_vm_cell),
        ("a specialized clone of it", _clone_cell),
    ]
    for label, render in rows:
        t.add_row(label, *(render(facts[o.key]) for o in BOTH))
    return t


# the walk-through ----------------------------------------------------------------------------------------
def walk_through(d: Demo) -> None:
    c = d.console
    d.heading(
        "0",
        "A resource group and two VMs",
        "The chapter's starting point: a running VM to make an image of - here one Linux and one Windows.",
    )
    d.run(
        [
            [
                "group",
                "create",
                "-n",
                RG,
                "-l",
                "eastus",
                "--query",
                "properties.provisioningState",
                "-o",
                "tsv",
            ]
        ]
    )
    d.run([
        ["vm", "create", "-g", RG, "-n", o.vm, "--image", o.image, "--admin-username", "azureuser",
         "--admin-password", PASSWORD, "--public-ip-address", "", "--nsg", "", "--query", "powerState", "-o", "tsv"]
        for o in BOTH
    ])  # fmt: skip

    d.heading(
        "1",
        "Prepare the source VM",
        "Ensure the source VM is running the latest updates and has all required applications installed. … For Windows, run Disk Cleanup. For Linux, clean package caches.",
    )
    d.run([["vm", "run-command", "invoke", "-g", RG, "-n", o.vm, "--command-id", o.command_id, "--scripts", o.prepare,
            "--query", "value[0].message", "-o", "tsv"] for o in BOTH])  # fmt: skip
    before = {o.key: d.snapshot(o.vm) for o in BOTH}

    d.heading(
        "2",
        "Generalize the OS",
        "For Windows: run `sysprep /generalize /oobe /shutdown` … For Linux: run `sudo waagent -deprovision+user`. This process removes machine-specific identifiers.",
    )
    d.note("Run Command has no terminal: waagent needs [bold]-force[/] (it would wait for y/n), Sysprep [bold]/quiet[/]. "
           "waagent keeps /etc/machine-id, so the Linux script also empties it (clones would share it otherwise).")  # fmt: skip
    d.run([["vm", "run-command", "invoke", "-g", RG, "-n", o.vm, "--command-id", o.command_id, "--scripts", o.generalize,
            "--query", "value[0].message", "-o", "tsv"] for o in BOTH])  # fmt: skip
    after = {o.key: d.snapshot(o.vm) for o in BOTH}
    for o in BOTH:
        c.print(
            diff_table(
                f"What changed inside {o.vm} ({o.label})",
                o.key,
                before[o.key],
                after[o.key],
                ("before", "after"),
                states=True,
            )
        )
    d.note(f"linuxVM is still [bold]{after['linux']['power']}[/]: waagent never shuts down (the chapter says it does). "
           f"windowsVM is [bold]{after['windows']['power']}[/]: Sysprep's /shutdown powers it off, still allocated.")  # fmt: skip
    d.facts["linux"]["generalizedBy"] = (
        "waagent -deprovision+user -force: host name localhost.localdomain, user azureuser deleted; machine-id emptied"
    )
    d.facts["windows"]["generalizedBy"] = (
        f"sysprep /generalize /oobe /shutdown: SID cleared, {after['windows'].get('imageState')}"
    )

    d.heading(
        "3",
        "Deallocate the VM",
        "This releases the hardware lease and stops billing for compute. … This is required before you can mark it as generalized.",
    )
    d.run([["vm", "deallocate", "-g", RG, "-n", o.vm] for o in BOTH])

    d.heading(
        "4",
        "Mark the VM as Generalized",
        "Use `az vm generalize` … This tells Azure that the OS inside the VM has been generalized.",
    )
    d.run([["vm", "generalize", "-g", RG, "-n", o.vm] for o in BOTH])
    for o in BOTH:
        snap = d.snapshot(o.vm)
        d.facts[o.key].update(sourceVm=o.vm, sourcePower=snap["power"], sourceOsState=snap["osState"])
        d.note(
            f"{o.vm}: PowerState/{snap['power']}, OSState/{snap['osState']} (the instance view shows the flag the chapter calls not queryable)"
        )

    d.heading(
        "5", "Capture the Image", "Use `az image create` … to create a managed image from the generalized VM."
    )
    d.note(
        "Both VMs are Gen2: az image create asks for a V1 image unless told, and Azure refuses that - hence --hyper-v-generation V2."
    )
    images = {o.key: f"{o.key}Image" for o in BOTH}
    done = d.run([["image", "create", "-g", RG, "-n", images[o.key], "--source", o.vm, "--hyper-v-generation", "V2",
                   "--query", "{name: name, generation: hyperVGeneration, state: provisioningState}", "-o", "table"]
                  for o in BOTH])  # fmt: skip
    for o, _ in zip(BOTH, done, strict=True):
        d.facts[o.key].update(image=images[o.key], imageGeneration="V2")

    d.heading(
        "6",
        "Distribute via Azure Compute Gallery",
        "Create a gallery, then an image definition … Then create an image version from the managed image. You can replicate the version to multiple regions and set the number of replicas per region.",
    )
    d.run([["sig", "create", "-g", RG, "-r", GALLERY, "--query", "provisioningState", "-o", "tsv"]])
    d.run([["sig", "image-definition", "create", "-g", RG, "-r", GALLERY, "-i", o.definition, "--publisher", "Contoso",
            "--offer", o.definition, "--sku", "1", "--os-type", o.label.split()[0], "--hyper-v-generation", "V2",
            "--query", "{definition: name, os: osType, state: osState}", "-o", "table"] for o in BOTH])  # fmt: skip
    versions = [d.version_id(o.definition) for o in BOTH]
    d.run(
        [["sig", "image-version", "create", "-g", RG, "-r", GALLERY, "-i", o.definition, "-e", "1.0.0",
          "--managed-image", images[o.key], "--target-regions", "eastus", "westeurope=2",
          "--query", "publishingProfile.targetRegions[].{region: name, replicas: regionalReplicaCount}", "-o", "table"]
         for o in BOTH],
        watch=versions,
    )  # fmt: skip
    for o, vid in zip(BOTH, versions, strict=True):
        _, body, _ = d.emu.request("GET", f"{vid}?api-version={GALLERY_API}&$expand=ReplicationStatus")
        props = body["properties"]
        replicas = {
            t["name"]: t.get("regionalReplicaCount", 1) for t in props["publishingProfile"]["targetRegions"]
        }
        d.facts[o.key]["version"] = f"{GALLERY}/{o.definition} 1.0.0"
        d.facts[o.key]["regions"] = [
            {"region": s["region"], "state": s["state"], "replicas": replicas.get(s["region"], 1)}
            for s in props["replicationStatus"]["summary"]
        ]

    d.heading(
        "7",
        "VMs from the image",
        "Each new disc gets its own unique serial number assigned during the first boot (specialization), just like a VM gets a new SID and computer name.",
    )
    new = {o.key: o.vm.replace("VM", "VM2") for o in BOTH}
    d.run([["vm", "create", "-g", RG, "-n", new[o.key], "--image", d.version_id(o.definition), "--admin-username",
            "azureuser", "--admin-password", PASSWORD, "--public-ip-address", "", "--nsg", "",
            "--query", "powerState", "-o", "tsv"] for o in BOTH])  # fmt: skip
    fresh = {o.key: d.snapshot(new[o.key]) for o in BOTH}
    for o in BOTH:
        c.print(
            diff_table(
                f"{o.vm} (before step 2) and {new[o.key]}, made from the image",
                o.key,
                before[o.key],
                fresh[o.key],
                (o.vm, new[o.key]),
            )
        )
        d.facts[o.key].update(newVm=new[o.key], fresh=_fresh(o.key, before[o.key], fresh[o.key]),
                              sourceIdentity=before[o.key], newIdentity=fresh[o.key])  # fmt: skip

    d.heading(
        "8",
        "The contrast: a specialized image",
        "A specialized image retains all the machine-specific information from the source VM, including the computer name, SID … multiple VMs from the same specialized image will have the same SID.",
    )
    d.run([["sig", "image-definition", "create", "-g", RG, "-r", GALLERY, "-i", f"{o.definition}-dr", "--publisher", "Contoso",
            "--offer", o.definition, "--sku", "dr", "--os-type", o.label.split()[0], "--os-state", "Specialized",
            "--hyper-v-generation", "V2", "--query", "{definition: name, state: osState}", "-o", "table"] for o in BOTH])  # fmt: skip
    d.run([["sig", "image-version", "create", "-g", RG, "-r", GALLERY, "-i", f"{o.definition}-dr", "-e", "1.0.0",
            "--virtual-machine", d.vm_id(new[o.key]), "--query", "provisioningState", "-o", "tsv"] for o in BOTH])  # fmt: skip
    clones = {o.key: o.vm.replace("VM", "Clone") for o in BOTH}
    d.run([["vm", "create", "-g", RG, "-n", clones[o.key], "--image", d.version_id(f"{o.definition}-dr"), "--specialized",
            "--admin-username", "azureuser", "--admin-password", PASSWORD, "--public-ip-address", "", "--nsg", "",
            "--query", "powerState", "-o", "tsv"] for o in BOTH])  # fmt: skip
    for o in BOTH:
        clone = d.snapshot(clones[o.key])
        c.print(
            diff_table(
                f"{new[o.key]} and its specialized clone {clones[o.key]}",
                o.key,
                fresh[o.key],
                clone,
                (new[o.key], clones[o.key]),
                same_is_good=True,
            )
        )
        d.note(
            f"{clones[o.key]}'s instance view (az vm get-instance-view) warns: "
            + ", ".join(f"AzEmu/IdentityConflict/{w}" for w in clone["warnings"])
        )
        d.facts[o.key].update(
            clone=clones[o.key],
            cloneIdentity=clone,
            cloneSame=_same(o.key, fresh[o.key], clone),
            cloneConflicts=clone["warnings"],
        )
    found = d.emu.admin("GET", "/identity-conflicts")["value"]
    t = Table(
        title="azemu conflicts (GET /_azemu/identity-conflicts)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        show_edge=False,
    )
    for col in ("kind", "value", "VMs"):
        t.add_column(col)
    for g in found:
        t.add_row(
            g["kind"],
            _short_key(str(g["value"])),
            ", ".join(v.rsplit("/", 1)[-1] for v in g["virtualMachines"]),
        )
    c.print(t)
    d.facts["conflicts"] = found


def run_demo(latency: str, summary_json: Path | None, console: Console) -> dict[str, Any]:
    found = clientenv.find_az() or clientenv.install_az()
    started = time.monotonic()
    console.print(
        Text.from_markup(
            f"[bold]azemu demo[/]: starting a fresh azemu ([bold]{escape(latency)}[/] latency, in memory) …"
        )
    )
    with AzemuServer(latency=latency, ssh_port="off") as emu:
        env = clientenv.ensure_az_login(found.path, emu.data, emu.port)
        first = Path(env["AZURE_CONFIG_DIR"])
        second = first.with_name(first.name + "-b")
        shutil.copytree(first, second, dirs_exist_ok=True)
        console.print(Text(f"azemu on {emu.endpoint}; az: {found.path} ({found.source})", style="dim"))
        d = Demo(emu, console, found.path, [env, {**env, "AZURE_CONFIG_DIR": str(second)}])
        walk_through(d)
        wall = time.monotonic() - started
        summary = {
            "latency": latency,
            "wallSeconds": round(wall, 1),
            "azCommands": d.commands,
            "linux": d.facts["linux"],
            "windows": d.facts["windows"],
            "conflicts": d.facts["conflicts"],
        }
    console.print()
    console.print(summary_table(summary, wall, latency, d.commands))
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary, indent=2))
    return summary


def demo(
    latency: Annotated[
        str, typer.Option(help="instant (the default: nothing waits) | scaled:<factor> | realistic")
    ] = "instant",
    summary_json: Annotated[
        Path | None,
        typer.Option("--summary-json", help="Also write the summary (identities, regions ...) here."),
    ] = None,
) -> None:
    """Run the AZ-104 chapter's walk-through (steps 1-6) against a fresh azemu with the real az CLI, for a Linux
    and a Windows VM: each command and its result, what changed inside the guests, VMs from the image with fresh
    identities, and a specialized clone flagged as a duplicate. `--latency scaled:0.01` shows the waits."""
    try:
        parse_profile(latency)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--latency") from None
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
    try:
        run_demo(latency, summary_json, console)
    except DemoFailed as exc:
        console.print(Panel(escape(str(exc)), title="the demo failed", style="red"))
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    app.command()(demo)

"""The labs: exercises built from the AZ-104 chapter on generalizing and capturing VM images (the seed), each
as data - its story, task, the chapter's words, hints - with a ``start`` that prepares azemu's state (broken
on purpose for the traps) and a ``check`` that reads it.

A newcomer adds a lab by writing one ``Lab(...)`` with its two functions and appending it to ``LABS``; the
tests in tests/cli/test_labs_*.py script the learner's steps with the real az CLI.
"""

from __future__ import annotations

from typing import Any

from azemu.domain import ids
from azemu.domain.kinds import Write
from azemu.domain.policy.effects import RequestDisallowedByPolicy
from azemu.guest.windows import layout as winlayout
from azemu.labs.checks import (
    AZURE_SYSPREP,
    SEED_SYSPREP,
    deallocated,
    image_from,
    linux_deprovisioned,
    machine_id_cleared,
    marked_generalized,
    sysprepped,
)
from azemu.labs.model import Cite, Finding, Lab
from azemu.labs.world import VM_TYPE, Prep, World, image_state, read_text, short

# 1 ---------------------------------------------------------------------------------------------------------


def _start_capture_linux(p: Prep) -> None:
    p.vm("appVM")
    p.run("appVM", "apt-get install -y nginx")


def _check_capture_linux(w: World) -> list[Finding]:
    image = w.image("appImage")
    return [
        linux_deprovisioned(w, "appVM", image),
        deallocated(w, "appVM"),
        marked_generalized(w, "appVM"),
        image_from(w, "appImage", "appVM"),
        machine_id_cleared(w, image),
    ]


CAPTURE_LINUX = Lab(
    id="capture-linux",
    title="Capture a reusable Linux image",
    kind="exercise",
    seed="Walk-Through, steps 2-5; How do I create a Linux image in Azure?",
    quote="Log into the Linux VM, run `sudo waagent -deprovision+user` (or `cloud-init clean`), which removes "
    "machine-specific data and shuts down. Then deallocate the VM, run `az vm generalize`, and capture with "
    "`az image create`.",
    story="appVM is an Ubuntu 22.04 (Gen2) web server with nginx installed, running, provisioned with the "
    "admin user azureuser.",
    task="Turn appVM into a reusable image: generalize its guest the Linux way, deallocate it, mark it "
    "generalized and capture it as the managed image appImage (in lab-capture-linux).",
    hints=(
        "Linux has no Sysprep: the Azure Linux Agent generalizes it - `sudo waagent -deprovision+user`. Run "
        "Command has no terminal to answer its y/n question, so add -force.",
        "az vm run-command invoke -g lab-capture-linux -n appVM --command-id RunShellScript --scripts "
        "'waagent -deprovision+user -force'; then az vm deallocate and az vm generalize (-g lab-capture-linux "
        "-n appVM).",
        "az image create -g lab-capture-linux -n appImage --source appVM --hyper-v-generation V2 (appVM is "
        "Gen2: without the flag az asks for a V1 image and Azure refuses it). To keep clones apart, empty "
        "/etc/machine-id before the capture: truncate -s 0 /etc/machine-id.",
    ),
    start=_start_capture_linux,
    check=_check_capture_linux,
)

# 2 ---------------------------------------------------------------------------------------------------------


def _start_capture_windows(p: Prep) -> None:
    p.vm("webVM", windows=True)
    p.run("webVM", "Install-WindowsFeature Web-Server")


def _check_capture_windows(w: World) -> list[Finding]:
    image = w.image("webImage")
    return [
        sysprepped(w, "webVM", image),
        deallocated(w, "webVM"),
        marked_generalized(w, "webVM"),
        image_from(w, "webImage", "webVM"),
    ]


CAPTURE_WINDOWS = Lab(
    id="capture-windows",
    title="Generalize a Windows VM with Sysprep and capture it",
    kind="exercise",
    seed="Walk-Through, steps 2-5; How do I generalize a Windows VM in Azure?",
    quote="Log into the Windows VM, open an elevated command prompt, and run: `sysprep /generalize /oobe "
    "/shutdown`. This will generalize the OS and shut down the VM. After that, deallocate the VM using Azure CLI "
    "or portal, then run `az vm generalize` to mark it as generalized in Azure. Finally, capture the image with "
    "`az image create`.",
    story="webVM is a Windows Server 2022 (Gen2) VM with IIS installed, running.",
    task="Generalize webVM with Sysprep, deallocate it, mark it generalized and capture it as the managed image "
    "webImage (in lab-capture-windows).",
    hints=(
        "Sysprep is C:\\Windows\\System32\\Sysprep\\sysprep.exe; the chapter's switches are /generalize /oobe "
        "/shutdown (add /quiet: nobody is there to click).",
        "az vm run-command invoke -g lab-capture-windows -n webVM --command-id RunPowerShellScript --scripts "
        "'C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown /quiet'. Sysprep powers the "
        "VM off: that is 'stopped', not deallocated.",
        "az vm deallocate, az vm generalize, then az image create -g lab-capture-windows -n webImage --source "
        "webVM --hyper-v-generation V2.",
    ),
    start=_start_capture_windows,
    check=_check_capture_windows,
)

# 3 ---------------------------------------------------------------------------------------------------------

GALLERY = "webGallery"  # gallery names are unique in a subscription: one per lab
SCALE_GALLERY = "scaleGallery"
DEFINITION = "webServer"
SEED_REPLICATE = (
    'Step 6: "Then create an image version from the managed image. You can replicate the version to multiple '
    'regions and set the number of replicas per region."'
)
AZURE_REPLICATE = (
    "az sig image-version create --target-regions takes region=count per region (--replica-count is the "
    "default for a region given without one, 1 unless set); replication runs per region and a VM in a region "
    "can use the version once that region has completed."
)


def _web_image(p: Prep, vm: str, image: str, *extra: str) -> str:
    """A deprovisioned Ubuntu web server captured into a managed image; the build VM is then deleted."""
    p.vm(vm)
    if extra:
        p.run(vm, *extra)
    p.deprovision_linux(vm)
    rid = p.capture(vm, image)
    p.delete_vm(vm)
    return rid


def _start_publish(p: Prep) -> None:
    old = _web_image(p, "build100", "webImage-1.0.0")
    _web_image(p, "build101", "webImage-1.0.1", "apt-get install -y nginx")
    p.gallery(GALLERY)
    p.definition(GALLERY, DEFINITION)
    p.version(GALLERY, DEFINITION, "1.0.0", old)


def _check_publish(w: World) -> list[Finding]:
    cite = Cite(SEED_REPLICATE, AZURE_REPLICATE)
    v = w.version(GALLERY, DEFINITION, "1.0.1")
    if v is None:
        others = [
            name
            for name in ("1.0.0", "1.0.1", "1.1.0", "2.0.0")
            if w.version(GALLERY, DEFINITION, name) is not None
        ]
        return [
            Finding(
                f"version 1.0.1 of {DEFINITION} exists in {GALLERY}",
                False,
                f"{DEFINITION} has the versions {', '.join(others) or 'none'}; there is no 1.0.1.",
                cite,
            )
        ]
    out = [Finding(f"version 1.0.1 of {DEFINITION} exists in {GALLERY}", True, "1.0.1 exists.", cite)]
    source = short(w.version_source(v))
    out.append(
        Finding(
            "1.0.1 is made from the managed image webImage-1.0.1",
            source.lower() == "webimage-1.0.1",
            f"1.0.1's source is {source or 'missing'}"
            + (
                " - the image of 1.0.0: the new version holds the old build."
                if source == "webImage-1.0.0"
                else "."
            ),
            cite,
        )
    )
    targets = w.target_regions(v)
    out.append(
        Finding(
            "1.0.1 is published to exactly two regions: East US and West Europe",
            set(targets) == {"eastus", "westeurope"},
            f"Its target regions are {', '.join(sorted(targets)) or 'none'}.",
            cite,
        )
    )
    out.append(
        Finding(
            "each of those regions holds two replicas",
            bool(targets) and all(n == 2 for n in targets.values()),
            "Replicas: " + ", ".join(f"{r}={n}" for r, n in sorted(targets.items())) + ".",
            cite,
        )
    )
    status = w.replication(v)
    progress = ", ".join(f"{s['region']} {s['state']} {s['progress']}%" for s in status["summary"])
    out.append(
        Finding(
            "replication has completed in every target region",
            status["aggregatedState"] == "Completed",
            f"Replication is {status['aggregatedState']}: {progress}."
            + (
                ""
                if status["aggregatedState"] != "InProgress"
                else " Wait for it: azemu wait (or azemu wait --advance)."
            ),
            cite,
        )
    )
    latest = {region: w.latest(GALLERY, DEFINITION, region) for region in ("eastus", "westeurope")}
    out.append(
        Finding(
            "'latest' of webServer is 1.0.1 in both regions (a VM made from the definition gets the new build)",
            all(v == "1.0.1" for v in latest.values()),
            "latest: " + ", ".join(f"{r} -> {v or 'none'}" for r, v in latest.items()) + ".",
            Cite(
                'Key components: "Image Version: A specific version of the image … You can have multiple versions '
                '(e.g., 1.0.0, 1.0.1) and replicate them to different regions."',
                "A VM made from the definition's id gets the highest version that is not excluded from latest and "
                "has completed in the VM's region.",
            ),
        )
    )
    return out


PUBLISH = Lab(
    id="publish-version",
    title="Publish version 1.0.1 to two regions with two replicas each",
    kind="exercise",
    seed="Walk-Through, step 6; Azure Compute Gallery",
    quote="Then create an image version from the managed image. You can replicate the version to multiple regions "
    "and set the number of replicas per region. This allows you to deploy VMs quickly in any region with low "
    "latency.",
    story="The gallery webGallery holds the image definition webServer (Linux, generalized, Gen2) with version "
    "1.0.0 in East US. The next build is ready as the managed image webImage-1.0.1.",
    task="Publish webImage-1.0.1 as version 1.0.1 of webServer, replicated to East US and West Europe with two "
    "replicas in each region.",
    hints=(
        "A version's source can be a managed image (--managed-image); each target region takes its own replica "
        "count as region=count.",
        "az sig image-version create -g lab-publish-version -r webGallery -i webServer -e 1.0.1 --managed-image "
        "webImage-1.0.1 --target-regions eastus=2 westeurope=2",
        "Look at it with az sig image-version show -g lab-publish-version -r webGallery -i webServer -e 1.0.1 "
        "--expand ReplicationStatus; under a slow latency profile, wait for replication (azemu wait).",
    ),
    start=_start_publish,
    check=_check_publish,
)

# 4 ---------------------------------------------------------------------------------------------------------

SEED_VMSS = (
    'Interaction with Other Azure Services: "VM Scale Sets: Custom images are often used with VMSS to ensure all '
    "instances are identical. You can reference a managed image or a gallery image version in the VMSS "
    'configuration." Generalized images "Can be used in VMSS and Azure Compute Gallery".'
)


def _start_scale_set(p: Prep) -> None:
    image = _web_image(p, "build", "webImage", "apt-get install -y nginx")
    p.gallery(SCALE_GALLERY)
    p.definition(SCALE_GALLERY, DEFINITION)
    p.version(SCALE_GALLERY, DEFINITION, "1.0.0", image)


def _check_scale_set(w: World) -> list[Finding]:
    cite = Cite(SEED_VMSS)
    found = w.scale_set("webScaleSet")
    requirement = "the scale set webScaleSet exists"
    if found is None:
        return [
            Finding(requirement, False, f"There is no scale set webScaleSet in {w.resource_group}.", cite)
        ]
    rec, members = found
    out = [
        Finding(
            requirement,
            True,
            f"webScaleSet exists ({rec.body['properties'].get('orchestrationMode')}).",
            cite,
        )
    ]
    profile = w.document(rec)["properties"].get("virtualMachineProfile") or {}
    ref = (profile.get("storageProfile") or {}).get("imageReference") or {}
    image = str(ref.get("id") or "")
    wanted = f"/galleries/{SCALE_GALLERY}/images/{DEFINITION}".lower()
    out.append(
        Finding(
            f"its instances are made from the gallery image {DEFINITION} (a version of it, or its latest)",
            wanted in image.lower(),
            f"Its image reference is {image or ref or 'missing'}.",
            cite,
        )
    )
    running = [m for m in members if w.power(m) == "running"]
    out.append(
        Finding(
            "it runs at least two instances",
            len(running) >= 2,
            f"{len(members)} instance(s), {len(running)} running.",
            cite,
        )
    )
    shared = [
        g
        for g in w.conflicts()
        if {m.lower() for m in g["virtualMachines"]} & {m.id.lower() for m in members}
    ]
    out.append(
        Finding(
            "every instance has an identity of its own (a generalized image: each first boot specializes)",
            bool(members) and not shared,
            "No instance shares a computer name, machine-id, SID or SSH host key."
            if not shared
            else "Shared: "
            + "; ".join(f"{g['kind']} {g['value']} by {len(g['virtualMachines'])} VMs" for g in shared),
            Cite(
                '"Specialized images are not recommended for scale sets because they have duplicate SIDs and '
                'computer names, causing conflicts. Use generalized images for scale sets."'
            ),
        )
    )
    return out


SCALE_SET = Lab(
    id="scale-set",
    title="A scale set from your image",
    kind="exercise",
    seed="Interaction with Other Azure Services: VM Scale Sets; Scenario 1",
    quote="Custom images are often used with VMSS to ensure all instances are identical. You can reference a managed "
    "image or a gallery image version in the VMSS configuration.",
    story="scaleGallery's definition webServer has version 1.0.0: a generalized Ubuntu web server with nginx.",
    task="Create the scale set webScaleSet (in lab-scale-set) with two instances made from webServer - its "
    "version 1.0.0, or the definition itself for the latest version.",
    hints=(
        "az vmss create takes a gallery image by resource id: the version's, or the definition's for 'latest'.",
        "Find the id: az sig image-version show -g lab-scale-set -r scaleGallery -i webServer -e 1.0.0 --query id "
        "-o tsv",
        "az vmss create -g lab-scale-set -n webScaleSet --image <that id> --instance-count 2 --admin-username "
        "azureuser --admin-password 'Az3mu!Passw0rd'",
    ),
    start=_start_scale_set,
    check=_check_scale_set,
)

# 5 ---------------------------------------------------------------------------------------------------------

SEED_DR = (
    'Scenario 3: "They stop the VM, do NOT generalize, and capture … This image retains the computer name, SID, '
    'and all application settings. They then deploy new VMs from this image for analysis."'
)
AZURE_DR = (
    "Managed images are generalized-only: a specialized image lives in a gallery, in a definition with "
    "--os-state Specialized, and a version can be made from the VM itself. A VM from it has no osProfile "
    "(az vm create --specialized); az 2.91 still asks for --admin-password for a Windows image and then leaves it "
    "out."
)


def _start_dr(p: Prep) -> None:
    p.vm("sqlVM", windows=True)
    p.run(
        "sqlVM",
        "New-Item -ItemType Directory -Path C:\\SQL -Force | Out-Null",
        "Set-Content -Path C:\\SQL\\instance.ini -Value 'InstanceName=FINANCE01'",
    )
    p.gallery("drGallery")
    ident = p.emu.vms.get(p.vm_id("sqlVM")).internal.get("identity") or {}
    p.facts.update({"sid": ident.get("sid"), "computerName": ident.get("computerName")})


def _check_dr(w: World) -> list[Finding]:
    cite = Cite(SEED_DR, AZURE_DR)
    out: list[Finding] = []
    d = w.definition("drGallery", "sqlServer")
    state = (d.body["properties"].get("osState") if d else None) or ""
    os_type = (d.body["properties"].get("osType") if d else None) or ""
    out.append(
        Finding(
            "drGallery has the image definition sqlServer for specialized Windows images",
            d is not None and state == "Specialized" and os_type == "Windows",
            "There is no definition sqlServer in drGallery."
            if d is None
            else f"sqlServer is {os_type}, {state}"
            + (
                ""
                if state == "Specialized"
                else " - a generalized definition expects a generalized (sysprepped) source."
            ),
            cite,
        )
    )
    sql = w.vm("sqlVM")
    sid = w.facts.get("sid")
    kept = sql is not None and not w.generalized(sql) and w.identity(w.guest(sql)).get("sid") == sid
    out.append(
        Finding(
            "sqlVM itself is not generalized (no Sysprep, no az vm generalize): it stays in service",
            kept,
            "sqlVM keeps its SID and is not marked generalized."
            if kept
            else "sqlVM is gone, marked generalized or sysprepped: the DR copy must not change the original.",
            cite,
        )
    )
    v = w.version("drGallery", "sqlServer", "1.0.0")
    source = short(w.version_source(v)) if v is not None else ""
    out.append(
        Finding(
            "version 1.0.0 of sqlServer is made from sqlVM",
            v is not None and source.lower() == "sqlvm",
            "There is no version 1.0.0 of sqlServer." if v is None else f"1.0.0's source is {source}.",
            cite,
        )
    )
    clone = w.vm("sqlClone")
    if clone is None:
        out.append(Finding("the VM sqlClone runs from that version", False, "There is no VM sqlClone.", cite))
        return out
    made_from = w.source_of(clone)
    out.append(
        Finding(
            "the VM sqlClone runs from that version",
            "/images/sqlserver" in made_from.lower() and w.power(clone) == "running",
            f"sqlClone is {w.power(clone)}, made from {made_from or 'something else than the gallery'}.",
            cite,
        )
    )
    ident = w.identity(w.guest(clone))
    ini = read_text(w.guest(clone), "C:\\SQL\\instance.ini") or ""
    same = (
        ident.get("sid") == sid
        and str(ident.get("computerName", "")).lower() == str(w.facts.get("computerName", "")).lower()
    )
    out.append(
        Finding(
            "sqlClone is an exact replica: sqlVM's computer name, SID and SQL configuration",
            same and "FINANCE01" in ini,
            f"sqlClone's computer name is {ident.get('computerName')}, SID {ident.get('sid')} (sqlVM's: "
            f"{w.facts.get('computerName')}, {sid}); C:\\SQL\\instance.ini "
            + ("names FINANCE01." if "FINANCE01" in ini else "is missing."),
            cite,
        )
    )
    shared = w.conflicts_of(clone)
    out.append(
        Finding(
            "azemu flags the shared identity (expected for a specialized clone)",
            bool(shared),
            "Identity conflicts: "
            + ", ".join(sorted({g["kind"] for g in shared}))
            + " - keep the clone off the original's network and domain; use it for one recovery, not to scale."
            if shared
            else "No conflict reported.",
            Cite(
                'Scenario 3: "multiple VMs from the same specialized image will have the same SID, which can cause '
                'domain join issues. Therefore, specialized images are typically used for single-instance recovery."'
            ),
            advisory=True,
        )
    )
    return out


DR = Lab(
    id="dr-specialized",
    title="Clone a DR server with a specialized image",
    kind="exercise",
    seed="What This Looks Like on the Job, Scenario 3: Disaster Recovery with Specialized Images",
    quote="They cannot use generalized images because the SQL Server configuration and instance names must be "
    "preserved. Instead, they create specialized images from the failed-over VMs.",
    story="sqlVM is a Windows Server 2022 VM running a SQL Server instance configured in C:\\SQL\\instance.ini. "
    "The gallery drGallery is empty.",
    task="Make an exact replica of sqlVM for forensic analysis without generalizing it: an image definition "
    "sqlServer (Windows, specialized) in drGallery, its version 1.0.0 made from sqlVM, and the VM sqlClone made "
    "from that version.",
    hints=(
        "Managed images are generalized-only: a specialized image lives in a gallery definition created with "
        "--os-state Specialized; a version can be made from the VM itself (--virtual-machine).",
        "az sig image-definition create -g lab-dr-specialized -r drGallery -i sqlServer --publisher Contoso "
        "--offer SQL --sku dr --os-type Windows --os-state Specialized --hyper-v-generation V2; then az sig "
        "image-version create -g lab-dr-specialized -r drGallery -i sqlServer -e 1.0.0 --virtual-machine "
        "<sqlVM's id>",
        "az vm create -g lab-dr-specialized -n sqlClone --image <the version's id> --specialized "
        "--admin-username azureuser --admin-password 'Az3mu!Passw0rd' (az asks for them; a specialized VM "
        "ignores them).",
    ),
    start=_start_dr,
    check=_check_dr,
)

# 6: trap 1 --------------------------------------------------------------------------------------------------

TRAP1 = (
    'Trap 1: "Thinking you can capture a running VM: The VM must be deallocated and generalized. Candidates often '
    "try to capture while the VM is running or stopped (not deallocated). The exam will present a scenario where "
    "the VM is 'stopped' but not deallocated - the capture will fail.\""
)


def _start_capture_fails(p: Prep) -> None:
    p.vm("buildVM")
    p.run("buildVM", "apt-get install -y nginx")
    p.deprovision_linux("buildVM")


def _check_capture_fails(w: World) -> list[Finding]:
    image = w.image("buildImage")
    first = deallocated(w, "buildVM")
    first = Finding(first.requirement, first.ok, first.found, Cite(TRAP1, first.cite.azure))
    return [
        first,
        marked_generalized(w, "buildVM"),
        image_from(w, "buildImage", "buildVM"),
        linux_deprovisioned(w, "buildVM", image),
    ]


CAPTURE_FAILS = Lab(
    id="trap-capture-fails",
    title="The capture fails: find out why",
    kind="trap",
    trap=1,
    seed="Common Wrong Answers and Traps, 1: capturing a running VM",
    quote="Thinking you can capture a running VM: The VM must be deallocated and generalized.",
    story="A colleague deprovisioned buildVM inside the guest (waagent -deprovision+user -force, machine-id "
    "emptied) and ran `az image create -g lab-trap-capture-fails -n buildImage --source buildVM`. It failed.",
    task="Run that command yourself, find out from Azure's answer why it fails, put buildVM in the state a "
    "capture needs, and capture buildImage.",
    hints=(
        "Read the error: which state does 'Create Image' require of the VM? Which command sets it?",
        "az vm generalize refuses a running VM ('Please power off explicitly …'). Azure accepts a stopped VM; the "
        "chapter wants it deallocated - stopping keeps the hardware (and the bill).",
        "az vm deallocate -g lab-trap-capture-fails -n buildVM; az vm generalize …; az image create -g "
        "lab-trap-capture-fails -n buildImage --source buildVM --hyper-v-generation V2",
    ),
    start=_start_capture_fails,
    check=_check_capture_fails,
)

# 7: trap 2 --------------------------------------------------------------------------------------------------

TRAP2 = (
    "Trap 2: \"A question might ask which image type to use for scaling out. The wrong answer is 'specialized' "
    "because it seems easier (no Sysprep). But specialized images cause SID conflicts and cannot be used for "
    'multiple identical VMs."'
)
AZURE_TRAP2 = (
    "Azure accepts a specialized image for any number of VMs (and for scale sets): each boots as a clone of the "
    "source, and nothing warns. azemu reports the clones (instance view AzEmu/IdentityConflict/*, azemu "
    "conflicts); --rules textbook refuses a scale set from a specialized image."
)


def _start_specialized_farm(p: Prep) -> None:
    p.vm("tmplVM")
    p.run("tmplVM", "apt-get install -y nginx")
    p.gallery("farmGallery")
    p.definition("farmGallery", "webSpecialized", state="Specialized")
    version = p.version("farmGallery", "webSpecialized", "1.0.0", p.vm_id("tmplVM"))
    p.vm("web1", image_id=version, specialized=True)
    p.vm("web2", image_id=version, specialized=True)


def _check_specialized_farm(w: World) -> list[Finding]:
    cite = Cite(TRAP2, AZURE_TRAP2)
    out: list[Finding] = []
    d = w.definition("farmGallery", "webGeneralized")
    out.append(
        Finding(
            "farmGallery has the definition webGeneralized for generalized Linux images",
            d is not None and d.body["properties"].get("osState") == "Generalized",
            "There is no definition webGeneralized."
            if d is None
            else f"webGeneralized is {d.body['properties'].get('osState')}.",
            cite,
        )
    )
    v = w.version("farmGallery", "webGeneralized", "1.0.0")
    if v is None:
        out.append(Finding("webGeneralized has a version 1.0.0", False, "There is no version 1.0.0.", cite))
    else:
        out.append(linux_deprovisioned(w, short(w.version_source(v)) or "its source", v))
    for name in ("web3", "web4"):
        rec = w.vm(name)
        made_from = w.source_of(rec) if rec is not None else ""
        out.append(
            Finding(
                f"{name} runs from webGeneralized",
                rec is not None
                and "/images/webgeneralized" in made_from.lower()
                and w.power(rec) == "running",
                f"There is no VM {name}."
                if rec is None
                else f"{name} is {w.power(rec)}, made from {made_from or 'a platform image'}.",
                cite,
            )
        )
    left = [n for n in ("web1", "web2") if w.vm(n) is not None]
    out.append(
        Finding(
            "the clones web1 and web2 are gone from the farm",
            not left,
            f"Still there: {', '.join(left)}." if left else "web1 and web2 are deleted.",
            cite,
        )
    )
    shared = w.conflicts()
    out.append(
        Finding(
            "no two VMs of the farm share an identity",
            not shared,
            "No shared computer name, machine-id or SSH host key."
            if not shared
            else "; ".join(
                f"{g['kind']} {g['value']} shared by {', '.join(short(m) for m in g['virtualMachines'])}"
                for g in shared
            )
            + (
                " - waagent -deprovision keeps /etc/machine-id: empty it before the capture."
                if any(g["kind"] == "machineId" for g in shared)
                else ""
            ),
            cite,
        )
    )
    return out


SPECIALIZED_FARM = Lab(
    id="trap-specialized-farm",
    title="Scaling out from a specialized image",
    kind="trap",
    trap=2,
    seed="Common Wrong Answers and Traps, 2: confusing generalized and specialized",
    quote="But specialized images cause SID conflicts and cannot be used for multiple identical VMs.",
    story="To save time, the web farm was built from a specialized image: farmGallery/webSpecialized 1.0.0, taken "
    "from tmplVM without generalizing it. web1 and web2 run from it - run azemu conflicts.",
    task="Rebuild the farm the right way: a definition webGeneralized (Linux, generalized) in farmGallery whose "
    "version 1.0.0 comes from tmplVM properly generalized, the VMs web3 and web4 from it, and web1 and web2 "
    "deleted. No two VMs of the lab may share an identity.",
    hints=(
        "A generalized image needs a generalized guest: deprovision tmplVM (waagent -deprovision+user -force) and "
        "empty its /etc/machine-id (waagent keeps it), then deallocate and generalize it.",
        "az sig image-definition create -g lab-trap-specialized-farm -r farmGallery -i webGeneralized --publisher "
        "Contoso --offer Web --sku gen --os-type Linux --hyper-v-generation V2; az sig image-version create … -i "
        "webGeneralized -e 1.0.0 --virtual-machine <tmplVM's id>",
        "az vm create … -n web3 --image <the version's id> --admin-username azureuser --admin-password "
        "'Az3mu!Passw0rd' (and web4); az vm delete -g lab-trap-specialized-farm -n web1 --yes (and web2).",
    ),
    start=_start_specialized_farm,
    check=_check_specialized_farm,
)

# 8: trap 3 --------------------------------------------------------------------------------------------------

TRAP3 = (
    'Trap 3: "The exam may describe a candidate who ran az vm generalize but did not run Sysprep inside the VM. '
    "The image will be created but the resulting VMs will not go through OOBE and may have incorrect "
    'configuration." FAQ: "they will not go through OOBE and may have duplicate SIDs and computer names".'
)
AZURE_TRAP3 = (
    "Azure cannot tell: the generalize flag is metadata, and marking a never-sysprepped VM generalized is "
    "accepted; Azure does not report duplicate SIDs either. azemu does (AzEmu/IdentityConflict/sid in the "
    "instance view, azemu conflicts)."
)


def _start_shared_sid(p: Prep) -> None:
    p.vm("baseVM", windows=True)
    p.run("baseVM", "Install-WindowsFeature Web-Server")
    image = p.capture("baseVM", "baseImage")  # no Sysprep: the mistake of trap 3
    p.vm("app1", image_id=image, may_fail=True)  # OSProvisioningTimedOut: the guest never went through OOBE
    p.vm("app2", image_id=image, may_fail=True)
    p.facts["sid"] = (p.emu.vms.get(p.vm_id("app1")).internal.get("identity") or {}).get("sid")


def _check_shared_sid(w: World) -> list[Finding]:
    cite = Cite(TRAP3, AZURE_TRAP3)
    out: list[Finding] = []
    base = w.image("baseImage")
    base_guest = w.image_guest(base) if base is not None else None
    out.append(
        Finding(
            "why: baseImage was captured without Sysprep",
            True,
            f"baseImage's guest: ImageState {image_state(base_guest) or 'unknown'}, machine SID "
            f"{w.identity(base_guest).get('sid') or 'cleared'} - Sysprep never ran, so every VM made from it "
            "keeps baseVM's SID; az vm generalize only set Azure's flag.",
            cite,
            advisory=True,
        )
    )
    gold = w.image("goldImage")
    if gold is None:
        out.append(
            Finding("goldImage is captured from a sysprepped VM", False, "There is no image goldImage.", cite)
        )
    else:
        done = sysprepped(w, short(w.image_source_vm(gold)), gold)
        out.append(
            Finding(
                "goldImage is captured from a sysprepped VM",
                done.ok,
                done.found,
                Cite(SEED_SYSPREP, AZURE_SYSPREP),
            )
        )
    app3 = w.vm("app3")
    if app3 is None:
        out.append(
            Finding("app3 runs from goldImage with a SID of its own", False, "There is no VM app3.", cite)
        )
    else:
        sid = w.identity(w.guest(app3)).get("sid")
        shared = [g for g in w.conflicts_of(app3) if g["kind"] == "sid"]
        ok = (
            short(w.source_of(app3)).lower() == "goldimage"
            and w.power(app3) == "running"
            and w.agent_ready(app3)
            and bool(sid)
            and not shared
        )
        out.append(
            Finding(
                "app3 runs from goldImage with a SID of its own",
                ok,
                f"app3 is {w.power(app3)}, made from {short(w.source_of(app3)) or 'a platform image'}, agent "
                f"{'Ready' if w.agent_ready(app3) else 'Not Ready'}, SID {sid}"
                + (
                    f", shared with {', '.join(short(m) for g in shared for m in g['virtualMachines'] if m != app3.id)}."
                    if shared
                    else ", unique."
                ),
                cite,
            )
        )
    out.append(
        Finding(
            "app2, the duplicate, is deleted",
            w.vm("app2") is None,
            "app2 still runs with app1's SID." if w.vm("app2") is not None else "app2 is gone.",
            cite,
        )
    )
    return out


SHARED_SID = Lab(
    id="trap-shared-sid",
    title="Why do these two VMs share a SID?",
    kind="trap",
    trap=3,
    seed="Common Wrong Answers and Traps, 3: forgetting to run Sysprep before capturing",
    quote="The exam may describe a candidate who ran az vm generalize but did not run Sysprep inside the VM.",
    story="app1 and app2 were made from the managed image baseImage. They share a machine SID: a domain would "
    "refuse the second one. Look with azemu conflicts, or az vm get-instance-view.",
    task="Find out why (the instance view and the image say it). Then make the image goldImage the right way - "
    "from a VM you Sysprep first (app1 will do) - create app3 from it, and delete app2.",
    hints=(
        "Read baseImage's guest: azemu guest reg --vm lab-trap-shared-sid/app1 'HKLM\\SOFTWARE\\Microsoft\\Windows"
        "\\CurrentVersion\\Setup\\State' ImageState says whether Sysprep ever ran. az vm generalize only sets a "
        "flag in Azure.",
        "Sysprep app1: az vm run-command invoke -g lab-trap-shared-sid -n app1 --command-id RunPowerShellScript "
        "--scripts 'C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown /quiet'; then "
        "deallocate, generalize and az image create -n goldImage --source app1 --hyper-v-generation V2.",
        "az vm create -g lab-trap-shared-sid -n app3 --image goldImage --admin-username azureuser "
        "--admin-password 'Az3mu!Passw0rd'; az vm delete -g lab-trap-shared-sid -n app2 --yes",
    ),
    start=_start_shared_sid,
    check=_check_shared_sid,
)

# 9: trap 4 --------------------------------------------------------------------------------------------------

TRAP4 = (
    'Trap 4: "Assuming Linux uses Sysprep: Linux uses waagent or cloud-init, not Sysprep. The exam may list '
    "'Sysprep' as an option for Linux - that is incorrect.\""
)
RUNBOOK = "/root/generalize.sh"


def _start_sysprep_linux(p: Prep) -> None:
    p.vm("linuxVM")
    p.run(
        "linuxVM",
        f"cat > {RUNBOOK} <<'EOF'",
        "#!/bin/bash",
        "# Generalize before capture (copied from the Windows team's runbook)",
        "set -e",
        "sysprep /generalize /oobe /shutdown",
        "EOF",
        f"chmod 755 {RUNBOOK}",
    )


def _commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _check_sysprep_linux(w: World) -> list[Finding]:
    cite = Cite(TRAP4, "There is no sysprep on Linux: `bash: line 4: sysprep: command not found` (exit 127).")
    image = w.image("linuxImage")
    rec = w.vm("linuxVM")
    guest = w.image_guest(image) if image is not None else (w.guest(rec) if rec is not None else None)
    text = read_text(guest, RUNBOOK)
    lines = _commands(text or "")
    uses_sysprep = [line for line in lines if "sysprep" in line.lower()]
    linux_tool = [
        line for line in lines if ("waagent" in line and "-deprovision" in line) or "cloud-init clean" in line
    ]
    if text is None:
        runbook = Finding(f"{RUNBOOK} generalizes the Linux way", False, f"{RUNBOOK} is gone.", cite)
    elif uses_sysprep:
        runbook = Finding(
            f"{RUNBOOK} generalizes the Linux way",
            False,
            f"{RUNBOOK} still runs '{uses_sysprep[0]}': on Linux that is 'sysprep: command not found' (exit 127).",
            cite,
        )
    else:
        runbook = Finding(
            f"{RUNBOOK} generalizes the Linux way",
            bool(linux_tool),
            f"{RUNBOOK} runs '{linux_tool[0]}'."
            if linux_tool
            else f"{RUNBOOK} runs neither waagent -deprovision nor cloud-init clean.",
            cite,
        )
    return [
        runbook,
        linux_deprovisioned(w, "linuxVM", image),
        deallocated(w, "linuxVM"),
        marked_generalized(w, "linuxVM"),
        image_from(w, "linuxImage", "linuxVM"),
    ]


SYSPREP_LINUX = Lab(
    id="trap-sysprep-on-linux",
    title="The runbook runs Sysprep on Linux",
    kind="trap",
    trap=4,
    seed="Common Wrong Answers and Traps, 4: assuming Linux uses Sysprep",
    quote="Assuming Linux uses Sysprep: Linux uses waagent or cloud-init, not Sysprep.",
    story="linuxVM (Ubuntu 22.04) has the team's generalize runbook, /root/generalize.sh, copied from the Windows "
    "team. Run it: `az vm run-command invoke -g lab-trap-sysprep-on-linux -n linuxVM --command-id RunShellScript "
    "--scripts 'bash /root/generalize.sh'`.",
    task="Fix /root/generalize.sh so that it generalizes a Linux VM, run it, then deallocate linuxVM, mark it "
    "generalized and capture it as linuxImage.",
    hints=(
        "What generalizes Linux is the Azure Linux Agent (waagent -deprovision+user) or cloud-init clean; "
        "Sysprep is Windows-only.",
        "Rewrite the runbook through Run Command, e.g. --scripts \"sed -i 's|^sysprep .*|waagent -deprovision+user "
        '-force|\' /root/generalize.sh" "bash /root/generalize.sh" (-force: Run Command cannot answer y/n).',
        "az vm deallocate / az vm generalize -g lab-trap-sysprep-on-linux -n linuxVM; az image create -g "
        "lab-trap-sysprep-on-linux -n linuxImage --source linuxVM --hyper-v-generation V2",
    ),
    start=_start_sysprep_linux,
    check=_check_sysprep_linux,
)

# 10: trap 5 -------------------------------------------------------------------------------------------------

TRAP5 = (
    "Trap 5: \"Overlooking the 'Automatically delete' checkbox: The exam may ask what happens if you check that "
    'box - the source VM is deleted after image creation. If you need to keep the source, uncheck it."'
)
AZURE_TRAP5 = (
    "The checkbox is the portal's ('Automatically delete this virtual machine after creating the image'): the "
    "API and az image create never delete the source. In azemu it is `azemu capture` (POST /_azemu/capture) and "
    "the portal's Capture blade: the image first, then the VM; --keep-vm unticks it."
)


def _start_auto_delete(p: Prep) -> None:
    for vm in ("keepVM", "tempVM"):
        p.vm(vm)
        p.deprovision_linux(vm)
        p.power(vm, "deallocate")
        p.generalize(vm)


def _check_auto_delete(w: World) -> list[Finding]:
    cite = Cite(TRAP5, AZURE_TRAP5)
    keep_vm = w.vm("keepVM")
    temp_vm = w.vm("tempVM")
    keep = image_from(w, "keepImage", "keepVM")
    temp = image_from(w, "tempImage", "tempVM")
    return [
        Finding(keep.requirement, keep.ok, keep.found, cite),
        Finding(
            "keepVM is kept (captured with the box unticked)",
            keep_vm is not None,
            "keepVM is still there."
            if keep_vm is not None
            else "keepVM is gone: it was captured with automatic "
            "deletion (azemu capture without --keep-vm), or deleted.",
            cite,
        ),
        Finding(temp.requirement, temp.ok, temp.found, cite),
        Finding(
            "tempVM is deleted after its image was made (the box ticked)",
            temp_vm is None and temp.ok,
            "tempVM is deleted."
            if temp_vm is None
            else "tempVM still exists: az image create never deletes the "
            "source - capture it with automatic deletion (azemu capture --vm lab-trap-auto-delete/tempVM --image "
            "tempImage).",
            cite,
        ),
    ]


AUTO_DELETE = Lab(
    id="trap-auto-delete",
    title="Where did the source VM go? The 'Automatically delete' box",
    kind="trap",
    trap=5,
    seed="Common Wrong Answers and Traps, 5: overlooking the 'Automatically delete' checkbox",
    quote="Optionally, check 'Automatically delete this VM after creating the image' if you no longer need the "
    "source.",
    story="keepVM and tempVM are generalized Ubuntu VMs, deprovisioned, deallocated and marked generalized.",
    task="Capture keepVM as keepImage and keep keepVM (the team debugs it later). Capture tempVM as tempImage "
    "with the portal's 'Automatically delete this virtual machine after creating the image' ticked, so that "
    "tempVM is deleted once its image exists.",
    hints=(
        "The box is a portal feature; azemu's command for it is azemu capture (the VM is deleted unless "
        "--keep-vm). az image create never deletes anything.",
        "azemu capture --vm lab-trap-auto-delete/tempVM --image tempImage",
        "az image create -g lab-trap-auto-delete -n keepImage --source keepVM --hyper-v-generation V2 (or azemu "
        "capture --vm lab-trap-auto-delete/keepVM --image keepImage --keep-vm)",
    ),
    start=_start_auto_delete,
    check=_check_auto_delete,
)

# 11 ---------------------------------------------------------------------------------------------------------

SEED_ADDS = (
    'Sysprep on Windows: "not all images (e.g., those with certain roles or apps) can be generalized. The exam '
    'may test that you cannot generalize a VM that has Active Directory Domain Services installed." Scenario 1: '
    '"A common misconfiguration is forgetting to disable Windows Defender real-time scanning during Sysprep, '
    'which can cause the process to hang."'
)
AZURE_ADDS = (
    "Sysprep refuses a server with the AD DS role ('Sysprep is not supported for this server role'). With "
    "real-time protection on, a running Defender scan holds files Sysprep needs: it waits 30 minutes, then fails "
    "('Timed out after 30 minutes waiting for SysprepGeneralizeValidate'). A stock image with no scan running "
    "generalizes with Defender on - Microsoft's guide does not ask to turn it off."
)


def _start_sysprep_fails(p: Prep) -> None:
    p.vm("appServer", windows=True)
    p.run(
        "appServer",
        "Install-WindowsFeature AD-Domain-Services | Out-Null",
        "Start-MpScan -ScanType FullScan -AsJob | Out-Null",
    )


def _check_sysprep_fails(w: World) -> list[Finding]:
    cite = Cite(SEED_ADDS, AZURE_ADDS)
    image = w.image("appImage")
    rec = w.vm("appServer")
    guest = w.image_guest(image) if image is not None else (w.guest(rec) if rec is not None else None)
    role = guest is not None and winlayout.feature_installed(guest, "AD-Domain-Services")
    done = sysprepped(w, "appServer", image)
    return [
        Finding(
            "the AD DS role is removed from appServer",
            guest is not None and not role,
            "AD-Domain-Services is still installed." if role else "AD-Domain-Services is not installed.",
            cite,
        ),
        Finding(done.requirement, done.ok, done.found, cite),
        deallocated(w, "appServer"),
        marked_generalized(w, "appServer"),
        image_from(w, "appImage", "appServer"),
    ]


SYSPREP_FAILS = Lab(
    id="sysprep-fails",
    title="Sysprep fails: find out why",
    kind="trap",
    seed="Edge Cases (Sysprep failure); Sysprep on Windows; Scenario 1's Defender misconfiguration",
    quote="If Sysprep fails, the VM may be in an inconsistent state.",
    story="The image team's Sysprep on appServer (Windows Server 2022) keeps failing. Sysprep writes its reasons "
    "to C:\\Windows\\System32\\Sysprep\\Panther\\setuperr.log.",
    task="Run Sysprep (/generalize /oobe /shutdown /quiet), read why it fails, fix each cause inside the guest "
    "until it succeeds, then deallocate appServer, mark it generalized and capture it as appImage.",
    hints=(
        "Read the log after each attempt: azemu guest cat 'C:\\Windows\\System32\\Sysprep\\Panther\\setuperr.log' "
        "--vm lab-sysprep-fails/appServer",
        "One cause is a server role Sysprep does not support: Uninstall-WindowsFeature AD-Domain-Services. "
        "Another is Microsoft Defender: a full scan is running with real-time protection on.",
        "In one Run Command: Set-MpPreference -DisableRealtimeMonitoring $true; then "
        "C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown /quiet.",
    ),
    start=_start_sysprep_fails,
    check=_check_sysprep_fails,
)


# 12 --------------------------------------------------------------------------------------------------------

APPROVED_GALLERY = "corpGallery"
SEED_POLICY = (
    'Interaction with Other Azure Services: "Azure Policy: You can enforce that only approved images from a gallery '
    'are used to create VMs." Scenario 1: "Using Azure Policy, they mandate that all web VMs must use this image '
    'version."'
)
AZURE_POLICY = (
    "A policy rule on the VM's image (the alias Microsoft.Compute/imageId, or imagePublisher/imageOffer for "
    "marketplace images) with the effect deny refuses the PUT with 403 RequestDisallowedByPolicy; az vm create "
    "sees it in the deployment's preflight. An assignment applies to its scope and everything below it."
)
# what the learner's VMs would send: a marketplace image, and the approved gallery's (version and latest)
_MARKETPLACE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}


def _start_approved(p: Prep) -> None:
    image = _web_image(p, "build", "webImage", "apt-get install -y nginx")
    p.gallery(APPROVED_GALLERY)
    p.definition(APPROVED_GALLERY, DEFINITION)
    p.version(APPROVED_GALLERY, DEFINITION, "1.0.0", image)


def _vm_body(image: dict[str, str]) -> dict[str, Any]:
    return {
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
            "storageProfile": {"imageReference": image},
            "osProfile": {"computerName": "probe", "adminUsername": "azureuser"},
        },
    }


def _refusal(w: World, image: dict[str, str]) -> str | None:
    """The error policy gives a VM made from ``image`` in the lab's group (None: admitted)."""
    try:
        w.emu.kinds.admit(Write(w.vm_id("policyProbe"), _vm_body(image), w.tenant, api_version="2024-11-01"))
    except RequestDisallowedByPolicy as e:
        return f"{e.code}: {e.message}"
    return None


def _check_approved(w: World) -> list[Finding]:
    cite = Cite(SEED_POLICY, AZURE_POLICY)
    vm_kind = w.emu.kinds.require(VM_TYPE)
    deny = [
        c
        for c in w.emu.policy.applicable(vm_kind.spec, ids.key_of(w.vm_id("policyProbe")))
        if c.effect == "deny"
    ]
    names = sorted({str(c.assignment.get("name", "")) for c in deny})
    enforced = [c for c in deny if c.enforce]
    out = [
        Finding(
            f"a policy with the effect deny is assigned to {w.resource_group} (or above it) and enforced",
            bool(enforced),
            f"Enforced deny assignments over {w.resource_group}: {', '.join(names)}."
            if enforced
            else (
                f"{', '.join(names)} deny but are not enforced (enforcementMode DoNotEnforce)."
                if deny
                else f"No assignment with a deny policy covers {w.resource_group}."
            ),
            cite,
        )
    ]
    marketplace = _refusal(w, _MARKETPLACE)
    out.append(
        Finding(
            "a VM from a marketplace image (Ubuntu) in this group is refused",
            marketplace is not None,
            f"Refused: {marketplace}" if marketplace else "Policy lets a VM from Canonical's Ubuntu through.",
            cite,
        )
    )
    approved = [
        w.version_id(APPROVED_GALLERY, DEFINITION, "1.0.0"),
        w.definition_id(APPROVED_GALLERY, DEFINITION),
    ]
    refused = {rid: _refusal(w, {"id": rid}) for rid in approved}
    bad = {short(rid): why for rid, why in refused.items() if why}
    out.append(
        Finding(
            f"a VM from {APPROVED_GALLERY}'s {DEFINITION} (version 1.0.0, or the definition for the latest) is allowed",
            not bad,
            "Both are admitted."
            if not bad
            else "; ".join(f"{name} is refused too - {why}" for name, why in bad.items())
            + " The rule must let the approved gallery's images through.",
            cite,
        )
    )
    vm = w.vm("webVM")
    made_from = w.source_of(vm) if vm is not None else ""
    ok = (
        vm is not None
        and f"/galleries/{APPROVED_GALLERY.lower()}/" in made_from.lower()
        and w.power(vm) == "running"
    )
    out.append(
        Finding(
            f"the VM webVM runs from {APPROVED_GALLERY}'s {DEFINITION}",
            ok,
            "There is no VM webVM."
            if vm is None
            else f"webVM is {w.power(vm)}, made from {made_from or 'something else than the gallery'}.",
            cite,
        )
    )
    return out


APPROVED_IMAGES = Lab(
    id="approved-images-policy",
    title="Only approved images: write the policy",
    kind="exercise",
    seed="Interaction with Other Azure Services: Azure Policy; Scenario 1",
    quote="Azure Policy: You can enforce that only approved images from a gallery are used to create VMs.",
    story="The image team publishes golden images in corpGallery (webServer 1.0.0 is there). Teams in "
    "lab-approved-images-policy keep creating VMs from marketplace images instead.",
    task="Write a policy definition that denies virtual machines whose image is not from corpGallery, assign it "
    "to the resource group lab-approved-images-policy, then create the VM webVM from webServer (az vm create).",
    hints=(
        "The rule: if the type is Microsoft.Compute/virtualMachines and the field Microsoft.Compute/imageId does "
        "not contain '/galleries/corpGallery/', then deny. A marketplace image has no imageId at all.",
        "az policy definition create -n approved-images --mode Indexed --rules "
        '\'{"if":{"allOf":[{"field":"type","equals":"Microsoft.Compute/virtualMachines"},{"not":{"field":'
        '"Microsoft.Compute/imageId","contains":"/galleries/corpGallery/"}}]},"then":{"effect":"deny"}}\'',
        "az policy assignment create -n approved-images --policy approved-images --scope $(az group show -n "
        "lab-approved-images-policy --query id -o tsv); then az vm create with --image set to webServer's id (az sig "
        "image-definition show … --query id).",
    ),
    start=_start_approved,
    check=_check_approved,
)


LABS: tuple[Lab, ...] = (
    CAPTURE_LINUX,
    CAPTURE_WINDOWS,
    PUBLISH,
    SCALE_SET,
    DR,
    CAPTURE_FAILS,
    SPECIALIZED_FARM,
    SHARED_SID,
    SYSPREP_LINUX,
    AUTO_DELETE,
    SYSPREP_FAILS,
    APPROVED_IMAGES,
)

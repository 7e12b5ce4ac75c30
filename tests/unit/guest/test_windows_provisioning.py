"""First boot with Azure's answer file, never-sysprepped disks, the OOBE trap, ordinary boots."""

from __future__ import annotations

import base64
import re

from azemu.guest.machine import ExecContext, Guest, OsProfile
from azemu.guest.windows import DISTROS, base_guest, boot, first_boot, identity, run_powershell
from azemu.guest.windows import layout as L

NOW = 1_764_000_000.0
CTX = ExecContext(NOW, "00000000-0000-0000-0000-000000000002", "vm2")
PROFILE = OsProfile("web-01", "azureuser", "Sup3r-Secret!", custom_data=base64.b64encode(b"hello").decode())


def test_base_images() -> None:
    for distro in DISTROS:
        g = base_guest(distro, NOW)
        ident = identity(g)
        assert ident["imageState"] == L.GENERALIZE_OOBE
        assert re.fullmatch(r"WIN-[A-Z0-9]{11}", ident["computerName"])
        assert re.fullmatch(r"S-1-5-21-\d+-\d+-\d+", ident["sid"])
        assert ident["users"] == [] and ident["domain"] is None
        assert g.fs.is_file(r"c:\windows\system32\SYSPREP\Sysprep.exe")
        assert g.fs.is_file(r"C:\Windows\System32\Sysprep\ActionFiles\Generalize.xml")
        assert L.realtime_on(g) and not L.bitlocker_on(g)
    builds = {d: L.reg(base_guest(d, NOW)).get(L.K_NT_CV, "CurrentBuild") for d in DISTROS}
    assert builds == {
        "windows-2016": "14393",
        "windows-2019": "17763",
        "windows-2022": "20348",
        "windows-2025": "26100",
    }
    assert base_guest("windows-2022", NOW).to_dict()["registry"]  # serialisable


def test_first_boot_from_generalized_image() -> None:
    g = base_guest("windows-2022", NOW)
    base_sid = identity(g)["sid"]
    r = first_boot(g, PROFILE, CTX)
    assert r.agent_ready and not r.oobe
    ident = identity(g)
    assert ident["sid"] != base_sid and ident["sid"]
    assert ident["computerName"] == "web-01"
    assert ident["netbiosName"] == "WEB-01"
    assert ident["users"] == ["azureuser"]
    assert ident["imageState"] == L.COMPLETE
    assert "ImageState=IMAGE_STATE_COMPLETE" in g.fs.read_text(L.STATE_INI)
    assert L.reg(g).get(L.K_SETUP, "SetupType") == 0 and L.reg(g).get(L.K_SETUP, "CmdLine") == ""
    assert "azureuser" in L.group_members(g, "Administrators")
    assert g.fs.read(r"C:\AzureData\CustomData.bin") == b"hello"
    assert g.fs.is_file(r"C:\Windows\Panther\setupact.log")
    assert g.fs.is_file(r"C:\Windows\Panther\UnattendGC\setupact.log")


def test_two_vms_from_one_image_get_different_sids() -> None:
    g = base_guest("windows-2022", NOW)
    a, b = g.copy(), g.copy()
    first_boot(a, PROFILE, CTX)
    first_boot(b, PROFILE, CTX)
    assert identity(a)["sid"] != identity(b)["sid"]


def test_long_computer_name_netbios_is_15_chars() -> None:
    g = base_guest("windows-2025", NOW)
    first_boot(g, OsProfile("averyveryverylongname", "azureuser", "Sup3r-Secret!"), CTX)
    assert identity(g)["netbiosName"] == "AVERYVERYVERYLO"


def _deployed() -> Guest:
    g = base_guest("windows-2022", NOW)
    first_boot(g, OsProfile("srcvm", "srcadmin", "Sup3r-Secret!"), CTX)
    return g


def test_first_boot_on_never_sysprepped_disk_times_out() -> None:
    g = _deployed()  # az vm generalize without sysprep: the disk is still IMAGE_STATE_COMPLETE
    before = identity(g)
    r = first_boot(g, PROFILE, CTX)
    after = identity(g)
    assert after["sid"] == before["sid"]
    assert after["computerName"] == "srcvm"
    assert "azureuser" not in after["users"] and after["users"] == ["srcadmin"]
    assert r.agent_ready
    assert any(
        "did not finish in the allotted time. However, the VM guest agent was detected running" in m
        for m in r.messages
    )


def test_boot_of_sysprepped_disk_without_answer_file_stops_at_oobe() -> None:
    g = _deployed()
    run_powershell(
        g,
        [r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown"],
        [],
        CTX,
    )
    old = identity(g)
    r = boot(g, CTX)
    assert not r.agent_ready and r.oobe
    new = identity(g)
    assert new["sid"] and new["sid"] != old["sid"]
    assert re.fullmatch(r"WIN-[A-Z0-9]{11}", new["computerName"])
    assert new["imageState"] == L.SPECIALIZE_OOBE
    again = boot(g, CTX)  # still at OOBE
    assert not again.agent_ready and again.oobe
    assert identity(g)["sid"] == new["sid"]


def test_normal_boot_keeps_identity_and_applies_pending_rename() -> None:
    g = _deployed()
    before = identity(g)
    r = boot(g, CTX)
    assert r.agent_ready and identity(g) == before
    out = run_powershell(g, ["Rename-Computer -NewName app-02 -Force"], [], CTX)
    assert "WARNING: The changes will take effect after you restart the computer SRCVM." in out.stdout
    assert identity(g)["computerName"] == "srcvm"
    boot(g, CTX)
    assert identity(g)["computerName"] == "app-02" and identity(g)["netbiosName"] == "APP-02"
    assert identity(g)["sid"] == before["sid"]


def test_cdrom_disabled_hangs_at_oobe() -> None:
    g = base_guest("windows-2022", NOW)
    L.reg(g).set(L.K_CDROM, "Start", 4)
    r = first_boot(g, PROFILE, CTX)
    assert not r.agent_ready and r.oobe
    assert identity(g)["users"] == []

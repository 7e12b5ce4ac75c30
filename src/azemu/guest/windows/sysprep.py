"""``%WINDIR%\\System32\\Sysprep\\sysprep.exe`` (facts section 3).

``run_sysprep(guest, args, ctx)`` validates the switches, logs to ``Sysprep\\Panther\\setupact.log`` (and
``setuperr.log`` on failure), checks the preconditions and, on success, leaves the disk generalized.

Log lines marked [facts] are quoted from generalization_facts.md; lines marked [mem] are plausible wording
that was not checked against a real Windows log.

Simplifications: the run is synchronous (the caller decides whether the script waited for it); the only
server role refused is AD DS (facts: "not supported for the AD DS role (domain controllers)").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from azemu.guest.machine import ExecContext, ExecResult, Guest
from azemu.guest.windows import layout as L

SWITCHES = ("oobe", "audit", "generalize", "reboot", "shutdown", "quit", "quiet", "mode:vm")
REARM_LIMIT = 1001
HANG_SECONDS = 1800.0

VALIDATE_DIALOG = (
    "Sysprep was not able to validate your Windows installation. Review the log file at "
    r"%WINDIR%\System32\Sysprep\Panther\setupact.log for details. After resolving the issue, "
    "use Sysprep to validate your installation again."
)
FATAL_DIALOG = "System Preparation Tool 3.14\r\nA fatal error occurred while trying to sysprep the machine."


class SysprepFailure(Exception):
    def __init__(self, lines: list[str], dialog: str = VALIDATE_DIALOG) -> None:
        super().__init__(lines[0] if lines else "sysprep failed")
        self.lines = lines
        self.dialog = dialog


@dataclass
class Options:
    oobe: bool = False
    audit: bool = False
    generalize: bool = False
    action: str = "reboot"  # reboot | shutdown | quit
    quiet: bool = False
    mode_vm: bool = False
    unattend: str | None = None
    seen: list[str] = field(default_factory=list)


class _Log:
    def __init__(self, now: float) -> None:
        self.now = now
        self.act: list[str] = []
        self.err: list[str] = []

    def line(self, msg: str, level: str = "Info", at: float | None = None) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.now if at is None else at))
        text = f"{stamp}, {level:<22}{msg}"
        self.act.append(text)
        if level == "Error":
            self.err.append(text)


def parse_args(args: list[str]) -> Options:
    """Sysprep's switches; raises SysprepFailure on a bad combination."""
    o = Options()
    shutdown_opts: list[str] = []
    for raw in args:
        for token in raw.split():
            if not token.startswith(("/", "-")):
                raise SysprepFailure(
                    [f"SYSPRP ParseCommands:Invalid command line argument '{token}'"]
                )  # [mem]
            sw = token[1:].lower()
            if sw.startswith("unattend:"):
                o.unattend = token[len("/unattend:") :].strip('"')
                o.seen.append("UNATTEND")
                continue
            if sw not in SWITCHES:
                raise SysprepFailure(
                    [f"SYSPRP ParseCommands:Found unsupported command line option '{token}'"]
                )  # [mem]
            o.seen.append(sw.upper())
            if sw in ("reboot", "shutdown", "quit"):
                shutdown_opts.append(sw)
                o.action = sw
            elif sw == "mode:vm":
                o.mode_vm = True
            else:
                setattr(o, sw, True)
    if o.oobe and o.audit:
        raise SysprepFailure(["SYSPRP ParseCommands:/oobe and /audit cannot be specified together"])  # [mem]
    if len(set(shutdown_opts)) > 1:
        raise SysprepFailure(
            ["SYSPRP ParseCommands:Only one of /reboot, /shutdown or /quit can be specified"]
        )  # [mem]
    if o.mode_vm and not (o.generalize and o.oobe):
        raise SysprepFailure(
            ["SYSPRP ParseCommands:/mode:vm is only supported with /generalize and /oobe"]
        )  # [mem]
    return o


def _validate_generalize(guest: Guest) -> None:
    if L.feature_installed(guest, "AD-Domain-Services"):
        raise SysprepFailure(
            [  # [mem] wording; facts: Sysprep is not supported for the AD DS role
                "SYSPRP Sysprep_Generalize_DsRole: The Active Directory Domain Services role is installed on this "
                "computer. Sysprep is not supported for this server role.",
                r"[0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred while executing "
                r"'SysprepGeneralizeValidate' from C:\Windows\System32\dsrolesysprep.dll; dwRet = 0x80070032",
            ]
        )
    joined = L.domain(guest)
    if joined:
        raise SysprepFailure(
            [  # [mem] wording; facts: hard error on a domain-joined machine is unverified
                f"SYSPRP Sysprep_Generalize_Netlogon: The computer is joined to the domain '{joined}'. Remove it "
                "from the domain and join a workgroup before running Sysprep /generalize.",
                r"[0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred while executing "
                r"'Sysprep_Generalize_Netlogon' from C:\Windows\System32\netjoin.dll; dwRet = 0x8007054b",
            ]
        )
    provisioned = {p.lower() for p in L.provisioned_packages(guest)}
    for _sid, pkg in L.user_packages(guest):
        if pkg.lower() not in provisioned:
            raise SysprepFailure(
                [
                    f"SYSPRP Package {pkg} was installed for a user, but not provisioned for all users. This "
                    "package will not function properly in the sysprep image.",  # [facts]
                    "SYSPRP Failed to remove apps for the current user: 0x80073cf2.",  # [facts]
                    "SYSPRP Exiting SysprepGeneralizeValidate (Appx) - 0x80073cf2",  # [facts, mem there]
                ]
            )
    r = L.reg(guest)
    count = int(r.get(L.K_SYSPREP_STATUS, "SysprepCount", 0) or 0)
    if count >= REARM_LIMIT and not r.get(L.K_SPP, "SkipRearm", 0):
        raise SysprepFailure(
            [  # [mem] 0xc004d307 = the maximum allowed number of re-arms has been exceeded
                "SYSPRP RunExternalDlls:An error occurred while running registry sysprep DLLs, halting sysprep "
                "execution. dwRet = 0xc004d307",
            ],
            FATAL_DIALOG,
        )


def run_sysprep(guest: Guest, args: list[str], ctx: ExecContext) -> ExecResult:
    fs, r = guest.fs, L.reg(guest)
    log = _Log(ctx.now)
    fs.mkdir(L.SYSPREP_PANTHER)
    log.line("SYSPRP ======== Beginning of a new sysprep run ========")
    log.line(rf"SYSPRP Initialized SysPrep log at {L.SYSPREP_PANTHER}")
    quiet = any(a.lower().strip() in ("/quiet", "-quiet") for arg in args for a in arg.split())
    if r.get(L.K_SYSPREP_STATUS, "SysprepRunning", 0):
        # [mem] Sysprep allows one instance at a time (facts 3.2)
        return _fail(
            guest,
            log,
            SysprepFailure(["SYSPRP WinMain:Another instance of sysprep is already running"], FATAL_DIALOG),
            quiet,
        )
    log.line("SYSPRP ValidatePrivileges:User has required privileges to sysprep machine")
    if fs.exists(L.SYSPREP_TAG):
        fs.remove(L.SYSPREP_TAG)
        log.line(rf"SYSPRP FCreateTagFile:Tag file {L.SYSPREP_TAG} already exists, deleting it")  # [mem]
    else:
        log.line(
            rf"SYSPRP FCreateTagFile:Tag file {L.SYSPREP_TAG} does not already exist, no need to delete anything"
        )
    try:
        opts = parse_args(args)
    except SysprepFailure as exc:
        return _fail(guest, log, exc, quiet)
    for name in opts.seen:
        log.line(f"SYSPRP ParseCommands:Found supported command line option '{name}'")
    if not (opts.oobe or opts.audit or opts.generalize):
        # no cleanup action on the command line: the Sysprep window opens and waits for a click that,
        # on a VM run as SYSTEM through Run Command, never comes; nothing changes
        return ExecResult(0)
    if not opts.audit:
        opts.oobe = True  # `sysprep /generalize /shutdown` (Azure's current doc) reseals to OOBE
    try:
        if L.bitlocker_on(guest):
            raise SysprepFailure(
                [  # [facts: approximate, mem]
                    "SYSPRP BitLocker-Sysprep: BitLocker is on for the OS volume. Turn BitLocker off to run Sysprep. "
                    "(0x80310039)",
                    r"[0x0f0082] SYSPRP ActionPlatform::LaunchModule: Failure occurred while executing "
                    r"'ValidateSysprep' from C:\Windows\System32\BdeSysprep.dll; dwRet = 0x80310039",  # [mem]
                ]
            )
        if opts.generalize:
            _validate_generalize(guest)
    except SysprepFailure as exc:
        return _fail(guest, log, exc, quiet)

    scan = L.defender_scan(guest, ctx.now)
    if opts.generalize and scan is not None and L.realtime_on(guest):
        return _hang(guest, log, quiet, scan)

    _apply(guest, opts, ctx)
    fs.write(L.SYSPREP_TAG, b"", mtime=ctx.now)
    log.line(rf"SYSPRP FCreateTagFile:Successfully created tag file {L.SYSPREP_TAG}")
    power: str | None = None
    if opts.action == "shutdown":
        log.line(
            "SYSPRP ProcessShutdown:Successfully called InitiateSystemShutdownEx to shutdown the computer"
        )
        power = "poweroff"
    elif opts.action == "reboot":
        power = "reboot"
    _write_logs(guest, log, ctx.now)
    return ExecResult(0, power=power)


def _apply(guest: Guest, o: Options, ctx: ExecContext) -> None:
    fs, r = guest.fs, L.reg(guest)
    if o.generalize:
        L.set_image_state(guest, L.GENERALIZE_AUDIT if o.audit else L.GENERALIZE_OOBE)
        r.set(L.K_SYSPREP_STATUS, "GeneralizationState", 7)
        r.delete_value(L.K_POLACDMS, "Sid")  # the specialize pass makes a new machine SID
        count = int(r.get(L.K_SYSPREP_STATUS, "SysprepCount", 0) or 0)
        r.set(L.K_SYSPREP_STATUS, "SysprepCount", count + 1)
        for evtx in fs.glob(rf"{L.EVTX_DIR}\*.evtx"):
            fs.remove(evtx)
        fs.empty_dir(L.PANTHER)
    else:
        L.set_image_state(guest, L.SPECIALIZE_AUDIT if o.audit else L.SPECIALIZE_OOBE)
    r.set(L.K_SYSPREP_STATUS, "CleanupState", 2)
    L.set_setup(guest, 2, r"oobe\windeploy.exe")
    if o.unattend and fs.is_file(o.unattend):
        fs.write(rf"{L.PANTHER}\unattend.xml", fs.read(o.unattend), mtime=ctx.now)


def _hang(guest: Guest, log: _Log, quiet: bool, scan: tuple[str, float, float]) -> ExecResult:
    """A Defender scan is running with real-time protection on: MsMpEng holds the Appx/provider files, so
    Sysprep waits 30 minutes for them, then fails (facts 3.3: third-party reports only; the trap is opt-in)."""
    kind, start, _end = scan
    log.line(
        r"SYSPRP ActionPlatform::LaunchModule: Executing method 'SysprepGeneralizeValidate' from "
        r"C:\Windows\System32\AppxSysprep.dll"
    )  # [mem]
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start))
    log.line(
        "SYSPRP Sysprep_Clean_Validate_Opk: Waiting for the generalize providers to finish; files are "
        f"locked by MsMpEng.exe (Microsoft Defender real-time protection: a {kind} started at {started} is still "
        "running)",
        "Warning",
    )  # [mem]
    L.reg(guest).set(L.K_SYSPREP_STATUS, "GeneralizationState", 3)  # [facts] 3 = generalize aborted
    exc = SysprepFailure(
        [
            "SYSPRP RunPlatformActions:Timed out after 30 minutes waiting for 'SysprepGeneralizeValidate'; "
            "generalize was not completed. dwRet = 0x800705b4",  # [mem] 0x800705b4 = ERROR_TIMEOUT
        ],
        FATAL_DIALOG,
    )
    result = _fail(guest, log, exc, quiet, at=log.now + HANG_SECONDS)
    result.hang_seconds = HANG_SECONDS
    return result


def _fail(guest: Guest, log: _Log, exc: SysprepFailure, quiet: bool, at: float | None = None) -> ExecResult:
    for line in exc.lines:
        log.line(line, "Error", at)
    _write_logs(guest, log, log.now if at is None else at)
    return ExecResult(1, stderr="" if quiet else exc.dialog + "\r\n")


def _write_logs(guest: Guest, log: _Log, now: float) -> None:
    fs = guest.fs
    fs.write(
        rf"{L.SYSPREP_PANTHER}\setupact.log", "".join(x + "\r\n" for x in log.act), append=True, mtime=now
    )
    if log.err:
        fs.write(
            rf"{L.SYSPREP_PANTHER}\setuperr.log", "".join(x + "\r\n" for x in log.err), append=True, mtime=now
        )

"""Local accounts (Microsoft.PowerShell.LocalAccounts) and Appx packages (Appx / DISM cmdlets)."""

from __future__ import annotations

import fnmatch
from typing import Any

from azemu.guest.windows import layout as L
from azemu.guest.windows.psformat import PSObj, SecureString
from azemu.guest.windows.psruntime import Args, PSErr, Session, cmdlet

_LA = "Microsoft.PowerShell.Commands."
_APPX = "Microsoft.Windows.Appx.PackageManager.Commands."
_DISM = "Microsoft.Dism.Commands."


# local users -----------------------------------------------------------------------------------------------
def _user_obj(s: Session, name: str) -> PSObj:
    r = L.reg(s.guest)
    key = L.user_key(name)
    return PSObj(
        "LocalUser",
        {
            "Name": name,
            "Enabled": bool(r.get(key, "Enabled", 0)),
            "Description": r.get(key, "Description", ""),
            "FullName": r.get(key, "FullName", ""),
            "SID": L.user_sid(s.guest, name),
            "PrincipalSource": "Local",
        },
        columns=["Name", "Enabled", "Description"],
    )


def _need_user(s: Session, name: str) -> str:
    found = L.find_user(s.guest, name)
    if found is None:
        raise PSErr(
            f"User {name} was not found.",
            category="ObjectNotFound",
            target=name,
            exception="UserNotFoundException",
            fqid="UserNotFound",
        )
    return found


def _password(a: Args, name: str = "Password") -> str | None:
    v = a.get(name)
    if v is None:
        return None
    if not isinstance(v, SecureString):
        raise PSErr(
            f'Cannot bind parameter \'{name}\'. Cannot convert the "{v}" value of type "System.String" to '
            'type "System.Security.SecureString".',
            category="InvalidArgument",
            target="",
            exception="ParameterBindingException",
            fqid="CannotConvertArgumentNoMessage",
        )
    return v.plain


@cmdlet(
    "New-LocalUser",
    ("Name", "Password", "FullName", "Description", "AccountExpires"),
    ("NoPassword", "Disabled", "AccountNeverExpires", "PasswordNeverExpires", "UserMayNotChangePassword"),
    ("Name",),
    cls=_LA + "NewLocalUserCommand",
)
def new_local_user(s: Session, a: Args) -> list[Any]:
    name = a.str("Name")
    password = _password(a)
    if password is None and not a.has("NoPassword"):
        raise PSErr(
            "Cannot process command because of one or more missing mandatory parameters: Password.",
            category="InvalidArgument",
            target="",
            exception="ParameterBindingException",
            fqid="MissingMandatoryParameter",
        )
    if L.find_user(s.guest, name) is not None:
        raise PSErr(
            f"User {name} already exists.",
            category="ResourceExists",
            target=name,
            exception="UserExistsException",
            fqid="UserExists",
        )
    if len(name) > 20:
        raise PSErr(
            f"The name {name} is too long. The maximum length is 20 characters.",
            category="InvalidArgument",
            target=name,
            exception="InvalidNameException",
            fqid="InvalidName",
        )
    L.add_user(
        s.guest,
        name,
        enabled=not a.has("Disabled"),
        full_name=a.str("FullName"),
        description=a.str("Description"),
        password=password,
    )
    L.add_group_member(s.guest, "Users", name)
    return [_user_obj(s, name)]


@cmdlet("Get-LocalUser", ("Name", "SID"), (), ("Name",), cls=_LA + "GetLocalUserCommand")
def get_local_user(s: Session, a: Args) -> list[Any]:
    names = a.strs("Name")
    if not names:
        return [_user_obj(s, u) for u in L.users(s.guest)]
    out = []
    for n in names:
        if any(c in n for c in "*?"):
            out += [_user_obj(s, u) for u in L.users(s.guest) if fnmatch.fnmatch(u.lower(), n.lower())]
        else:
            out.append(_user_obj(s, _need_user(s, n)))
    return out


@cmdlet("Remove-LocalUser", ("Name", "SID", "InputObject"), (), ("Name",), cls=_LA + "RemoveLocalUserCommand")
def remove_local_user(s: Session, a: Args) -> list[Any]:
    names = a.strs("Name") or [o.get("Name") for o in a.input if isinstance(o, PSObj)]
    for n in names:
        user = _need_user(s, n)
        L.reg(s.guest).delete_key(L.user_key(user))
        L.remove_from_groups(s.guest, user)
    return []


def _set_enabled(s: Session, a: Args, on: bool) -> list[Any]:
    for n in a.strs("Name"):
        L.reg(s.guest).set(L.user_key(_need_user(s, n)), "Enabled", 1 if on else 0)
    return []


@cmdlet("Enable-LocalUser", ("Name", "SID"), (), ("Name",), cls=_LA + "EnableLocalUserCommand")
def enable_local_user(s: Session, a: Args) -> list[Any]:
    return _set_enabled(s, a, True)


@cmdlet("Disable-LocalUser", ("Name", "SID"), (), ("Name",), cls=_LA + "DisableLocalUserCommand")
def disable_local_user(s: Session, a: Args) -> list[Any]:
    return _set_enabled(s, a, False)


@cmdlet(
    "Set-LocalUser",
    ("Name", "Password", "FullName", "Description"),
    ("PasswordNeverExpires",),
    ("Name",),
    cls=_LA + "SetLocalUserCommand",
)
def set_local_user(s: Session, a: Args) -> list[Any]:
    user = _need_user(s, a.str("Name"))
    r = L.reg(s.guest)
    rid = int(r.get(L.user_key(user), "RID", 0))
    L.add_user(
        s.guest,
        user,
        rid=rid,
        enabled=L.user_enabled(s.guest, user),
        full_name=a.str("FullName", str(r.get(L.user_key(user), "FullName", ""))),
        description=a.str("Description", str(r.get(L.user_key(user), "Description", ""))),
        password=_password(a),
    )
    return []


def _need_group(s: Session, name: str) -> str:
    for g in L.reg(s.guest).subkeys(L.K_GROUPS):
        if g.lower() == name.lower():
            return g
    raise PSErr(
        f"Group {name} was not found.",
        category="ObjectNotFound",
        target=name,
        exception="GroupNotFoundException",
        fqid="GroupNotFound",
    )


@cmdlet(
    "Add-LocalGroupMember",
    ("Group", "Member", "Name", "SID"),
    (),
    ("Group", "Member"),
    cls=_LA + "AddLocalGroupMemberCommand",
)
def add_local_group_member(s: Session, a: Args) -> list[Any]:
    group = _need_group(s, a.str("Group") or a.str("Name"))
    for m in a.strs("Member"):
        local = m.split("\\", 1)[-1] if "\\" not in m or m.split("\\")[0].upper() == s.computer() else None
        if local is not None:
            found = L.find_user(s.guest, local)
            if found is None:
                raise PSErr(
                    f"Principal {m} was not found.",
                    category="ObjectNotFound",
                    target=m,
                    exception="PrincipalNotFoundException",
                    fqid="PrincipalNotFound",
                )
            m = found
        if m.lower() in (x.lower() for x in L.group_members(s.guest, group)):
            raise PSErr(
                f"{s.computer()}\\{m} is already a member of group {group}.",
                category="ResourceExists",
                target=group,
                exception="MemberExistsException",
                fqid="MemberExists",
            )
        L.add_group_member(s.guest, group, m)
    return []


@cmdlet(
    "Remove-LocalGroupMember",
    ("Group", "Member", "Name"),
    (),
    ("Group", "Member"),
    cls=_LA + "RemoveLocalGroupMemberCommand",
)
def remove_local_group_member(s: Session, a: Args) -> list[Any]:
    group = _need_group(s, a.str("Group") or a.str("Name"))
    members = L.group_members(s.guest, group)
    for m in a.strs("Member"):
        kept = [x for x in members if x.lower() != m.split("\\")[-1].lower() and x.lower() != m.lower()]
        if kept == members:
            raise PSErr(
                f"Principal {m} was not found.",
                category="ObjectNotFound",
                target=m,
                exception="PrincipalNotFoundException",
                fqid="PrincipalNotFound",
            )
        members = kept
    L.reg(s.guest).set(L.K_GROUPS + "\\" + group, "Members", members, "REG_MULTI_SZ")
    return []


@cmdlet(
    "Get-LocalGroupMember",
    ("Group", "Member", "Name"),
    (),
    ("Group", "Member"),
    cls=_LA + "GetLocalGroupMemberCommand",
)
def get_local_group_member(s: Session, a: Args) -> list[Any]:
    group = _need_group(s, a.str("Group") or a.str("Name"))
    out = []
    for m in L.group_members(s.guest, group):
        shown = m if "\\" in m else f"{s.computer()}\\{m}"
        out.append(
            PSObj(
                "LocalPrincipal",
                {
                    "ObjectClass": "User",
                    "Name": shown,
                    "PrincipalSource": "Local" if "\\" not in m else "ActiveDirectory",
                },
            )
        )
    return out


@cmdlet("Get-LocalGroup", ("Name",), (), ("Name",), cls=_LA + "GetLocalGroupCommand")
def get_local_group(s: Session, a: Args) -> list[Any]:
    groups = [_need_group(s, n) for n in a.strs("Name")] or L.reg(s.guest).subkeys(L.K_GROUPS)
    return [PSObj("LocalGroup", {"Name": g, "Description": ""}) for g in groups]


# Appx ------------------------------------------------------------------------------------------------------
def _split(full: str) -> dict[str, str]:
    parts = full.split("_")
    name, version, arch, resource, publisher = (parts + [""] * 5)[:5]
    return {
        "Name": name,
        "Version": version,
        "Architecture": {"x64": "X64", "x86": "X86"}.get(arch, arch.title()),
        "ResourceId": resource,
        "PublisherId": publisher,
    }


def _pkg_obj(full: str, users: list[str]) -> PSObj:
    p = _split(full)
    return PSObj(
        "AppxPackage",
        {
            "Name": p["Name"],
            "Publisher": "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US",
            "Architecture": p["Architecture"],
            "ResourceId": p["ResourceId"],
            "Version": p["Version"],
            "PackageFullName": full,
            "InstallLocation": rf"C:\Program Files\WindowsApps\{full}",
            "IsFramework": False,
            "PackageFamilyName": f"{p['Name']}_{p['PublisherId']}",
            "PublisherId": p["PublisherId"],
            "PackageUserInformation": [f"{u} [Installed]" for u in users],
            "IsResourcePackage": False,
            "IsBundle": False,
            "IsDevelopmentMode": False,
            "NonRemovable": False,
            "SignatureKind": "Store",
            "Status": "Ok",
        },
        "list",
    )


def _matches(full: str, patterns: list[str]) -> bool:
    if not patterns:
        return True
    name = _split(full)["Name"].lower()
    return any(fnmatch.fnmatch(name, p.lower()) or fnmatch.fnmatch(full.lower(), p.lower()) for p in patterns)


@cmdlet(
    "Get-AppxPackage",
    ("Name", "Publisher", "User", "PackageTypeFilter"),
    ("AllUsers",),
    ("Name", "Publisher"),
    cls=_APPX + "GetAppxPackageCommand",
)
def get_appx_package(s: Session, a: Args) -> list[Any]:
    patterns = a.strs("Name")
    by_pkg: dict[str, list[str]] = {}
    for sid, pkg in L.user_packages(s.guest):
        if a.has("AllUsers") or sid == L.SYSTEM_SID:
            by_pkg.setdefault(pkg, []).append(sid)
    if a.has("AllUsers"):
        for pkg in L.provisioned_packages(s.guest):
            by_pkg.setdefault(pkg, [])
    return [_pkg_obj(p, users) for p, users in sorted(by_pkg.items()) if _matches(p, patterns)]


def _full_name(path: str) -> str:
    leaf = path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)
    stem = leaf[-1]
    if stem.lower() == "appxmanifest.xml" and len(leaf) > 1:
        stem = leaf[0].rsplit("\\", 1)[-1]
    stem = (
        stem.rsplit(".", 1)[0]
        if stem.lower().endswith((".msix", ".appx", ".msixbundle", ".appxbundle"))
        else stem
    )
    return stem if stem.count("_") >= 4 else f"{stem}_1.0.0.0_x64__8wekyb3d8bbwe"


@cmdlet(
    "Add-AppxPackage",
    ("Path", "Register", "DependencyPath", "MainPackage", "Volume"),
    (
        "DisableDevelopmentMode",
        "ForceApplicationShutdown",
        "ForceUpdateFromAnyVersion",
        "DeferRegistrationWhenPackagesAreInUse",
    ),
    ("Path",),
    cls=_APPX + "AddAppxPackageCommand",
)
def add_appx_package(s: Session, a: Args) -> list[Any]:
    path = a.str("Register") or a.str("Path")
    full = s.full(path)
    if not s.guest.fs.is_file(full):
        raise PSErr(
            f"Cannot find path '{full}' because it does not exist.",
            category="ObjectNotFound",
            target=full,
            exception="ItemNotFoundException",
            fqid="PathNotFound",
        )
    pkg = _full_name(full)
    # installed for the current user only (Run Command runs as SYSTEM): not provisioned for all users
    L.reg(s.guest).set(rf"{L.K_APPX_STORE}\{L.SYSTEM_SID}\{pkg}", "Path", full)
    return []


def _deployment_failed(name: str) -> PSErr:
    return PSErr(
        f"Deployment failed with HRESULT: 0x80073CF1, Package was not found.\nWindows cannot remove {name} "
        "because the current user does not have that package installed. Use Get-AppxPackage to see the list "
        "of packages installed.",
        category="WriteError",
        target=name,
        exception="Exception",
        fqid="DeploymentError",
    )


@cmdlet(
    "Remove-AppxPackage",
    ("Package", "User"),
    ("AllUsers", "PreserveApplicationData"),
    ("Package",),
    cls=_APPX + "RemoveAppxPackageCommand",
)
def remove_appx_package(s: Session, a: Args) -> list[Any]:
    names = a.strs("Package") or [str(o.get("PackageFullName")) for o in a.input if isinstance(o, PSObj)]
    r = L.reg(s.guest)
    for name in names:
        hits = [
            (sid, pkg)
            for sid, pkg in L.user_packages(s.guest)
            if pkg.lower() == name.lower() and (a.has("AllUsers") or sid == L.SYSTEM_SID)
        ]
        provisioned = name.lower() in (p.lower() for p in L.provisioned_packages(s.guest))
        if not hits and not (a.has("AllUsers") and provisioned):
            raise _deployment_failed(name)
        for sid, pkg in hits:
            r.delete_key(rf"{L.K_APPX_STORE}\{sid}\{pkg}")
    return []


def _online(a: Args) -> None:
    if not a.has("Online") and not a.get("Path"):
        raise PSErr(
            "Parameter set cannot be resolved using the specified named parameters.",
            category="InvalidArgument",
            target="",
            exception="ParameterBindingException",
            fqid="AmbiguousParameterSet",
        )


@cmdlet(
    "Get-AppxProvisionedPackage",
    ("Path", "LogPath", "LogLevel", "ScratchDirectory"),
    ("Online",),
    (),
    cls=_DISM + "GetAppxProvisionedPackageCommand",
)
def get_appx_provisioned_package(s: Session, a: Args) -> list[Any]:
    _online(a)
    out = []
    for full in L.provisioned_packages(s.guest):
        p = _split(full)
        out.append(
            PSObj(
                "AppxProvisionedPackage",
                {
                    "Version": p["Version"],
                    "Architecture": 9 if p["Architecture"] == "X64" else 11,
                    "ResourceId": p["ResourceId"] or None,
                    "DisplayName": p["Name"],
                    "PackageName": full,
                    "PublisherId": p["PublisherId"],
                    "Regions": "",
                    "InstallLocation": rf"%SYSTEMDRIVE%\Program Files\WindowsApps\{full}\AppxManifest.xml",
                },
                "list",
                [
                    "Version",
                    "Architecture",
                    "ResourceId",
                    "DisplayName",
                    "PackageName",
                    "PublisherId",
                    "Regions",
                ],
            )
        )
    return out


def _image_result() -> PSObj:
    return PSObj("ImageObject", {"Path": "", "Online": True, "RestartNeeded": False}, "list")


@cmdlet(
    "Remove-AppxProvisionedPackage",
    ("PackageName", "Path", "LogPath"),
    ("Online", "AllUsers"),
    (),
    cls=_DISM + "RemoveAppxProvisionedPackageCommand",
)
def remove_appx_provisioned_package(s: Session, a: Args) -> list[Any]:
    _online(a)
    names = a.strs("PackageName") or [str(o.get("PackageName")) for o in a.input if isinstance(o, PSObj)]
    r = L.reg(s.guest)
    out: list[Any] = []
    for name in names:
        hit = next((p for p in L.provisioned_packages(s.guest) if p.lower() == name.lower()), None)
        if hit is None:
            raise PSErr(
                "The system cannot find the path specified.",
                category="NotSpecified",
                target="",
                exception="COMException",
                fqid="Microsoft.Dism.Commands.RemoveAppxProvisionedPackageCommand",
            )
        r.delete_key(rf"{L.K_APPX_PROVISIONED}\{hit}")
        if a.has("AllUsers"):
            for sid, pkg in L.user_packages(s.guest):
                if pkg.lower() == hit.lower():
                    r.delete_key(rf"{L.K_APPX_STORE}\{sid}\{pkg}")
        out.append(_image_result())
    return out


@cmdlet(
    "Add-AppxProvisionedPackage",
    ("PackagePath", "FolderPath", "LicensePath", "Path", "Regions"),
    ("Online", "SkipLicense"),
    (),
    cls=_DISM + "AddAppxProvisionedPackageCommand",
)
def add_appx_provisioned_package(s: Session, a: Args) -> list[Any]:
    _online(a)
    path = s.full(a.str("PackagePath") or a.str("FolderPath"))
    if not s.guest.fs.exists(path):
        raise PSErr(
            "The system cannot find the file specified.",
            category="NotSpecified",
            target="",
            exception="COMException",
            fqid="Microsoft.Dism.Commands.AddAppxProvisionedPackageCommand",
        )
    L.reg(s.guest).set(rf"{L.K_APPX_PROVISIONED}\{_full_name(path)}", "Path", path)
    return [_image_result()]

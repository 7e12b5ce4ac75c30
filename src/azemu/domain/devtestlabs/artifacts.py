"""DevTest Labs artifacts: found in an artifact source's folder, applied to a lab VM's guest.

An artifact is a folder holding ``artifactfile.json`` (title, ``targetOsType``, ``parameters``, and
``runCommand.commandToExecute`` - an ARM template expression over ``parameters('…')``) and the files its
command uses. Sources are offline: the lab's built-in ``public repo`` is azemu's own small copy of
Microsoft's public repository (``data/dtl_artifacts``), and a user's source names a local folder or a
repository inside the data directory by URL (domain/files.py). Applying an artifact copies its folder into
the guest where the Custom Script extension downloads files and runs the command there as root (as the
extension does), recording its status on the lab VM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from azemu.domain import files
from azemu.domain.errors import AzureError
from azemu.guest import api as guest_api
from azemu.guest.fs import win_path
from azemu.guest.machine import ExecContext, Guest
from azemu.templates import Env, Evaluator, ExpressionError, FunctionSpec, Invocation, pure_functions

PUBLIC_REPO_URI = "https://github.com/Azure/azure-devtestlab.git"
ARTIFACT_FILE = "artifactfile.json"
LINUX_DIR = "/var/lib/waagent/custom-script/download/0"
WINDOWS_DIR = r"C:\Packages\Plugins\Microsoft.Compute.CustomScriptExtension\1.10.15\Downloads\0"


class ArtifactError(AzureError):
    code, status = "InvalidArtifact", 400


@dataclass(frozen=True)
class Artifact:
    name: str
    folder: Path
    definition: dict[str, Any]

    @property
    def os_type(self) -> str:
        return str(self.definition.get("targetOsType") or "")


def builtin_root() -> Path:
    return Path(str(resources.files("azemu.data").joinpath("dtl_artifacts")))


def source_root(uri: str, folder_path: str, files_dir: Path | None) -> Path:
    """The local folder holding an artifact source's artifacts."""
    if uri.rstrip("/").lower() == PUBLIC_REPO_URI.lower():
        # azemu's copy holds the repository's artifacts, none of its environments (ARM templates)
        return (
            builtin_root()
            if not folder_path.strip("/").lower().startswith("environments")
            else Path("/nonexistent")
        )
    try:
        base = files.resolve(uri, files_dir)
    except files.FetchError as err:
        raise ArtifactError(
            f"The artifact source '{uri}' could not be reached: {err}", code="InvalidUri"
        ) from None
    root = (base / folder_path.strip("/")) if folder_path.strip("/") else base
    if not root.is_dir():
        raise ArtifactError(
            f"The folder '{folder_path or '/'}' of the artifact source '{uri}' was not found.",
            code="InvalidFolderPath",
        )
    return root


def discover(root: Path) -> list[Artifact]:
    out: list[Artifact] = []
    if not root.is_dir():
        return out
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        found = next((f for f in child.iterdir() if f.name.lower() == ARTIFACT_FILE), None)
        if found is None:
            continue
        try:
            definition = json.loads(found.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            continue
        if isinstance(definition, dict):
            out.append(Artifact(child.name, child, definition))
    return out


def document(lab_source_id: str, artifact: Artifact, created: str) -> dict[str, Any]:
    d = artifact.definition
    return {
        "id": f"{lab_source_id}/artifacts/{artifact.name}",
        "name": artifact.name,
        "type": "Microsoft.DevTestLab/labs/artifactSources/artifacts",
        "properties": {
            "title": d.get("title", artifact.name),
            "description": d.get("description", ""),
            "publisher": d.get("publisher", ""),
            "filePath": f"/Artifacts/{artifact.name}/{ARTIFACT_FILE}",
            "icon": d.get("iconUri", ""),
            "targetOsType": artifact.os_type,
            "parameters": d.get("parameters", {}),
            "createdDate": created,
        },
    }


class _ArtifactEnv(Env):
    __slots__ = ("params",)

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__()
        self.params = params


def _parameters(inv: Invocation, args: Any) -> Any:
    env = inv.env
    assert isinstance(env, _ArtifactEnv)
    name = str(args[0])
    for key, value in env.params.items():
        if key.lower() == name.lower():
            return value
    raise ExpressionError(f"The artifact parameter '{name}' is not defined.")


_EVALUATOR = Evaluator(pure_functions().with_functions(FunctionSpec("parameters", _parameters, 1, 1)))


def command(artifact: Artifact, given: list[dict[str, Any]]) -> str:
    """``commandToExecute`` with the given parameters (their declared defaults for the others)."""
    declared = artifact.definition.get("parameters") or {}
    values: dict[str, Any] = {}
    by_name = {str(p.get("name", "")).lower(): p.get("value") for p in given or []}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name.lower() in by_name:
            raw = by_name[name.lower()]
            kind = str(spec.get("type") or "string").lower()
            if kind == "bool" and isinstance(raw, str):
                raw = raw.strip().lower() == "true"
            elif kind == "int" and isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
                raw = int(raw)
            values[name] = raw
        elif "defaultValue" in spec:
            values[name] = spec["defaultValue"]
        else:
            raise ArtifactError(
                f"The artifact '{artifact.name}' requires the parameter '{name}'.",
                code="MissingArtifactParameter",
            )
    text = str((artifact.definition.get("runCommand") or {}).get("commandToExecute") or "")
    try:
        result = _EVALUATOR.evaluate_string(text, _ArtifactEnv(values))
    except ExpressionError as err:
        raise ArtifactError(f"The artifact '{artifact.name}' has an invalid command: {err}") from None
    return str(result)


@dataclass
class Applied:
    status: str  # Succeeded | Failed
    message: str
    extension: str


def apply(guest: Guest, artifact: Artifact, cmd: str, ctx: ExecContext) -> Applied:
    """Copy the artifact's files into the guest and run its command there, as the Custom Script extension does."""
    windows = guest.os_type == "Windows"
    if artifact.os_type and artifact.os_type.lower() not in (guest.os_type.lower(), "any"):
        return Applied(
            "Failed",
            f"The artifact '{artifact.name}' targets {artifact.os_type} and cannot be applied to a {guest.os_type} VM.",
            "",
        )
    target = WINDOWS_DIR if windows else LINUX_DIR
    folder = win_path(target) if windows else target
    parts = folder.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        path = "/" + "/".join(parts[:i])
        if not guest.fs.exists(path):
            guest.fs.mkdir(path)
    for f in sorted(artifact.folder.iterdir()):
        if f.is_file():
            guest_api.put_file(
                guest,
                None,
                f"{target}\\{f.name}" if windows else f"{target}/{f.name}",
                f.read_bytes(),
                ctx.now,
                0o755,
            )
    if windows:
        result = guest_api.run_script(
            guest, "RunPowerShellScript", [f"Set-Location '{target}'", cmd], [], ctx
        )
    else:
        result = guest_api.run_script(guest, "RunShellScript", [f"cd {target}", cmd], [], ctx)
    extension = json.dumps({"stdout": result.stdout[-4096:], "stderr": result.stderr[-4096:]})
    if result.exit_code != 0:
        return Applied(
            "Failed",
            f"Artifact '{artifact.name}' failed: the command exited with code {result.exit_code}.",
            extension,
        )
    return Applied("Succeeded", f"Artifact '{artifact.name}' applied.", extension)

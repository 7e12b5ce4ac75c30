"""Microsoft.VirtualMachineImages: Azure VM Image Builder's image templates, runs, run outputs and triggers."""

from azemu.providers.imagebuilder.routes import register

__all__ = ["register"]

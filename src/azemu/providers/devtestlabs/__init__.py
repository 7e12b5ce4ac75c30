"""Microsoft.DevTestLab: labs, lab VMs, custom images, formulas, artifacts, policies, schedules, costs."""

from azemu.providers.devtestlabs.routes import register

__all__ = ["register"]

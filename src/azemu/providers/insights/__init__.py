"""Microsoft.Insights: autoscale settings, platform metrics (Percentage CPU) and the activity log."""

from azemu.providers.insights.routes import register

__all__ = ["register"]

"""Microsoft.PolicyInsights: policy states (list, summarize) and on-demand evaluation scans."""

from azemu.providers.policyinsights.routes import register

__all__ = ["register"]

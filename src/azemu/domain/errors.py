"""Azure's error contract: one class per error code.

Each error carries the Azure code, the exact message text and the status Azure answers with. The domain
raises these; the server turns them into the ARM envelope ``{"error": {"code", "message", ...}}``.
"""

from __future__ import annotations

from typing import Any


class AzureError(Exception):
    """Base of every error azemu reports to a client."""

    code: str = "InternalServerError"
    status: int = 500

    def __init__(
        self,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        additional_info: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        self.details = details
        self.additional_info = additional_info
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        if self.additional_info:
            err["additionalInfo"] = self.additional_info
        return {"error": err}


class BadRequest(AzureError):
    code, status = "BadRequest", 400


class InvalidParameter(AzureError):
    code, status = "InvalidParameter", 400


class InvalidRequestContent(AzureError):
    code, status = "InvalidRequestContent", 400


class MissingApiVersionParameter(AzureError):
    code, status = "MissingApiVersionParameter", 400


class InvalidApiVersionParameter(AzureError):
    code, status = "InvalidApiVersionParameter", 400


class NoRegisteredProviderFound(AzureError):
    code, status = "NoRegisteredProviderFound", 400


class InvalidResourceNamespace(AzureError):
    code, status = "InvalidResourceNamespace", 404


class InvalidResourceType(AzureError):
    code, status = "InvalidResourceType", 404


class LocationRequired(AzureError):
    code, status = "LocationRequired", 400


class LocationNotAvailableForResourceGroup(AzureError):
    code, status = "LocationNotAvailableForResourceGroup", 400


class InvalidResourceGroupLocation(AzureError):
    code, status = "InvalidResourceGroupLocation", 409


class InvalidResourceName(AzureError):
    code, status = "InvalidResourceName", 400


class InvalidResourceGroupName(AzureError):
    code, status = "InvalidResourceGroupName", 400


class ResourceNotFound(AzureError):
    code, status = "ResourceNotFound", 404


class ResourceGroupNotFound(AzureError):
    code, status = "ResourceGroupNotFound", 404


class SubscriptionNotFound(AzureError):
    code, status = "SubscriptionNotFound", 404


class NotFound(AzureError):
    code, status = "NotFound", 404


class OperationNotAllowed(AzureError):
    code, status = "OperationNotAllowed", 409


class Conflict(AzureError):
    code, status = "Conflict", 409


class ResourceGroupBeingDeleted(AzureError):
    code, status = "ResourceGroupBeingDeleted", 409


class PreconditionFailed(AzureError):
    code, status = "PreconditionFailed", 412


class UnsupportedMediaType(AzureError):
    code, status = "UnsupportedMediaType", 415


class RequestEntityTooLarge(AzureError):
    code, status = "RequestEntityTooLarge", 413


class MethodNotAllowed(AzureError):
    code, status = "MethodNotAllowed", 405


class AuthenticationFailed(AzureError):
    code, status = "AuthenticationFailed", 401


class InvalidAuthenticationToken(AzureError):
    code, status = "InvalidAuthenticationToken", 401


class ExpiredAuthenticationToken(AzureError):
    code, status = "ExpiredAuthenticationToken", 401


class InvalidAuthenticationTokenAudience(AzureError):
    code, status = "InvalidAuthenticationTokenAudience", 401


class InvalidAuthenticationTokenTenant(AzureError):
    code, status = "InvalidAuthenticationTokenTenant", 401


class AuthorizationFailed(AzureError):
    code, status = "AuthorizationFailed", 403


class InternalServerError(AzureError):
    code, status = "InternalServerError", 500


def resource_not_found(type_path: str, resource_group: str) -> ResourceNotFound:
    """ARM's 404 for a resource it does not know, worded exactly as Azure does."""
    return ResourceNotFound(
        f"The Resource '{type_path}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    )


def resource_group_not_found(name: str) -> ResourceGroupNotFound:
    return ResourceGroupNotFound(f"Resource group '{name}' could not be found.")


def subscription_not_found(subscription_id: str) -> SubscriptionNotFound:
    return SubscriptionNotFound(f"The subscription '{subscription_id}' could not be found.")

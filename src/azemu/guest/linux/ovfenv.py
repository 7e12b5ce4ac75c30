"""The ``ovf-env.xml`` the platform's provisioning media carries, built from ``osProfile``."""

from __future__ import annotations

from xml.sax.saxutils import escape

from azemu.guest.machine import OsProfile


def ovf_env_xml(profile: OsProfile, password_placeholder: str | None) -> str:
    """The provisioning ``ovf-env.xml``; the password is replaced by ``password_placeholder`` (or left out)."""
    keys = "".join(
        "          <PublicKey>\n            <Fingerprint></Fingerprint>\n"
        f"            <Path>{escape(path)}</Path>\n            <Value>{escape(value)}</Value>\n"
        "          </PublicKey>\n"
        for path, value in profile.ssh_public_keys
    )
    password = ""
    if profile.admin_password and password_placeholder is not None:
        password = f"      <UserPassword>{escape(password_placeholder)}</UserPassword>\n"
    custom = f"      <CustomData>{escape(profile.custom_data)}</CustomData>\n" if profile.custom_data else ""
    disable = "true" if profile.disable_password_authentication else "false"
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ns0:Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" '
        'xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1" xmlns:ns1="http://schemas.microsoft.com/windowsazure" '
        'xmlns:ns2="http://www.w3.org/2001/XMLSchema-instance">\n'
        "  <ns1:ProvisioningSection>\n    <ns1:Version>1.0</ns1:Version>\n"
        "    <ns1:LinuxProvisioningConfigurationSet>\n"
        "      <ns1:ConfigurationSetType>LinuxProvisioningConfiguration</ns1:ConfigurationSetType>\n"
        f"      <ns1:HostName>{escape(profile.computer_name)}</ns1:HostName>\n"
        f"      <ns1:UserName>{escape(profile.admin_username)}</ns1:UserName>\n"
        + password.replace("<UserPassword>", "<ns1:UserPassword>").replace(
            "</UserPassword>", "</ns1:UserPassword>"
        )
        + f"      <ns1:DisableSshPasswordAuthentication>{disable}</ns1:DisableSshPasswordAuthentication>\n"
        + (
            f"      <ns1:SSH>\n        <ns1:PublicKeys>\n{keys}        </ns1:PublicKeys>\n      </ns1:SSH>\n"
            if keys
            else ""
        )
        + custom.replace("<CustomData>", "<ns1:CustomData>").replace("</CustomData>", "</ns1:CustomData>")
        + "    </ns1:LinuxProvisioningConfigurationSet>\n  </ns1:ProvisioningSection>\n"
        "  <ns1:PlatformSettingsSection>\n    <ns1:Version>1.0</ns1:Version>\n    <ns1:PlatformSettings>\n"
        "      <ns1:KmsServerHostname>kms.core.windows.net</ns1:KmsServerHostname>\n"
        "      <ns1:ProvisionGuestAgent>true</ns1:ProvisionGuestAgent>\n"
        '      <ns1:GuestAgentPackageName ns2:nil="true" />\n'
        "      <ns1:PreprovisionedVm>false</ns1:PreprovisionedVm>\n"
        "    </ns1:PlatformSettings>\n  </ns1:PlatformSettingsSection>\n</ns0:Environment>\n"
    )

"""File contents of the base images (accounts, configs, package lists), kept apart from the builder."""

from __future__ import annotations

from azemu.guest.linux.distro import Distro

_NL = "/usr/sbin/nologin"
_DEBIAN_USERS: list[tuple[str, ...]] = [
    ("root", "x", "0", "0", "root", "/root", "/bin/bash"),
    ("daemon", "x", "1", "1", "daemon", "/usr/sbin", _NL),
    ("bin", "x", "2", "2", "bin", "/bin", _NL),
    ("sys", "x", "3", "3", "sys", "/dev", _NL),
    ("sync", "x", "4", "65534", "sync", "/bin", "/bin/sync"),
    ("games", "x", "5", "60", "games", "/usr/games", _NL),
    ("man", "x", "6", "12", "man", "/var/cache/man", _NL),
    ("lp", "x", "7", "7", "lp", "/var/spool/lpd", _NL),
    ("mail", "x", "8", "8", "mail", "/var/mail", _NL),
    ("news", "x", "9", "9", "news", "/var/spool/news", _NL),
    ("uucp", "x", "10", "10", "uucp", "/var/spool/uucp", _NL),
    ("proxy", "x", "13", "13", "proxy", "/bin", _NL),
    ("www-data", "x", "33", "33", "www-data", "/var/www", _NL),
    ("backup", "x", "34", "34", "backup", "/var/backups", _NL),
    ("list", "x", "38", "38", "Mailing List Manager", "/var/list", _NL),
    ("irc", "x", "39", "39", "ircd", "/run/ircd", _NL),
    ("_apt", "x", "42", "65534", "", "/nonexistent", _NL),
    ("nobody", "x", "65534", "65534", "nobody", "/nonexistent", _NL),
]
_DEBIAN_12_EXTRA: list[tuple[str, ...]] = [
    ("systemd-network", "x", "998", "998", "systemd Network Management", "/", _NL),
    ("systemd-timesync", "x", "997", "997", "systemd Time Synchronization", "/", _NL),
    ("messagebus", "x", "100", "107", "", "/nonexistent", _NL),
    ("sshd", "x", "101", "65534", "", "/run/sshd", _NL),
]
_UBUNTU_22_EXTRA: list[tuple[str, ...]] = [
    ("gnats", "x", "41", "41", "Gnats Bug-Reporting System (admin)", "/var/lib/gnats", _NL),
    ("systemd-network", "x", "100", "102", "systemd Network Management,,,", "/run/systemd", _NL),
    ("systemd-resolve", "x", "101", "103", "systemd Resolver,,,", "/run/systemd", _NL),
    ("messagebus", "x", "102", "105", "", "/nonexistent", _NL),
    ("systemd-timesync", "x", "103", "106", "systemd Time Synchronization,,,", "/run/systemd", _NL),
    ("syslog", "x", "104", "111", "", "/home/syslog", _NL),
    ("uuidd", "x", "105", "112", "", "/run/uuidd", _NL),
    ("tcpdump", "x", "106", "113", "", "/nonexistent", _NL),
    ("sshd", "x", "107", "65534", "", "/run/sshd", _NL),
    ("lxd", "x", "999", "100", "", "/var/snap/lxd/common/lxd", "/bin/false"),
]
_UBUNTU_24_EXTRA: list[tuple[str, ...]] = [
    ("systemd-network", "x", "998", "998", "systemd Network Management", "/", _NL),
    ("systemd-timesync", "x", "996", "996", "systemd Time Synchronization", "/", _NL),
    ("dhcpcd", "x", "100", "65534", "DHCP Client Daemon,,,", "/usr/lib/dhcpcd", "/bin/false"),
    ("messagebus", "x", "101", "101", "", "/nonexistent", _NL),
    ("systemd-resolve", "x", "992", "992", "systemd Resolver", "/", _NL),
    ("syslog", "x", "102", "102", "", "/nonexistent", _NL),
    ("uuidd", "x", "103", "103", "", "/run/uuidd", _NL),
    ("tcpdump", "x", "104", "105", "", "/nonexistent", _NL),
    ("sshd", "x", "105", "65534", "", "/run/sshd", _NL),
    ("polkitd", "x", "991", "991", "User for polkitd", "/", _NL),
]
_RNL = "/sbin/nologin"
_RHEL_USERS: list[tuple[str, ...]] = [
    ("root", "x", "0", "0", "root", "/root", "/bin/bash"),
    ("bin", "x", "1", "1", "bin", "/bin", _RNL),
    ("daemon", "x", "2", "2", "daemon", "/sbin", _RNL),
    ("adm", "x", "3", "4", "adm", "/var/adm", _RNL),
    ("lp", "x", "4", "7", "lp", "/var/spool/lpd", _RNL),
    ("sync", "x", "5", "0", "sync", "/sbin", "/bin/sync"),
    ("shutdown", "x", "6", "0", "shutdown", "/sbin", "/sbin/shutdown"),
    ("halt", "x", "7", "0", "halt", "/sbin", "/sbin/halt"),
    ("mail", "x", "8", "12", "mail", "/var/spool/mail", _RNL),
    ("operator", "x", "11", "0", "operator", "/root", _RNL),
    ("games", "x", "12", "100", "games", "/usr/games", _RNL),
    ("ftp", "x", "14", "50", "FTP User", "/var/ftp", _RNL),
    ("nobody", "x", "65534", "65534", "Kernel Overflow User", "/", _RNL),
    ("systemd-coredump", "x", "999", "997", "systemd Core Dumper", "/", _RNL),
    ("dbus", "x", "81", "81", "System message bus", "/", _RNL),
    ("tss", "x", "59", "59", "Account used for TPM access", "/dev/null", _RNL),
    ("sssd", "x", "998", "995", "User for sssd", "/", _RNL),
    ("chrony", "x", "997", "994", "chrony system user", "/var/lib/chrony", _RNL),
    ("sshd", "x", "74", "74", "Privilege-separated SSH", "/usr/share/empty.sshd", _RNL),
    ("polkitd", "x", "996", "993", "User for polkitd", "/", _RNL),
]

SYSTEM_USERS: dict[str, list[tuple[str, ...]]] = {
    "debian-12": _DEBIAN_USERS + _DEBIAN_12_EXTRA,
    "ubuntu-22.04": _DEBIAN_USERS + _UBUNTU_22_EXTRA,
    "ubuntu-24.04": _DEBIAN_USERS + _UBUNTU_24_EXTRA,
    "rhel-9": _RHEL_USERS,
}

_DEBIAN_GROUPS = [
    ("root", 0, ""),
    ("daemon", 1, ""),
    ("bin", 2, ""),
    ("sys", 3, ""),
    ("adm", 4, ""),
    ("tty", 5, ""),
    ("disk", 6, ""),
    ("lp", 7, ""),
    ("mail", 8, ""),
    ("news", 9, ""),
    ("uucp", 10, ""),
    ("man", 12, ""),
    ("proxy", 13, ""),
    ("kmem", 15, ""),
    ("dialout", 20, ""),
    ("fax", 21, ""),
    ("voice", 22, ""),
    ("cdrom", 24, ""),
    ("floppy", 25, ""),
    ("tape", 26, ""),
    ("sudo", 27, ""),
    ("audio", 29, ""),
    ("dip", 30, ""),
    ("www-data", 33, ""),
    ("backup", 34, ""),
    ("operator", 37, ""),
    ("list", 38, ""),
    ("irc", 39, ""),
    ("src", 40, ""),
    ("shadow", 42, ""),
    ("utmp", 43, ""),
    ("video", 44, ""),
    ("sasl", 45, ""),
    ("plugdev", 46, ""),
    ("staff", 50, ""),
    ("games", 60, ""),
    ("users", 100, ""),
    ("nogroup", 65534, ""),
]
_RHEL_GROUPS = [
    ("root", 0, ""),
    ("bin", 1, ""),
    ("daemon", 2, ""),
    ("sys", 3, ""),
    ("adm", 4, ""),
    ("tty", 5, ""),
    ("disk", 6, ""),
    ("lp", 7, ""),
    ("mem", 8, ""),
    ("kmem", 9, ""),
    ("wheel", 10, ""),
    ("cdrom", 11, ""),
    ("mail", 12, ""),
    ("man", 15, ""),
    ("dialout", 18, ""),
    ("floppy", 19, ""),
    ("games", 20, ""),
    ("tape", 33, ""),
    ("video", 39, ""),
    ("ftp", 50, ""),
    ("lock", 54, ""),
    ("audio", 63, ""),
    ("users", 100, ""),
    ("nobody", 65534, ""),
    ("utmp", 22, ""),
    ("utempter", 35, ""),
    ("input", 999, ""),
    ("kvm", 36, ""),
    ("render", 998, ""),
    ("systemd-journal", 190, ""),
    ("systemd-coredump", 997, ""),
    ("dbus", 81, ""),
    ("tss", 59, ""),
    ("ssh_keys", 101, ""),
    ("sssd", 995, ""),
    ("chrony", 994, ""),
    ("sshd", 74, ""),
    ("polkitd", 993, ""),
]
SYSTEM_GROUPS: dict[str, list[tuple[str, int, str]]] = {
    "debian-12": [
        *_DEBIAN_GROUPS,
        ("systemd-journal", 999, ""),
        ("systemd-network", 998, ""),
        ("systemd-timesync", 997, ""),
        ("netdev", 101, ""),
        ("messagebus", 107, ""),
    ],
    "ubuntu-22.04": [
        *_DEBIAN_GROUPS,
        ("gnats", 41, ""),
        ("systemd-journal", 101, ""),
        ("systemd-network", 102, ""),
        ("systemd-resolve", 103, ""),
        ("crontab", 104, ""),
        ("messagebus", 105, ""),
        ("systemd-timesync", 106, ""),
        ("input", 107, ""),
        ("sgx", 108, ""),
        ("kvm", 109, ""),
        ("render", 110, ""),
        ("syslog", 111, ""),
        ("uuidd", 112, ""),
        ("tcpdump", 113, ""),
        ("netdev", 114, ""),
        ("lxd", 115, ""),
        ("_ssh", 116, ""),
    ],
    "ubuntu-24.04": [
        *_DEBIAN_GROUPS,
        ("systemd-journal", 999, ""),
        ("systemd-network", 998, ""),
        ("systemd-timesync", 996, ""),
        ("messagebus", 101, ""),
        ("systemd-resolve", 992, ""),
        ("syslog", 102, ""),
        ("uuidd", 103, ""),
        ("_ssh", 104, ""),
        ("tcpdump", 105, ""),
        ("netdev", 106, ""),
        ("lxd", 107, ""),
        ("polkitd", 991, ""),
    ],
    "rhel-9": _RHEL_GROUPS,
}

LOGIN_DEFS = {
    "debian": (
        "MAIL_DIR\t/var/mail\nFAILLOG_ENAB\tyes\nLOG_UNKFAIL_ENAB\tno\nLOG_OK_LOGINS\tno\n"
        "SYSLOG_SU_ENAB\tyes\nSYSLOG_SG_ENAB\tyes\nFTMP_FILE\t/var/log/btmp\nSU_NAME\tsu\n"
        "HUSHLOGIN_FILE\t.hushlogin\nENV_SUPATH\tPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        "ENV_PATH\tPATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games\nTTYGROUP\ttty\n"
        "TTYPERM\t0600\nERASECHAR\t0177\nKILLCHAR\t025\nUMASK\t\t022\nPASS_MAX_DAYS\t99999\n"
        "PASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\nUID_MIN\t\t\t 1000\nUID_MAX\t\t\t60000\n"
        "GID_MIN\t\t\t 1000\nGID_MAX\t\t\t60000\nLOGIN_RETRIES\t\t5\nLOGIN_TIMEOUT\t\t60\n"
        "CHFN_RESTRICT\t\trwh\nDEFAULT_HOME\tyes\nUSERGROUPS_ENAB yes\nENCRYPT_METHOD SHA512\n"
    ),
    "rhel": (
        "MAIL_DIR\t/var/spool/mail\nUMASK\t\t022\nHOME_MODE\t0700\nPASS_MAX_DAYS\t99999\n"
        "PASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\nUID_MIN                  1000\nUID_MAX                 60000\n"
        "SYS_UID_MIN               201\nSYS_UID_MAX               999\nSUB_UID_MIN                   100000\n"
        "SUB_UID_MAX                600100000\nSUB_UID_COUNT                  65536\nGID_MIN                  1000\n"
        "GID_MAX                 60000\nSYS_GID_MIN               201\nSYS_GID_MAX               999\n"
        "CREATE_HOME\tyes\nUSERGROUPS_ENAB yes\nENCRYPT_METHOD SHA512\nMAIL_GID 12\n"
    ),
}

SKEL_DEBIAN = {
    ".bash_logout": "# ~/.bash_logout: executed by bash(1) when login shell exits.\n\n"
    'if [ "$SHLVL" = 1 ]; then\n    [ -x /usr/bin/clear_console ] && /usr/bin/clear_console -q\nfi\n',
    ".bashrc": "# ~/.bashrc: executed by bash(1) for non-login shells.\n\ncase $- in\n    *i*) ;;\n"
    "      *) return;;\nesac\n\nHISTCONTROL=ignoreboth\nshopt -s histappend\nHISTSIZE=1000\n"
    "HISTFILESIZE=2000\n",
    ".profile": "# ~/.profile: executed by the command interpreter for login shells.\n\n"
    'if [ -n "$BASH_VERSION" ]; then\n    if [ -f "$HOME/.bashrc" ]; then\n\t. "$HOME/.bashrc"\n'
    '    fi\nfi\n\nif [ -d "$HOME/bin" ] ; then\n    PATH="$HOME/bin:$PATH"\nfi\n',
}
SKEL_RHEL = {
    ".bash_logout": "# ~/.bash_logout\n\n",
    ".bash_profile": "# .bash_profile\n\n# Get the aliases and functions\nif [ -f ~/.bashrc ]; then\n"
    "\t. ~/.bashrc\nfi\n\n# User specific environment and startup programs\n",
    ".bashrc": "# .bashrc\n\n# Source global definitions\nif [ -f /etc/bashrc ]; then\n\t. /etc/bashrc\nfi\n",
}

SSHD_CONFIG = {
    "debian": (
        "Include /etc/ssh/sshd_config.d/*.conf\n\n#PermitRootLogin prohibit-password\n"
        "#PubkeyAuthentication yes\n\n#PasswordAuthentication yes\n#PermitEmptyPasswords no\n\n"
        "KbdInteractiveAuthentication no\n\nUsePAM yes\n\nX11Forwarding yes\nPrintMotd no\n\n"
        "AcceptEnv LANG LC_*\n\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\n"
    ),
    "rhel": (
        "Include /etc/ssh/sshd_config.d/*.conf\n\n#PermitRootLogin prohibit-password\n"
        "#PubkeyAuthentication yes\n\nAuthorizedKeysFile\t.ssh/authorized_keys\n\n"
        "#PasswordAuthentication yes\n#PermitEmptyPasswords no\n\nUsePAM yes\n\nX11Forwarding yes\n\n"
        "Subsystem\tsftp\t/usr/libexec/openssh/sftp-server\n"
    ),
}

CLOUD_CFG = """# The top level settings are used as module
# and base configuration.
users:
   - default

disable_root: true
preserve_hostname: false
ssh_deletekeys: true
ssh_genkeytypes: [rsa, ecdsa, ed25519]

cloud_init_modules:
 - seed_random
 - bootcmd
 - write_files
 - growpart
 - resizefs
 - disk_setup
 - mounts
 - set_hostname
 - update_hostname
 - update_etc_hosts
 - ca_certs
 - rsyslog
 - users_groups
 - ssh

cloud_config_modules:
 - ssh_import_id
 - locale
 - set_passwords
 - timezone
 - runcmd

cloud_final_modules:
 - package_update_upgrade_install
 - scripts_vendor
 - scripts_per_once
 - scripts_per_boot
 - scripts_per_instance
 - scripts_user
 - ssh_authkey_fingerprints
 - keys_to_console
 - final_message

system_info:
   distro: {distro}
   default_user:
     name: {user}
     lock_passwd: True
     gecos: {gecos}
     groups: [{groups}]
     sudo: ["ALL=(ALL) NOPASSWD:ALL"]
     shell: /bin/bash
   paths:
      cloud_dir: /var/lib/cloud/
      templates_dir: /etc/cloud/templates/
   ssh_svcname: ssh
"""

PACKAGES: dict[str, list[tuple[str, str, str]]] = {
    "debian": [
        ("walinuxagent", "", "Microsoft Azure Linux Guest Agent"),
        ("cloud-init", "", "initialization system for infrastructure cloud instances"),
        (
            "openssh-server",
            "1:9.2p1-2+deb12u7",
            "secure shell (SSH) server, for secure access from remote machines",
        ),
        ("sudo", "1.9.13p3-1+deb12u2", "Provide limited super user privileges to specific users"),
        ("systemd", "252.39-1~deb12u1", "system and service manager"),
        ("bash", "5.2.15-2+b8", "GNU Bourne Again SHell"),
        ("coreutils", "9.1-1", "GNU core utilities"),
        ("passwd", "1:4.13+dfsg1-1+deb12u1", "change and administer password and group data"),
        ("isc-dhcp-client", "4.4.3-P1-2", "DHCP client for automatically obtaining an IP address"),
    ],
    "rhel": [
        ("WALinuxAgent", "", "Microsoft Azure Linux Agent"),
        ("cloud-init", "", "Cloud instance init scripts"),
        ("openssh-server", "8.7p1-45.el9", "An open source SSH server daemon"),
        ("sudo", "1.9.5p2-10.el9_6", "Allows restricted root access for specified users"),
        ("systemd", "252-51.el9", "System and Service Manager"),
        ("bash", "5.1.8-9.el9", "The GNU Bourne Again shell"),
        ("coreutils", "8.32-39.el9", "A set of basic GNU tools commonly used in shell scripts"),
        ("shadow-utils", "4.9-12.el9", "Utilities for managing accounts and shadow password files"),
        ("NetworkManager", "1.52.0-3.el9_6", "Network connection manager and user applications"),
    ],
}


def waagent_conf(d: Distro) -> str:
    """The distro's packaged ``/etc/waagent.conf`` (the keys the emulator acts on, plus common neighbours)."""
    if d.key == "debian-12":
        regen, root, agent, keytype = "y", "y", "cloud-init", "auto"
    elif d.is_ubuntu:
        regen, root, agent, keytype = "n", "y", "auto", "rsa"
    else:
        regen, root, agent, keytype = "y", "y", "auto", "rsa"
    return f"""#
# Microsoft Azure Linux Agent Configuration
#

# Enable extension handling. Do not disable this unless you do not need password reset,
# backup, monitoring, or any extension handling whatsoever.
Extensions.Enabled=y

# Which provisioning agent to use. Supported values are "auto" (default), "waagent",
# "cloud-init", or "disabled".
Provisioning.Agent={agent}

# Password authentication for root account will be unavailable.
Provisioning.DeleteRootPassword={root}

# Generate fresh host key pair.
Provisioning.RegenerateSshHostKeyPair={regen}

# Supported values are "rsa", "dsa", "ecdsa", "ed25519", and "auto".
# The "auto" option is supported on OpenSSH 5.9 (2011) and later.
Provisioning.SshHostKeyPairType={keytype}

# Monitor host name changes and publish changes via DHCP requests.
Provisioning.MonitorHostName=y

# Decode CustomData from Base64.
Provisioning.DecodeCustomData=n

# Execute CustomData after provisioning.
Provisioning.ExecuteCustomData=n

# Allow fallback to ext3 if ext4 is unavailable.
ResourceDisk.Format=n

# Enable verbose logging (y|n)
Logs.Verbose=n

# Enable Console logging, default is y
# Logs.Console=y

# Is FIPS enabled
OS.EnableFIPS=n

# Root device timeout in seconds.
OS.RootDeviceScsiTimeout=300

# If "None", the system default version is used.
OS.OpensslPath=None

# Set the SSH ClientAliveInterval
# OS.SshClientAliveInterval=180

# Set the path to SSH keys and configuration files
OS.SshDir=/etc/ssh

# Enable RDMA management and set up, should only be used in HPC images
# OS.EnableRDMA=y

# Add firewall rules to protect access to Azure host node services
OS.EnableFirewall=y

# Enable or disable goal state processing auto-update, default is enabled
# AutoUpdate.Enabled=y
"""

"""``RunShellScript``: the shell's syntax, coreutils' messages, exit codes and admin commands."""

from __future__ import annotations

import pytest

from azemu.guest.linux import base_guest, identity
from azemu.guest.machine import Guest
from tests.unit.guest.test_linux_support import NOW, cloud_init_guest, sh


@pytest.fixture
def g() -> Guest:
    return base_guest("debian-12", NOW)


def test_command_not_found_is_127_with_bash_wording(g: Guest) -> None:
    res = sh(g, "echo one", "frobnicate --now")
    assert res.exit_code == 127
    assert res.stdout == "one\n"
    assert res.stderr == "bash: line 2: frobnicate: command not found\n"


def test_exit_code_is_last_command(g: Guest) -> None:
    assert sh(g, "false", "true").exit_code == 0
    assert sh(g, "true", "false").exit_code == 1
    assert sh(g, "exit 3", "echo never").exit_code == 3
    assert sh(g, "cat /x; echo $?").stdout == "1\n"


def test_missing_file_messages(g: Guest) -> None:
    res = sh(g, "cat /x")
    assert (res.exit_code, res.stderr) == (1, "cat: /x: No such file or directory\n")
    assert sh(g, "rm /nope").stderr == "rm: cannot remove '/nope': No such file or directory\n"
    assert sh(g, "rm -f /nope").exit_code == 0
    res = sh(g, "ls /nope")
    assert (res.exit_code, res.stderr) == (2, "ls: cannot access '/nope': No such file or directory\n")
    assert sh(g, "mkdir /a/b").stderr == "mkdir: cannot create directory '/a/b': No such file or directory\n"
    assert sh(g, "rm /etc").stderr == "rm: cannot remove '/etc': Is a directory\n"
    assert sh(g, "cp /nope /tmp/").stderr == "cp: cannot stat '/nope': No such file or directory\n"


def test_and_or_lists_and_separators(g: Guest) -> None:
    res = sh(g, "true && echo a || echo b; false && echo c || echo d", "false || true && echo e")
    assert res.stdout == "a\nd\ne\n"


def test_redirections(g: Guest) -> None:
    res = sh(
        g,
        "echo first > /tmp/f",
        "echo second >> /tmp/f",
        "cat /nope 2>/dev/null",
        "echo rc=$?",
        "cat /nope > /tmp/err 2>&1",
        "cat /tmp/f",
    )
    assert res.stdout == "rc=1\nfirst\nsecond\n" and res.stderr == ""
    assert g.fs.read_text("/tmp/err") == "cat: /nope: No such file or directory\n"
    assert sh(g, "echo x > /no/dir/f").stderr == "bash: line 1: /no/dir/f: No such file or directory\n"


def test_pipes(g: Guest) -> None:
    res = sh(
        g,
        "cat /etc/passwd | grep -c nologin",
        "grep root /etc/passwd | head -1",
        "cat /etc/passwd | wc -l",
        "echo hi | tee /tmp/t",
    )
    lines = res.stdout.splitlines()
    assert int(lines[0]) > 10 and lines[1].startswith("root:x:0:0:")
    assert int(lines[2]) == g.fs.read_text("/etc/passwd").count("\n") and lines[3] == "hi"
    assert g.fs.read_text("/tmp/t") == "hi\n"


def test_quotes_variables_and_parameters(g: Guest) -> None:
    res = sh(
        g,
        'X="a  b"; echo $X "$X" \'$X\' ${X}',
        "export Y=1; echo $Y",
        "Z=2 printenv Z",
        "echo ${NOPE:-dflt}",
        'echo "$GREETING, $NAME"',
        "echo $(echo sub) `echo tick` $((1 + 2))",
        params=[{"name": "GREETING", "value": "hello"}, {"name": "NAME", "value": "world"}],
    )
    assert res.stdout.splitlines() == ["a b a  b $X a b", "1", "2", "dflt", "hello, world", "sub tick 3"]


def test_hostname_variable_and_commands() -> None:
    g = cloud_init_guest("ubuntu-22.04")
    assert sh(g, "echo $HOSTNAME; hostname").stdout == "myvm-01\nmyvm-01\n"
    sh(g, "sudo hostnamectl set-hostname web-01")
    assert g.fs.read_text("/etc/hostname") == "web-01\n" and identity(g)["hostname"] == "web-01"
    sh(g, "hostname transient")
    assert sh(g, "hostname").stdout == "transient\n" and g.fs.read_text("/etc/hostname") == "web-01\n"


def test_set_e_stops_and_comments(g: Guest) -> None:
    res = sh(g, "set -e", "# a comment", "echo a  # trailing", "false", "echo never")
    assert (res.exit_code, res.stdout) == (1, "a\n")
    assert sh(g, "set -e; false || true; echo ok").stdout == "ok\n"


def test_test_builtin(g: Guest) -> None:
    res = sh(
        g,
        "[ -f /etc/passwd ] && echo f",
        "[ -d /etc ] && echo d",
        "[ -e /nope ] || echo ne",
        "[ -s /etc/machine-id ] || echo empty",
        '[ -z "" ] && echo z',
        "[ abc != abd ] && echo ne2",
        "test 3 -gt 2 && echo gt",
        "[ ! -f /nope ] && echo not",
    )
    assert res.stdout.split() == ["f", "d", "ne", "empty", "z", "ne2", "gt", "not"]
    assert sh(g, "[ 1 -eq x ]").stderr == "bash: line 1: [: x: integer expression expected\n"


def test_files_commands(g: Guest) -> None:
    res = sh(
        g,
        "mkdir -p /srv/app/data && touch /srv/app/data/a && cp /srv/app/data/a /srv/app/b",
        "mv /srv/app/b /srv/app/c && chmod 600 /srv/app/c && ls /srv/app",
        "ls -l /srv/app/c",
        "truncate -s 0 /etc/machine-id",
        "sed -i 's/^UMASK.*/UMASK 027/' /etc/login.defs",
        "grep -q '^UMASK 027' /etc/login.defs && echo sed-ok",
        "rm -rf /srv/app",
        "ls -a /srv",
    )
    out = res.stdout.splitlines()
    assert out[:2] == ["c", "data"] and out[2].startswith("-rw------- 1 root root 0 ")
    assert out[3:] == ["sed-ok", ".", ".."]
    assert not g.fs.exists("/srv/app")


def test_user_management(g: Guest) -> None:
    res = sh(g, "useradd -m -s /bin/bash -G sudo,adm alice", "id alice", "ls -a /home/alice")
    assert res.exit_code == 0
    assert res.stdout.splitlines()[0] == "uid=1000(alice) gid=1000(alice) groups=1000(alice),4(adm),27(sudo)"
    assert ".bashrc" in res.stdout and g.fs.stat("/home/alice").uid == 1000
    assert sh(g, "useradd alice").stderr == "useradd: user 'alice' already exists\n"
    assert sh(g, "passwd -l alice").exit_code == 0
    assert "alice:!" in g.fs.read_text("/etc/shadow")
    assert sh(g, "usermod -aG video alice && id -nG alice").stdout.split() == [
        "alice",
        "adm",
        "sudo",
        "video",
    ]
    assert sh(g, "userdel -r alice").exit_code == 0
    assert not g.fs.exists("/home/alice") and "alice" not in g.fs.read_text("/etc/group")
    res = sh(g, "id bob")
    assert (res.exit_code, res.stderr) == (1, "id: 'bob': no such user\n")
    assert sh(g, "whoami").stdout == "root\n"


def test_packages_per_family() -> None:
    deb = base_guest("debian-12", NOW)
    res = sh(deb, "apt-get update && apt-get install -y nginx")
    assert res.exit_code == 0 and "Package: nginx" in deb.fs.read_text("/var/lib/dpkg/status")
    assert sh(deb, "dnf install -y httpd").exit_code == 127
    assert sh(deb, "apt-get install curl").exit_code == 1  # no -y, no stdin: aborted
    assert (sh(deb, "apt-get clean").stdout, sh(deb, "apt-get clean").exit_code) == ("", 0)  # silent, as apt
    rhel = base_guest("rhel-9", NOW)
    assert sh(rhel, "sudo dnf install -y httpd").exit_code == 0
    assert "httpd-" in rhel.fs.read_text("/var/lib/rpm/installed")
    assert sh(rhel, "apt-get install -y nginx").stderr == "bash: line 1: apt-get: command not found\n"


def test_systemctl_records_enablement(g: Guest) -> None:
    sh(g, "systemctl disable cloud-init")
    assert sh(g, "systemctl is-enabled cloud-init").stdout == "disabled\n"
    assert sh(g, "systemctl enable nginx.service && systemctl is-enabled nginx").stdout == "enabled\n"
    assert sh(g, "systemctl stop walinuxagent; systemctl start walinuxagent").exit_code == 0


def test_power_commands(g: Guest) -> None:
    assert sh(g, "shutdown -h now").power == "poweroff"
    assert sh(g, "sudo shutdown -P now").power == "poweroff"
    assert sh(g, "shutdown -r now").power == "reboot"
    assert sh(g, "poweroff").power == "poweroff"
    assert sh(g, "reboot").power == "reboot"
    assert sh(g, "halt").power == "poweroff"
    assert sh(g, "echo hi").power is None


def test_ssh_keygen_and_machine_id_setup(g: Guest) -> None:
    res = sh(g, "ssh-keygen -A")
    assert res.stdout == "ssh-keygen: generating new host keys: RSA ECDSA ED25519 \n"
    assert len(identity(g)["sshHostKeys"]) == 3
    fp = identity(g)["sshHostKeys"]
    assert sh(g, "ssh-keygen -A").stdout == "" and identity(g)["sshHostKeys"] == fp
    line = sh(g, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").stdout
    assert line.startswith("256 SHA256:") and line.rstrip().endswith("(ED25519)")
    assert sh(g, "cat /etc/machine-id").stdout == ""
    assert sh(g, "systemd-machine-id-setup").stdout == "Initializing machine ID from random generator.\n"
    assert len(sh(g, "cat /etc/machine-id").stdout.strip()) == 32


def test_history_sync_sleep_and_bash_c(g: Guest) -> None:
    res = sh(g, "export HISTSIZE=0 && history -c && sync && sleep 5 && echo done", "bash -c 'echo $((2*21))'")
    assert (res.exit_code, res.stdout) == (0, "done\n42\n")


def test_syntax_error_is_reported(g: Guest) -> None:
    res = sh(g, "echo 'unterminated")
    assert res.exit_code == 2 and "unexpected EOF while looking for matching" in res.stderr


def test_if_for_while(g: Guest) -> None:
    res = sh(
        g,
        "if [ -f /etc/passwd ]; then echo yes; else echo no; fi",
        "if grep -q nothing /etc/passwd",
        "then",
        "  echo found",
        "elif [ -d /etc ]; then echo elif",
        "fi",
        "for u in a b; do echo user-$u; done",
        "i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo i=$i",
    )
    assert (res.exit_code, res.stdout) == (0, "yes\nelif\nuser-a\nuser-b\ni=3\n")
    assert sh(g, "set -e; if false; then echo x; fi; echo after").stdout == "after\n"
    # bash counts the end of the file as the line after the last one
    assert sh(g, "if true; then echo x").stderr == "bash: line 2: syntax error: unexpected end of file\n"


def test_here_documents(g: Guest) -> None:
    res = sh(g, "N=5", "cat <<EOF > /etc/app.conf", "value=$N", "EOF", "cat <<'END'", "$N raw", "END")
    assert res.stdout == "$N raw\n" and g.fs.read_text("/etc/app.conf") == "value=5\n"

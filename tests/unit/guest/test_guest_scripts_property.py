"""No script text crashes a guest: random text, token soups built from bash/PowerShell syntax, and truncated or
mutated real scripts go through ``guest.api.run_script``; every run ends with an ExecResult, the guest still
answers ``echo ok`` / ``Write-Output ok`` afterwards, and the internal-error safety net never fired (a syntax
error is the script's failure, reported the way the real shell reports it)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azemu.guest import api, linux
from azemu.guest.machine import ExecContext, ExecResult, Guest, OsProfile

NOW = 1_764_000_000.0
CTX = ExecContext(NOW, "00000000-0000-0000-0000-0000000000aa", "fuzz")


def _booted(distro: str) -> Guest:
    g = api.base_guest(distro, NOW)
    api.first_boot(g, OsProfile("fuzz", "azureuser", "Sup3r-Secret!"), CTX)
    return g


LINUX = _booted("debian-12")
WINDOWS = _booted("windows-2022")

BASH_FRAGMENTS = (
    "echo", "x", "$x", "${x", "}", "${x:-a}", "${#x}", "${x%.*}", "${x//a/b}", "${x:1:2}", "${!x}", "$(", ")",
    "$((", "))", "((", "(", "`", "'", '"', "\\", "|", "||", "&&", "&", ";", ";;", ";&", "\n", "<<", "<<-", "EOF",
    "<<<", ">", ">>", "2>&1", ">&2", "<", "if", "then", "else", "elif", "fi", "for", "in", "do", "done", "while",
    "until", "case", "esac", "function", "f()", "{", "}", "[[", "]]", "[", "]", "!", "=~", "==", "-eq", "-f", "-z",
    "$@", '"$@"', "$*", "$?", "$1", "$#", "shift", "local", "return", "break", "continue", "set -e", "set -u",
    "set -o pipefail", "set -x", "export", "read", "a=(1 2)", "${a[@]}", "${a[", "1", "+", "*", "/", "0", "**",
    "?", ":", "=", "x=1", "let", "eval", "source", "bash -c", "exit", "seq 1 3", "cat", "grep", "sed", "printf",
    "%s", "%d", "~", "[a-z]", "{a,b}", "{1..3}", "$'\\x41'", "#", "test", "trap", "exec", "/dev/null",
    "declare -a", "unset", "readonly", "IFS=:", " ", "\t", "$RANDOM", "${x:?}", "${x^^}", "--", "sudo",
    "waagent -deprovision+user -force", "cloud-init clean", "useradd -m bob", "rm -rf /tmp", "touch /tmp/f",
)  # fmt: skip
PS_FRAGMENTS = (
    "Write-Output", "x", "$x", "$_", "$env:PATH", "${a b}", "$(", ")", "@(", "@{", "}", "{", "(", "[", "]", "[int]",
    "[string]::Join", "::", ".", "..", ",", ";", "|", "\n", "`", "'", '"', "'a'", '"b $x"', "@'\na\n'@",
    '@"\nb $(1)\n"@', "1", "2.5", "0x10", "1kb", "-1", "+", "-", "*", "/", "%", "=", "+=", "++", "--", "-eq",
    "-ne", "-like", "-match", "-replace", "-split", "-join", "-f", "-and", "-or", "-not", "!", "-contains", "-in",
    "-is", "-as", "if", "elseif", "else", "foreach", "in", "for", "while", "do", "until", "switch", "default",
    "function", "param", "try", "catch", "finally", "throw", "return", "break", "continue", "exit", "begin",
    "process", "end", "ForEach-Object", "Where-Object", "%", "?", "Get-ChildItem", "Get-Item", "C:\\Windows",
    "-Path", "-ErrorAction", "Stop", "SilentlyContinue", ">", "2>&1", "$null", "$true", ".ToUpper()", ".Length",
    "[0]", "&", "Invoke-Expression", "Sort-Object", "Select-Object", "-Property", "Name", "#", "<#", "#>",
    "hostname", "sysprep.exe", "/generalize", "Set-Content", "New-Item", "Get-Content", "Remove-Item", "-Recurse",
    "[pscustomobject]", "$Matches", "$?", "Start-MpScan", "-AsJob", "Get-Job", "Get-Date", "Test-Path",
    "Add-Member", "Set-MpPreference", "Install-WindowsFeature", "Add-Computer", "Enable-BitLocker",
)  # fmt: skip
BASH_SCRIPTS = (
    'set -euo pipefail\nfor i in $(seq 1 3); do echo "item $i"; done',
    'case "$1" in start|go) echo starting;; stop) echo stopping;; *) echo "usage: $0" >&2; exit 2;; esac',
    "f() { local n=${1:-0}; (( n > 0 )) && { echo $n; f $((n - 1)); }; return 0; }\nf 3",
    "while read -r line; do echo \"[$line]\"; done <<'EOF'\na b\n$c\nEOF",
    'cfg=/etc/app.conf\ncat > "$cfg" <<EOF\nname=${HOSTNAME}\nEOF\ngrep -q name "$cfg" || exit 1',
    "[[ -f /etc/passwd && $(id -u) -eq 0 ]] && echo root || echo other",
    'arr=(one two three); echo ${#arr[@]} "${arr[@]:1}"; s=/a/b.tar.gz; echo ${s##*/} ${s%%.*}',
    "(cd /tmp && touch made) ; { echo a; echo b; } | sort -r ; echo $(( 2 ** 10 % 7 ))",
    "sudo waagent -deprovision+user -force && export HISTSIZE=0 && sync",
)
PS_SCRIPTS = (
    'foreach ($i in 1..3) { if ($i -eq 2) { continue }; "item $i" }',
    "function Get-Thing { param([int]$a = 1, [switch]$s) if ($s) { $a * 2 } else { $a } }\nGet-Thing -a 3 -s",
    "try { 1 / $null } catch { \"error: $($_.Exception.Message)\" } finally { 'done' }",
    "$h = @{ a = 1; b = @(1, 2) }; $h.b[1]; '{0:N2} {1,5}' -f 3.14159, 'x'",
    "Get-ChildItem C:\\Windows | Where-Object { $_.Name -like 'S*' } | ForEach-Object { $_.Name.ToUpper() }",
    "switch -Regex ('abc', 'xyz') { '^a' { 'A' } default { \"D $_\" } }",
    "$o = [pscustomobject]@{ N = 1 }; $o.N += 1; $o | Format-List",
    "Set-MpPreference -DisableRealtimeMonitoring $true\n& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit",
    "$ErrorActionPreference = 'Stop'\nNew-Item -ItemType Directory -Path C:\\temp -Force | Out-Null\nSet-Content C:\\temp\\a.txt 'x'",
)
ANY_CHAR = st.characters(blacklist_categories=())  # surrogates included: the API turns them into U+FFFD


def scripts(fragments: tuple[str, ...], valid: tuple[str, ...]) -> st.SearchStrategy[str]:
    soup = st.lists(st.sampled_from(fragments), max_size=30)
    truncated = st.sampled_from(valid).flatmap(lambda s: st.integers(0, len(s)).map(lambda n: s[:n]))
    mutated = st.tuples(
        st.sampled_from(valid), st.integers(0, 10_000), st.integers(0, 3), st.sampled_from(fragments)
    ).map(lambda t: t[0][: t[1] % (len(t[0]) + 1)] + t[3] + t[0][t[1] % (len(t[0]) + 1) + t[2] :])
    return st.one_of(
        st.text(max_size=120),
        st.text(ANY_CHAR, max_size=60),
        soup.map(" ".join),
        soup.map("".join),
        truncated,
        mutated,
        st.sampled_from(valid),
    )


def check(base: Guest, command_id: str, script: str, probe: str) -> None:
    g = base.copy()
    params = [{"name": "p1", "value": script[:20]}]
    r = api.run_script(g, command_id, script.split("\n"), params, CTX)
    assert isinstance(r, ExecResult)
    assert isinstance(r.exit_code, int) and isinstance(r.stdout, str) and isinstance(r.stderr, str)
    assert api.INTERNAL_ERROR not in r.stderr, r.stderr
    after = api.run_script(g, command_id, [probe], [], CTX)
    assert (after.exit_code, after.stdout) == (0, "ok\n"), after.stderr


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(script=scripts(BASH_FRAGMENTS, BASH_SCRIPTS))
def test_bash_scripts_never_crash_the_guest(script: str) -> None:
    check(LINUX, "RunShellScript", script, "echo ok")


@FUZZ
@given(script=scripts(PS_FRAGMENTS, PS_SCRIPTS))
def test_powershell_scripts_never_crash_the_guest(script: str) -> None:
    check(WINDOWS, "RunPowerShellScript", script, "Write-Output ok")


def test_the_valid_seed_scripts_succeed() -> None:
    for script in BASH_SCRIPTS[:-1]:
        r = api.run_script(
            LINUX.copy(), "RunShellScript", script.split("\n"), [{"name": "x", "value": "1"}], CTX
        )
        assert api.INTERNAL_ERROR not in r.stderr
        assert r.exit_code in (0, 2), (script, r.stderr)
    for script in PS_SCRIPTS:
        r = api.run_script(WINDOWS.copy(), "RunPowerShellScript", script.split("\n"), [], CTX)
        assert (r.exit_code, r.stderr) == (0, ""), (script, r.stderr)


def test_the_safety_net_reports_a_bug_as_a_failed_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kw: object) -> ExecResult:
        raise KeyError("boom")

    monkeypatch.setattr(linux, "run_shell", broken)
    with caplog.at_level(logging.ERROR, logger="azemu.guest.api"):
        r = api.run_script(LINUX.copy(), "RunShellScript", ["echo hi"], [], CTX)
    assert r.exit_code == 1 and r.stderr.startswith(api.INTERNAL_ERROR)
    assert "guest script failed inside azemu" in caplog.text


def test_unpaired_surrogates_become_replacement_characters() -> None:
    r = api.run_script(LINUX.copy(), "RunShellScript", ["echo '\ud800x'"], [], CTX)
    assert (r.exit_code, r.stdout) == (0, "\ufffdx\n")

"""The PowerShell subset, row by row: operator precedence, conversions, control flow, functions, errors.

Each row is ``(script, stdout, exit code)`` as Windows PowerShell 5.1 prints it when Run Command runs the
script; ERRORS rows add the exact stderr. To add a case, append a row (multi-line scripts use ``\\n``).
"""

from __future__ import annotations

import pytest

from azemu.guest.machine import ExecContext, Guest, OsProfile
from azemu.guest.windows import base_guest, first_boot, run_powershell

NOW = 1_764_000_000.0
CTX = ExecContext(NOW, "00000000-0000-0000-0000-000000000004", "vm4")
BASE: Guest = base_guest("windows-2022", NOW)
first_boot(BASE, OsProfile("psvm", "azureuser", "Sup3r-Secret!"), CTX)

# (script, stdout, exit code)
ROWS: list[tuple[str, str, int]] = [
    ("1 + 2 * 3", "7\n", 0),
    ("(1 + 2) * 3", "9\n", 0),
    ("2 * 3 + 4 * 5", "26\n", 0),
    ("10 - 2 - 3", "5\n", 0),
    ("7 / 2", "3.5\n", 0),
    ("6 / 3", "2\n", 0),
    ("7 % 3", "1\n", 0),
    ("-7 % 3", "-1\n", 0),
    ("-2 * 3", "-6\n", 0),
    ("- 5 + 2", "-3\n", 0),
    ("1 + 2 -eq 3", "True\n", 0),
    ("2 + 3 * 4 -gt 10 -and $true", "True\n", 0),
    ("-not $true -eq $false", "True\n", 0),
    ("!$false", "True\n", 0),
    ("1, 2 + 3", "1\n2\n3\n", 0),
    ("1..4 -join ','", "1,2,3,4\n", 0),
    ("\"{0}-{1}\" -f 1, 2 -join '+'", "1-2\n", 0),
    ('"a" + "b" * 2', "abb\n", 0),
    ('"5" + 5', "55\n", 0),
    ('5 + "5"', "10\n", 0),
    ('"ab" * 3', "ababab\n", 0),
    ("@(1, 2) + @(3)", "1\n2\n3\n", 0),
    ("(1, 2, 3).Count", "3\n", 0),
    ("$null -eq $null", "True\n", 0),
    ("1, 2, 3, 2 -eq 2", "2\n2\n", 0),
    ("@(1, 5, 10) -gt 4", "5\n10\n", 0),
    ('"apple", "banana" -like "*an*"', "banana\n", 0),
    ('"ABC" -eq "abc"', "True\n", 0),
    ('"ABC" -ceq "abc"', "False\n", 0),
    ('"b" -gt "a"', "True\n", 0),
    ('"10" -gt 9', "False\n", 0),
    ('10 -gt "9"', "True\n", 0),
    ("3 -in 1, 2, 3", "True\n", 0),
    ("@(1, 2) -contains 3", "False\n", 0),
    ('"hello world" -match "w(or)ld"; $Matches[1]', "True\nor\n", 0),
    ('"Hello" -replace "l", "L"', "HeLLo\n", 0),
    ("\"2024-01-15\" -replace '(\\d+)-(\\d+)-(\\d+)', '$3/$2/$1'", "15/01/2024\n", 0),
    ('"a,b,,c" -split ","', "a\nb\n\nc\n", 0),
    ('-split "  one  two "', "one\ntwo\n", 0),
    ('"{0:N2} {1:D3} {2:X} {3,4}|{4,-4}|" -f 1234.567, 7, 255, "r", "l"', "1,234.57 007 FF    r|l   |\n", 0),
    ('"{0:P1}" -f 0.125', "12.5 %\n", 0),
    ("5 -band 3; 5 -bor 3; 5 -bxor 3; -bnot 0", "1\n7\n6\n-1\n", 0),
    ('[int]"42" + 1', "43\n", 0),
    ("[int]2.5; [int]3.5; [int]-2.5", "2\n4\n-2\n", 0),
    ("[string]12 + 3", "123\n", 0),
    ('[bool]"false"; [bool]""; [bool]0; [bool]@()', "True\nFalse\nFalse\nFalse\n", 0),
    ('[double]"1.25" * 2', "2.5\n", 0),
    ('"abc".ToUpper(); "ABC".ToLower(); "  x ".Trim(); "abc".Length', "ABC\nabc\nx\n3\n", 0),
    ('"a-b-c".Split("-")[1]', "b\n", 0),
    ('"hello".Substring(1, 3); "hello".IndexOf("l"); "hello".Contains("ell")', "ell\n2\nTrue\n", 0),
    ('"path\\file.txt".EndsWith(".txt")', "True\n", 0),
    ("[math]::Max(3, 9); [math]::Round(2.5); [math]::Floor(2.7)", "9\n2\n2\n", 0),
    ('[string]::IsNullOrEmpty($null); [string]::Join(", ", @("a", "b"))', "True\na, b\n", 0),
    ("$x = 5; $x += 2; $x *= 3; $x", "21\n", 0),
    ('$s = "a"; $s += "b"; $s', "ab\n", 0),
    ("$a = @(); $a += 1; $a += 2; $a.Count", "2\n", 0),
    ('$h = @{ b = 2; a = 1 }; $h.a + $h["b"]; $h.Count', "3\n2\n", 0),
    ('$h = @{}; $h.Key = "v"; $h.ContainsKey("key")', "True\n", 0),
    ('$o = [pscustomobject]@{ Name = "n"; Size = 3 }; $o.Name; $o.Size * 2', "n\n6\n", 0),
    ('$arr = 10, 20, 30; $arr[0]; $arr[-1]; $arr[1..2] -join ","', "10\n30\n20,30\n", 0),
    ('$a, $b = 1, 2, 3; $a; $b -join ","', "1\n2,3\n", 0),
    ("$i = 0; $i++; ++$i; $i", "2\n", 0),
    ('$x = 10\nif ($x -gt 5) { "big" } elseif ($x -gt 2) { "medium" } else { "small" }', "big\n", 0),
    ('if ($false) { "no" } else { "else" }', "else\n", 0),
    ('if (0) { "zero" } elseif ("") { "empty" } else { "falsy" }', "falsy\n", 0),
    ('foreach ($n in 1..3) { "n=$n" }', "n=1\nn=2\nn=3\n", 0),
    ('foreach ($n in @()) { "never" }; "after"', "after\n", 0),
    ("for ($i = 0; $i -lt 3; $i++) { $i }", "0\n1\n2\n", 0),
    ("$i = 0; while ($i -lt 3) { $i++ }; $i", "3\n", 0),
    ("$i = 5; do { $i-- } until ($i -le 2); $i", "2\n", 0),
    ("foreach ($n in 1..5) { if ($n -eq 2) { continue }; if ($n -eq 4) { break }; $n }", "1\n3\n", 0),
    ('switch (2) { 1 { "one" } 2 { "two" } default { "other" } }', "two\n", 0),
    ('switch ("x") { 1 { "one" } default { "default" } }', "default\n", 0),
    (
        'switch -Wildcard ("app.log", "b.txt") { "*.log" { "log $_" } "*.txt" { "text $_" } }',
        "log app.log\ntext b.txt\n",
        0,
    ),
    ('switch -Regex ("abc") { "^a" { "starts" } "c$" { "ends" } }', "starts\nends\n", 0),
    ('switch (1, 2, 3) { 2 { "two"; break } default { "d$_" } }', "d1\ntwo\n", 0),
    ("1..5 | ForEach-Object { $_ * $_ }", "1\n4\n9\n16\n25\n", 0),
    ("1..6 | Where-Object { $_ % 3 -eq 0 }", "3\n6\n", 0),
    ('"a", "b" | ForEach-Object { $_.ToUpper() }', "A\nB\n", 0),
    ("3, 1, 2 | Sort-Object", "1\n2\n3\n", 0),
    ('"b", "a" | Sort-Object -Descending', "b\na\n", 0),
    ("(1..4 | Measure-Object -Sum).Sum", "10\n", 0),
    ('1..3 | ForEach-Object -Begin { "start" } -Process { $_ } -End { "end" }', "start\n1\n2\n3\nend\n", 0),
    ("function Add { param($a, $b = 10) $a + $b }; Add 1; Add 1 2; Add -b 5 -a 1", "11\n3\n6\n", 0),
    ('function Get-Sq([int]$n) { return $n * $n; "unreached" }; Get-Sq 4', "16\n", 0),
    (
        'function Test-Sw { param([switch]$On) if ($On) { "on" } else { "off" } }; Test-Sw; Test-Sw -On',
        "off\non\n",
        0,
    ),
    ("function Sum { $t = 0; foreach ($v in $args) { $t += $v }; $t }; Sum 1 2 3", "6\n", 0),
    ("function Inc { process { $_ + 1 } }; 1, 2 | Inc", "2\n3\n", 0),
    ('function Outer { $v = "outer"; Inner }; function Inner { "sees $v" }; Outer', "sees outer\n", 0),
    ("$g = 1; function Set-G { $g = 2 }; Set-G; $g", "1\n", 0),
    ("$g = 1; function Set-G { $script:g = 2 }; Set-G; $g", "2\n", 0),
    ('& { param($p) "block $p" } "arg"', "block arg\n", 0),
    ("$sb = { $args[0] * 2 }; & $sb 21; $sb.Invoke(4)", "42\n8\n", 0),
    (
        'try { 1 / 0 } catch { "caught: " + $_.Exception.Message }',
        "caught: Attempted to divide by zero.\n",
        0,
    ),
    ('try { throw "boom" } catch { "got $_" } finally { "cleanup" }', "got boom\ncleanup\n", 0),
    ('try { throw "x" } catch [System.DivideByZeroException] { "dbz" } catch { "other" }', "other\n", 0),
    ('try { 1 / 0 } catch [System.DivideByZeroException] { "dbz" }', "dbz\n", 0),
    (
        "try { Get-Item C:\\nope -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }",
        "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand\n",
        0,
    ),
    (
        'try { try { throw "in" } finally { "inner finally" } } catch { "outer: $_" }',
        "inner finally\nouter: in\n",
        0,
    ),
    (
        'function Fail { throw "from function" }; try { Fail } catch { "caught $_" }',
        "caught from function\n",
        0,
    ),
    ('$ErrorActionPreference = "Stop"; try { Get-Item C:\\nope } catch { "stopped" }', "stopped\n", 0),
    ('"Sum: $(1 + 2)"', "Sum: 3\n", 0),
    ('"Items: $(1..3)"', "Items: 1 2 3\n", 0),
    ('$name = "W"; "Hello, $name!"', "Hello, W!\n", 0),
    ('$o = [pscustomobject]@{ N = 1 }; "N is $($o.N)"', "N is 1\n", 0),
    ("'single $name'", "single $name\n", 0),
    ('"escaped `$name and tab:`t."', "escaped $name and tab:\t.\n", 0),
    ('"quote "" inside"', 'quote " inside\n', 0),
    ('@"\nhere $(2 * 2)\n"@', "here 4\n", 0),
    ("Write-Output a b c", "a\nb\nc\n", 0),
    ('Write-Output "x" | ForEach-Object { "[$_]" }', "[x]\n", 0),
    ('Write-Host "to host"; Write-Output "to output"', "to host\nto output\n", 0),
    ('"before"; $null = "hidden"; [void]"hidden"; "after"', "before\nafter\n", 0),
    ('"x" > $null; "visible"', "visible\n", 0),
    ('$list = New-Object System.Collections.ArrayList; [void]$list.Add("a"); $list.Count', "1\n", 0),
    ('[string]::Format("{0}+{1}", 1, 2)', "1+2\n", 0),
    ('$d = Get-Date -Format "yyyy-MM-dd"; $d', "2025-11-24\n", 0),
    ("(Get-Command Write-Output).Name", "Write-Output\n", 0),
    ("Test-Path C:\\Windows; Test-Path C:\\nope", "True\nFalse\n", 0),
    ("exit 4", "", 4),
    ('if ($true) { "a" }\n"b"', "a\nb\n", 0),
    ('try { "t" } finally { "f" }\n"after"', "t\nf\nafter\n", 0),
    ('if ($false) { "a" }\nelse { "e" }', "e\n", 0),
    ("(Get-Service RdAgent).Status", "Running\n", 0),
    (
        "Stop-Service W32Time; (Get-Service W32Time).Status; Start-Service W32Time; (Get-Service W32Time).Status",
        "Stopped\nRunning\n",
        0,
    ),
]

# (script, stdout, stderr, exit code)
ERRORS: list[tuple[str, str, str, int]] = [
    (
        "if ($x) {",
        "",
        "At line:1 char:9\n+ if ($x) {\n+         ~\nMissing closing '}' in statement block or type definition.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : MissingEndCurlyBrace\n\n",
        1,
    ),
    (
        '"unterminated',
        "",
        'At line:1 char:1\n+ "unterminated\n+ ~~~~~~~~~~~~~\nThe string is missing the terminator: ".\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : TerminatorExpectedAtEndOfString\n\n',
        1,
    ),
    (
        "1 +",
        "",
        "At line:1 char:4\n+ 1 +\n+    ~\nYou must provide a value expression following the '+' operator.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : ExpectedValueExpression\n\n",
        1,
    ),
    (
        "(1 + 2",
        "",
        "At line:1 char:7\n+ (1 + 2\n+       ~\nMissing closing ')' in expression.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : MissingEndParenthesisInExpression\n\n",
        1,
    ),
    (
        'Get-Process | "x"',
        "",
        'At line:1 char:15\n+ Get-Process | "x"\n+               ~~~\nExpressions are only allowed as the first element of a pipeline.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : ExpressionsMustBeFirstInPipeline\n\n',
        1,
    ),
    (
        "$x =",
        "",
        "At line:1 char:5\n+ $x =\n+     ~\nYou must provide a value expression following the '=' operator.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : ExpectedValueExpression\n\n",
        1,
    ),
    (
        "foreach ($i 1..3) { }",
        "",
        "At line:1 char:12\n+ foreach ($i 1..3) { }\n+            ~\nMissing 'in' after variable in foreach loop.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : MissingInInForeach\n\n",
        1,
    ),
    (
        'throw "stop"',
        "",
        'stop\nAt line:1 char:1\n+ throw "stop"\n+ ~~~~~~~~~~~~\n    + CategoryInfo          : OperationStopped: (stop:String) [], RuntimeException\n    + FullyQualifiedErrorId : stop\n\n',
        1,
    ),
    (
        '$z = 0; 1 / $z; "next"',
        "next\n",
        'Attempted to divide by zero.\nAt line:1 char:9\n+ $z = 0; 1 / $z; "next"\n+         ~~~~~~\n    + CategoryInfo          : NotSpecified: (:) [], RuntimeException\n    + FullyQualifiedErrorId : RuntimeException\n\n',
        0,
    ),
    (
        "Get-Fooo",
        "",
        "Get-Fooo : The term 'Get-Fooo' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.\nAt line:1 char:1\n+ Get-Fooo\n+ ~~~~~~~~\n    + CategoryInfo          : ObjectNotFound: (Get-Fooo:String) [], CommandNotFoundException\n    + FullyQualifiedErrorId : CommandNotFoundException\n\n",
        1,
    ),
    (
        "$null.Method()",
        "",
        "You cannot call a method on a null-valued expression.\nAt line:1 char:1\n+ $null.Method()\n+ ~~~~~~~~~~~~~~\n    + CategoryInfo          : InvalidOperation: (:) [], RuntimeException\n    + FullyQualifiedErrorId : InvokeMethodOnNull\n\n",
        1,
    ),
    (
        '[int]"abc"',
        "",
        'Cannot convert value "abc" to type "System.Int32". Error: "Input string was not in a correct format."\nAt line:1 char:1\n+ [int]"abc"\n+ ~~~~~~~~~~\n    + CategoryInfo          : InvalidArgument: (:) [], RuntimeException\n    + FullyQualifiedErrorId : InvalidCastFromStringToInteger\n\n',
        1,
    ),
    (
        "class Foo { }",
        "",
        "At line:1 char:1\n+ class Foo { }\n+ ~~~~~\nazemu: the 'class' statement is not supported by this emulator's PowerShell subset.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : AzemuUnsupportedStatement\n\n",
        1,
    ),
]


def run(script: str) -> tuple[str, str, int]:
    r = run_powershell(BASE.copy(), script.split("\n"), [], CTX)
    return r.stdout, r.stderr, r.exit_code


@pytest.mark.parametrize(("script", "stdout", "code"), ROWS, ids=[r[0][:40] for r in ROWS])
def test_powershell_language(script: str, stdout: str, code: int) -> None:
    out, err, rc = run(script)
    assert (out, rc) == (stdout, code), err


@pytest.mark.parametrize(("script", "stdout", "stderr", "code"), ERRORS, ids=[r[0][:40] for r in ERRORS])
def test_powershell_errors(script: str, stdout: str, stderr: str, code: int) -> None:
    assert run(script) == (stdout, stderr, code)


def test_a_parse_error_anywhere_runs_nothing() -> None:
    g = BASE.copy()
    r = run_powershell(g, ["New-Item -ItemType Directory C:\\made | Out-Null", "if ($x) {"], [], CTX)
    assert r.exit_code == 1 and not g.fs.exists("C:\\made")


def test_function_output_and_write_host_keep_their_order() -> None:
    out, _, _ = run('function f { "a"; Write-Host "b"; "c" }\nf')
    assert out == "a\nb\nc\n"


def test_catch_sees_the_error_record() -> None:
    out, err, rc = run(
        "try { Get-Content C:\\nope.txt -ErrorAction Stop } catch { $_.Exception.Message; $_.CategoryInfo }"
    )
    assert rc == 0 and err == ""
    assert out.splitlines() == [
        "Cannot find path 'C:\\nope.txt' because it does not exist.",
        "ObjectNotFound: (C:\\nope.txt:String) [Get-Content], ItemNotFoundException",
    ]


def test_script_parameters_bind_through_param_block() -> None:
    r = run_powershell(
        BASE.copy(),
        ["param([string]$Name = 'default', [int]$Count = 1)", '"$Name x $Count"'],
        [{"name": "Count", "value": "3"}],
        CTX,
    )
    assert r.stdout == "default x 3\n"


def test_deep_recursion_is_an_error_not_a_crash() -> None:
    out, err, rc = run("function f { f }; f; 'after'")
    assert "The script failed due to call depth overflow." in err and rc == 1 and out == ""

"""The bash subset, row by row. Every row was run through GNU bash 5.2 (``bash < script``) and the
emulator must print the same thing.

To add a case: run the script through real bash, then append ``(script, stdout, exit code)`` to ROWS (or
``(script, stdout, stderr, exit code)`` to ERRORS when the error text matters). Multi-line scripts use
``\\n``; Run Command joins the lines the same way.
"""

from __future__ import annotations

import pytest

from azemu.guest.linux import base_guest
from azemu.guest.machine import Guest
from tests.unit.guest.test_linux_support import NOW, sh

BASE = base_guest("debian-12", NOW)

# (script, stdout, exit code)
ROWS: list[tuple[str, str, int]] = [
    ("case abc in a|b) echo 1;; a*) echo 2;; *) echo 3;; esac", "2\n", 0),
    ("case x in (x) echo paren;; esac", "paren\n", 0),
    ('case "hello" in h*o) echo m1 ;& x) echo m2 ;; *) echo m3 ;; esac', "m1\nm2\n", 0),
    ("case b in a) echo a;; b) echo b;;& *) echo star;; esac", "b\nstar\n", 0),
    ("case a.txt in *.sh) echo sh;; *.txt|*.md) echo doc;; esac", "doc\n", 0),
    (
        "pat='*.log'; case app.log in $pat) echo glob;; esac; case '*' in \"*\") echo literal;; esac",
        "glob\nliteral\n",
        0,
    ),
    ("case 5 in [0-9]) echo digit;; esac; case Z in [[:upper:]]) echo upper;; esac", "digit\nupper\n", 0),
    ('f() { echo "f:$1:$#"; }; f a b', "f:a:2\n", 0),
    ('function g { echo "g:$*"; }; g x y z', "g:x y z\n", 0),
    ("f() { local x=inner; echo $x; }; x=outer; f; echo $x", "inner\nouter\n", 0),
    ("f() { return 3; }; f; echo $?", "3\n", 0),
    ("f() { echo $FUNCNAME; }; f", "f\n", 0),
    (
        "f() { local n=$1; if [ $n -le 1 ]; then echo 1; return; fi; echo $(( n * $(f $((n-1))) )); }; f 5",
        "120\n",
        0,
    ),
    ('f() { shift; echo "$@"; }; f a b c', "b c\n", 0),
    ("x=1; (x=2; echo in $x); echo out $x", "in 2\nout 1\n", 0),
    ("(cd /tmp; pwd); pwd", "/tmp\n/\n", 0),
    ("(exit 3); echo $?", "3\n", 0),
    ("{ echo a; echo b; } | wc -l", "2\n", 0),
    ("{ x=grouped; }; echo $x", "grouped\n", 0),
    ("true && echo a || echo b", "a\n", 0),
    ("false && echo a || echo b", "b\n", 0),
    ("false || false && echo c", "", 1),
    ("true || echo skipped && echo d", "d\n", 0),
    ("! false && echo negated", "negated\n", 0),
    ("! true; echo $?", "1\n", 0),
    ("cat <<EOF\nhome is $HOME\nEOF", "home is /root\n", 0),
    ("cat <<'EOF'\nno $HOME here\nEOF", "no $HOME here\n", 0),
    ("cat <<-EOF\n\ttab stripped\n\tEOF", "tab stripped\n", 0),
    (
        "echo $(( 1 + 2 * 3 )) $(( (1 + 2) * 3 )) $(( 2 ** 10 )) $(( 17 % 5 )) $(( -7 / 2 ))",
        "7 9 1024 2 -3\n",
        0,
    ),
    ("x=5; (( x += 3 )); echo $x; (( x++ )); echo $x; (( y = x > 8 ? 1 : 0 )); echo $y", "8\n9\n1\n", 0),
    (
        "echo $(( 1 < 2 && 2 < 3 )) $(( !1 )) $(( 6 & 3 )) $(( 6 | 3 )) $(( 6 ^ 3 )) $(( 1 << 4 ))",
        "1 0 2 7 5 16\n",
        0,
    ),
    ("(( 0 )); echo $?; (( 5 )); echo $?", "1\n0\n", 0),
    ("n=3; echo $(( n * n )) $(( $n + 1 ))", "9 4\n", 0),
    ("for i in $(seq 1 3); do echo $i; done", "1\n2\n3\n", 0),
    ('for i in a "b c"; do echo "[$i]"; done', "[a]\n[b c]\n", 0),
    ("for ((i = 0; i < 3; i++)); do echo -n $i; done; echo", "012\n", 0),
    ("i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo $i", "3\n", 0),
    ("i=0; until [ $i -ge 2 ]; do i=$((i + 1)); done; echo $i", "2\n", 0),
    ("for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done", "1\n3\n", 0),
    (
        "printf 'a b\nc d\n' > /tmp/in.txt; while read x y; do echo \"$y $x\"; done < /tmp/in.txt",
        "b a\nd c\n",
        0,
    ),
    ('printf \'l1\nl2\' | while read -r line || [ -n "$line" ]; do echo "<$line>"; done', "<l1>\n<l2>\n", 0),
    (
        'IFS=: read -r user pw uid rest <<< "root:x:0:0:root:/root"; echo $user $uid $rest',
        "root 0 0:root:/root\n",
        0,
    ),
    ("[[ abc == a* ]] && echo match", "match\n", 0),
    ('[[ -n "x" && ! -z "x" ]] && echo both', "both\n", 0),
    ("[[ 10 -gt 9 ]] && echo numeric; [[ 10 > 9 ]] || echo string", "numeric\nstring\n", 0),
    ("[[ ab12 =~ ^([a-z]+)([0-9]+)$ ]] && echo ${BASH_REMATCH[1]}-${BASH_REMATCH[2]}", "ab-12\n", 0),
    ("[[ -d /etc && -f /etc/passwd ]] && echo files", "files\n", 0),
    ("set -e; false || true; echo survived", "survived\n", 0),
    ("set -e; false; echo not-reached", "", 1),
    ("set -e; if false; then :; fi; echo if-ok", "if-ok\n", 0),
    ("set -euo pipefail; echo strict", "strict\n", 0),
    ("set -u; echo ${UNSET_VAR:-fallback}", "fallback\n", 0),
    ("set -o pipefail; false | true; echo $?", "1\n", 0),
    ("false | true; echo $?", "0\n", 0),
    ("export A=1; bash -c 'echo $A'", "1\n", 0),
    ("B=2; bash -c 'echo \"[$B]\"'", "[]\n", 0),
    ("C=3 bash -c 'echo $C'", "3\n", 0),
    ("echo ${NOPE:-default} ${NOPE-unset}", "default unset\n", 0),
    ('x=; echo "${x:-empty}" "${x-set}"', "empty \n", 0),
    (": ${Y:=assigned}; echo $Y", "assigned\n", 0),
    ("v=value; echo ${v:+alt} ${nope:+alt}", "alt\n", 0),
    (
        "s=/usr/local/bin/tool.tar.gz; echo ${#s} ${s%.*} ${s%%.*} ${s#*/} ${s##*/}",
        "26 /usr/local/bin/tool.tar /usr/local/bin/tool usr/local/bin/tool.tar.gz tool.tar.gz\n",
        0,
    ),
    (
        "s=hello; echo ${s/l/L} ${s//l/L} ${s/#h/H} ${s/%o/O} ${s:1:3} ${s: -2} ${s^^}",
        "heLlo heLLo Hello hellO ell lo HELLO\n",
        0,
    ),
    ('set -- a "b c" d; echo $#; for a in "$@"; do echo "<$a>"; done', "3\n<a>\n<b c>\n<d>\n", 0),
    ('set -- a "b c" d; for a in $@; do echo "<$a>"; done', "<a>\n<b>\n<c>\n<d>\n", 0),
    ('set -- a b c; echo "$*"; shift; echo "$@"; shift 2; echo $#', "a b c\nb c\n0\n", 0),
    (
        'arr=(one "two three" four); echo ${#arr[@]} "${arr[1]}"; for a in "${arr[@]}"; do echo "<$a>"; done',
        "3 two three\n<one>\n<two three>\n<four>\n",
        0,
    ),
    ('a=(x y); a+=(z); echo "${a[@]}" ${!a[@]}', "x y z 0 1 2\n", 0),
    ("echo {a,b,c}-{1,2}", "a-1 a-2 b-1 b-2 c-1 c-2\n", 0),
    ("echo file{1..3}.txt {3..1}", "file1.txt file2.txt file3.txt 3 2 1\n", 0),
    ("echo 'single $x' \"double $HOME\" $'tab\there'", "single $x double /root tab\there\n", 0),
    ('echo "nested $(echo "inner $(echo deep)")"', "nested inner deep\n", 0),
    ("echo `echo backquote`", "backquote\n", 0),
    ('x="a   b"; echo $x; echo "$x"', "a b\na   b\n", 0),
    ("eval 'y=42'; echo $y", "42\n", 0),
    ("cmd='echo via eval'; eval \"$cmd\"", "via eval\n", 0),
    ("type cd; type -t ls", "cd is a shell builtin\nfile\n", 0),
    ("command -v echo", "echo\n", 0),
    ("echo -e 'a\tb'; echo -n no-newline; echo", "a\tb\nno-newline\n", 0),
    ("printf '%s=%d\n' a 1 b 2", "a=1\nb=2\n", 0),
    ("printf -v out '%05d' 42; echo $out", "00042\n", 0),
    ("trap 'echo cleanup' EXIT; echo body", "body\ncleanup\n", 0),
    ("echo a; exit 3; echo b", "a\n", 3),
    ("f() { exit 7; }; f; echo never", "", 7),
    ('x=3; let "x = x * 2" y=x+1; echo $x $y', "6 7\n", 0),
    ("declare -a list=(1 2 3); echo ${list[2]}", "3\n", 0),
    ("declare -x EXPORTED=yes; printenv EXPORTED", "yes\n", 0),
    ("echo hello | tr 'a-z' 'A-Z'; echo 'a  b' | tr -s ' '; echo abc | tr -d b", "HELLO\na b\nac\n", 0),
    ("printf 'x:y:z\\n1:2:3\\n' | cut -d: -f1,3; printf 'abcdef\\n' | cut -c2-4", "x:z\n1:3\nbcd\n", 0),
    ("printf 'a\\na\\nb\\n' | uniq -c", "      2 a\n      1 b\n", 0),
    (
        'd=$(mktemp -d); [ -d "$d" ] && echo dir-ok; f=$(mktemp); [ -f "$f" ] && echo file-ok',
        "dir-ok\nfile-ok\n",
        0,
    ),
    (
        "echo 1 2 3 | xargs -n 1 echo item; printf 'a\\nb\\n' | xargs -I{} echo \"<{}>\"",
        "item 1\nitem 2\nitem 3\n<a>\n<b>\n",
        0,
    ),
    ("printf 'c\\na\\nb\\n' | sort | head -2 | tail -1", "b\n", 0),
]

# (script, stdout, stderr, exit code): syntax and runtime errors, worded as bash words them
ERRORS: list[tuple[str, str, str, int]] = [
    ("echo ${FOO", "", "bash: line 1: unexpected EOF while looking for matching `}'\n", 2),
    ("echo a\nif true; then", "a\n", "bash: line 3: syntax error: unexpected end of file\n", 2),
    (
        "echo a\n)\necho b",
        "a\n",
        "bash: line 2: syntax error near unexpected token `)'\nbash: line 2: `)'\n",
        2,
    ),
    (
        "echo a\nfi\necho b",
        "a\n",
        "bash: line 2: syntax error near unexpected token `fi'\nbash: line 2: `fi'\n",
        2,
    ),
    (
        "for x in a b; echo",
        "",
        "bash: line 1: syntax error near unexpected token `echo'\nbash: line 1: `for x in a b; echo'\n",
        2,
    ),
    (
        "case a in a) echo;; b",
        "",
        "bash: line 1: syntax error near unexpected token `newline'\nbash: line 1: `case a in a) echo;; b'\n",
        2,
    ),
    (
        "echo a >",
        "",
        "bash: line 1: syntax error near unexpected token `newline'\nbash: line 1: `echo a >'\n",
        2,
    ),
    ('echo "abc', "", "bash: line 1: unexpected EOF while looking for matching `\"'\n", 2),
    (
        "echo $(( 1 / 0 )); echo same-line\necho next-line",
        "next-line\n",
        'bash: line 1: 1 / 0 : division by 0 (error token is "0 ")\n',
        0,
    ),
    ("echo $(( 1 + ))", "", 'bash: line 1: 1 + : syntax error: operand expected (error token is "+ ")\n', 1),
    (
        "(( 1 / 0 )); echo after $?",
        "after 1\n",
        'bash: line 1: ((: 1 / 0 : division by 0 (error token is "0 ")\n',
        0,
    ),
    (
        "echo ${a b}; echo same-line\necho next-line $?",
        "next-line 1\n",
        "bash: line 1: ${a b}: bad substitution\n",
        0,
    ),
    ("set -u; echo $NOPE; echo after", "", "bash: line 1: NOPE: unbound variable\n", 1),
    ("echo ${x:?need x}; echo after", "", "bash: line 1: x: need x\n", 1),
    ("frobnicate --now", "", "bash: line 1: frobnicate: command not found\n", 127),
    ("/no/such/program", "", "bash: line 1: /no/such/program: No such file or directory\n", 127),
    ("return 2", "", "bash: line 1: return: can only `return' from a function or sourced script\n", 2),
    ("readonly R=1; R=2; echo not-here", "", "bash: line 1: R: readonly variable\n", 1),
    ("[ 1 -eq x ]; echo $?", "2\n", "bash: line 1: [: x: integer expression expected\n", 0),
    ("[[ a b ]]", "", "bash: line 1: conditional binary operator expected\n", 0),
    ("local x=1", "", "bash: line 1: local: can only be used in a function\n", 1),
    (
        "cat <<EOF\nunterminated",
        "unterminated\n",
        "bash: line 2: warning: here-document at line 1 delimited by end-of-file (wanted `EOF')\n",
        0,
    ),
]


def run(script: str) -> tuple[str, str, int]:
    r = sh(BASE.copy(), *script.split("\n"))
    return r.stdout, r.stderr, r.exit_code


@pytest.mark.parametrize(("script", "stdout", "code"), ROWS, ids=[r[0][:40] for r in ROWS])
def test_bash_features(script: str, stdout: str, code: int) -> None:
    out, err, rc = run(script)
    assert (out, rc) == (stdout, code), err


@pytest.mark.parametrize(("script", "stdout", "stderr", "code"), ERRORS, ids=[r[0][:40] for r in ERRORS])
def test_bash_errors(script: str, stdout: str, stderr: str, code: int) -> None:
    assert run(script) == (stdout, stderr, code)


def test_a_syntax_error_stops_the_script_where_bash_stops_it() -> None:
    g: Guest = BASE.copy()
    r = sh(g, "touch /tmp/before", "if true; then", "touch /tmp/after")
    assert r.exit_code == 2 and g.fs.exists("/tmp/before") and not g.fs.exists("/tmp/after")


def test_subshell_keeps_its_own_cwd_and_variables_but_shares_the_disk() -> None:
    g = BASE.copy()
    r = sh(g, "(cd /etc && X=1 && touch /tmp/made-in-subshell)", 'echo "$PWD ${X:-unset}"')
    assert r.stdout == "/ unset\n" and g.fs.exists("/tmp/made-in-subshell")


def test_exec_redirects_the_rest_of_the_script() -> None:
    g = BASE.copy()
    r = sh(g, "echo before", "exec > /tmp/log 2>&1", "echo after", "ls /nope")
    assert r.stdout == "before\n" and r.stderr == ""
    assert g.fs.read_text("/tmp/log") == "after\nls: cannot access '/nope': No such file or directory\n"


def test_xtrace_goes_to_stderr() -> None:
    r = sh(BASE.copy(), "set -x", "echo 'a b' c")
    assert (r.stdout, r.stderr) == ("a b c\n", "+ echo 'a b' c\n")


def test_recursion_is_stopped_not_crashed() -> None:
    r = sh(BASE.copy(), "f() { f; }; f; echo same-line", "echo next")
    assert r.stdout == "next\n" and "maximum function nesting level exceeded" in r.stderr

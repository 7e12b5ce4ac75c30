"""Bash glob patterns (``case``, ``[[ == ]]``, ``${v#pat}``, pathname expansion) as Python regexes.

A pattern here is text in which a backslash makes the next character literal; the expander escapes the
characters that were quoted in the script, so ``case $x in "*")`` matches only a star.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "xdigit": "0-9A-Fa-f",
    "word": r"\w",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}


def escape(text: str) -> str:
    """Make every character of ``text`` literal in a pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def has_magic(pattern: str) -> bool:
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c in "*?[":
            return True
        i += 1
    return False


def unescape(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern, flags=re.S)


def _bracket(pattern: str, i: int) -> tuple[str, int] | None:
    """The regex class for a ``[...]`` starting at i, and the index after it; None if it does not close."""
    j = i + 1
    negate = False
    if j < len(pattern) and pattern[j] in "!^":
        negate = True
        j += 1
    parts: list[str] = []
    first = True
    while j < len(pattern):
        c = pattern[j]
        if c == "]" and not first:
            body = "".join(parts)
            if not body:
                return None
            return ("[^" if negate else "[") + body + "]", j + 1
        first = False
        if c == "[" and pattern.startswith("[:", j):
            end = pattern.find(":]", j + 2)
            if end > 0 and pattern[j + 2 : end] in _CLASSES:
                parts.append(_CLASSES[pattern[j + 2 : end]])
                j = end + 2
                continue
        if c == "\\" and j + 1 < len(pattern):
            parts.append(re.escape(pattern[j + 1]))
            j += 2
            continue
        if c == "-" and parts and j + 1 < len(pattern) and pattern[j + 1] != "]":
            lo = pattern[j - 1]
            hi = pattern[j + 1]
            if hi == "\\" and j + 2 < len(pattern):
                hi = pattern[j + 2]
                j += 1
            if lo <= hi:
                parts.append("-" + re.escape(hi))
            j += 2
            continue
        parts.append(re.escape(c))
        j += 1
    return None


@lru_cache(maxsize=512)
def to_regex(pattern: str, path: bool = False) -> str:
    """The regex body matching ``pattern``; with ``path``, wildcards do not cross ``/``."""
    out: list[str] = []
    i = 0
    any_char = "[^/]" if path else "."
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                out.append(re.escape(pattern[i + 1]))
                i += 2
            else:
                out.append(re.escape("\\"))
                i += 1
            continue
        if c == "*":
            while i < len(pattern) and pattern[i] == "*":
                i += 1
            out.append(any_char + "*")
            continue
        if c == "?":
            out.append(any_char)
            i += 1
            continue
        if c == "[":
            br = _bracket(pattern, i)
            if br is not None:
                out.append(br[0])
                i = br[1]
                continue
        out.append(re.escape(c))
        i += 1
    return "".join(out)


def user_regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a regular expression a script wrote (Python's FutureWarnings about it are not the script's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(pattern, flags)


@lru_cache(maxsize=512)
def compiled(pattern: str, path: bool = False) -> re.Pattern[str]:
    return user_regex(to_regex(pattern, path), re.S)


def match(pattern: str, text: str) -> bool:
    return compiled(pattern).fullmatch(text) is not None


def strip_prefix(text: str, pattern: str, longest: bool) -> str:
    rx = compiled(pattern)
    ends = range(len(text), -1, -1) if longest else range(len(text) + 1)
    for end in ends:
        if rx.fullmatch(text, 0, end):
            return text[end:]
    return text


def strip_suffix(text: str, pattern: str, longest: bool) -> str:
    rx = compiled(pattern)
    starts = range(len(text) + 1) if longest else range(len(text), -1, -1)
    for start in starts:
        if rx.fullmatch(text, start):
            return text[:start]
    return text


def replace(text: str, pattern: str, repl: str, mode: str) -> str:
    """``${v/pat/rep}`` (mode ""), ``//`` ("/" all), ``/#`` ("#" anchored start), ``/%`` ("%" anchored end)."""
    if not pattern:
        return text
    rx = compiled(pattern)
    if mode == "#":
        for end in range(len(text), -1, -1):
            if rx.fullmatch(text, 0, end):
                return repl + text[end:]
        return text
    if mode == "%":
        for start in range(len(text) + 1):
            if rx.fullmatch(text, start):
                return text[:start] + repl
        return text
    out: list[str] = []
    i = 0
    replaced = False
    while i <= len(text):
        hit = None
        if not (replaced and mode != "/"):
            for end in range(len(text), i - 1, -1):
                if rx.fullmatch(text, i, end) and end > i:
                    hit = end
                    break
        if hit is None:
            if i < len(text):
                out.append(text[i])
            i += 1
            continue
        out.append(repl)
        replaced = True
        i = hit
    return "".join(out)

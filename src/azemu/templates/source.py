"""Where a value sits in the template text: JSON path -> (line, column).

ARM locates template errors by line and column of the original JSON (``at line '15' and column '9'``) and by a
path in ARM's own notation (``resources[1].resources[0].dependsOn[0]``, ``parameters.labId``). The standard
``json`` module keeps no positions, so this module scans the text once, on the first error that needs a place,
with a small JSON scanner that records where each value starts. Invalid JSON simply yields fewer positions.
"""

from __future__ import annotations


def join_path(base: str, key: str | int) -> str:
    """ARM's path notation: ``a.b[0].c``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


class SourceMap:
    """Positions of the values in a JSON text, computed lazily."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._positions: dict[str, tuple[int, int]] | None = None

    def position(self, path: str) -> tuple[int, int] | None:
        """1-based (line, column) of the value at ``path``; for a missing path, its nearest ancestor's."""
        if self._positions is None:
            self._positions = _scan(self._text)
        p = path
        while True:
            pos = self._positions.get(p.lower())
            if pos is not None:
                return pos
            if not p:
                return None
            cut = max(p.rfind("."), p.rfind("["))
            p = p[: max(cut, 0)]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.out: dict[str, tuple[int, int]] = {}

    def ws(self) -> None:
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c == "\n":
                self.line += 1
                self.line_start = self.i + 1
            elif c not in " \t\r":
                # ARM accepts // and /* */ comments in templates
                if c == "/" and self.i + 1 < n and s[self.i + 1] in "/*":
                    self.comment()
                    continue
                return
            self.i += 1

    def comment(self) -> None:
        s = self.s
        if s[self.i + 1] == "/":
            end = s.find("\n", self.i)
            self.i = len(s) if end < 0 else end
            return
        end = s.find("*/", self.i + 2)
        end = len(s) if end < 0 else end + 2
        for k in range(self.i, end):
            if s[k] == "\n":
                self.line += 1
                self.line_start = k + 1
        self.i = end

    def value(self, path: str) -> None:
        self.ws()
        if self.i >= len(self.s):
            raise ValueError("eof")
        self.out.setdefault(path.lower(), (self.line, self.i - self.line_start + 1))
        c = self.s[self.i]
        if c == "{":
            self.i += 1
            self.ws()
            if self.s[self.i] == "}":
                self.i += 1
                return
            while True:
                self.ws()
                key = self.string()
                self.ws()
                if self.s[self.i] != ":":
                    raise ValueError("colon")
                self.i += 1
                self.value(join_path(path, key))
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                if self.s[self.i] == "}":
                    self.i += 1
                    return
                raise ValueError("object")
        if c == "[":
            self.i += 1
            self.ws()
            if self.s[self.i] == "]":
                self.i += 1
                return
            k = 0
            while True:
                self.value(join_path(path, k))
                k += 1
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                if self.s[self.i] == "]":
                    self.i += 1
                    return
                raise ValueError("array")
        if c == '"':
            self.string()
            return
        j = self.i
        while j < len(self.s) and self.s[j] not in ",]} \t\r\n":
            j += 1
        if j == self.i:
            raise ValueError("value")
        self.i = j

    def string(self) -> str:
        s = self.s
        if s[self.i] != '"':
            raise ValueError("string")
        j = self.i + 1
        parts: list[str] = []
        while True:
            c = s[j]
            if c == "\\":
                nxt = s[j + 1]
                if nxt == "u":
                    parts.append(chr(int(s[j + 2 : j + 6], 16)))
                    j += 6
                else:
                    parts.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(nxt, nxt))
                    j += 2
                continue
            if c == '"':
                break
            parts.append(c)
            j += 1
        self.i = j + 1
        return "".join(parts)


def _scan(text: str) -> dict[str, tuple[int, int]]:
    sc = _Scanner(text)
    try:
        sc.value("")
    except (ValueError, IndexError):
        pass
    return sc.out

"""PowerShell objects and Out-Default's table/list rendering (Windows PowerShell 5.1 shapes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SecureString:
    plain: str

    def __str__(self) -> str:
        return "System.Security.SecureString"


@dataclass
class ScriptBlock:
    text: str
    ast: Any = field(default=None, compare=False, repr=False)  # psast.ScriptBlockAst once parsed
    source: str = field(default="", compare=False, repr=False)  # the text the tree's offsets point into

    def __str__(self) -> str:
        return self.text


class Hashtable:
    """A PowerShell hashtable: insertion-ordered, string keys compared case-insensitively."""

    def __init__(self, pairs: list[tuple[Any, Any]] | None = None) -> None:
        self._data: dict[Any, tuple[Any, Any]] = {}
        for k, v in pairs or []:
            self[k] = v

    @staticmethod
    def _norm(key: Any) -> Any:
        if isinstance(key, str):
            return key.lower()
        if isinstance(key, list):
            return tuple(Hashtable._norm(k) for k in key)
        try:
            hash(key)
        except TypeError:
            return id(key)
        return key

    def __getitem__(self, key: Any) -> Any:
        entry = self._data.get(self._norm(key))
        return None if entry is None else entry[1]

    def __setitem__(self, key: Any, value: Any) -> None:
        norm = self._norm(key)
        old = self._data.get(norm)
        self._data[norm] = (old[0] if old else key, value)

    def __contains__(self, key: Any) -> bool:
        return self._norm(key) in self._data

    def __len__(self) -> int:
        return len(self._data)

    def remove(self, key: Any) -> None:
        self._data.pop(self._norm(key), None)

    def keys(self) -> list[Any]:
        return [k for k, _ in self._data.values()]

    def values(self) -> list[Any]:
        return [v for _, v in self._data.values()]

    def items(self) -> list[tuple[Any, Any]]:
        return list(self._data.values())

    def copy(self) -> Hashtable:
        return Hashtable(self.items())

    def __str__(self) -> str:
        return "System.Collections.Hashtable"


@dataclass
class PSObj:
    type_name: str
    props: dict[str, Any]
    view: str = "table"  # table | list
    columns: list[str] | None = None  # the default view's properties (all props when None)
    group: str = ""  # header above a group of rows (e.g. "    Directory: C:\\")
    custom: Callable[[list[PSObj]], str] | None = field(default=None, compare=False, repr=False)
    string: str | None = field(default=None, compare=False, repr=False)  # what "$obj" gives, if not the type

    def get(self, name: str) -> Any:
        for k, v in self.props.items():
            if k.lower() == name.lower():
                return v
        return None

    def has(self, name: str) -> bool:
        return any(k.lower() == name.lower() for k in self.props)

    def set(self, name: str, value: Any) -> None:
        for k in self.props:
            if k.lower() == name.lower():
                self.props[k] = value
                return
        self.props[name] = value

    def __str__(self) -> str:
        return self.type_name if self.string is None else self.string


def number_text(v: float) -> str:
    """A double as .NET Framework prints it (15 significant digits)."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    out = f"{v:.15G}"
    if "E" in out:
        mant, _, exp = out.partition("E")
        sign = exp[0] if exp[0] in "+-" else "+"
        out = f"{mant}E{sign}{exp.lstrip('+-').rjust(2, '0')}"
    return out


def text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float):
        return number_text(v)
    if isinstance(v, list | tuple):
        return "{" + ", ".join(text(x) for x in v) + "}"
    return str(v)


def hashtable(tables: list[Hashtable]) -> str:
    rows = [f"{'Name':<30} Value", f"{'----':<30} -----"]
    for t in tables:
        for k, v in t.items():
            name = text(k)
            name = name if len(name) <= 30 else name[:27] + "..."
            rows.append(f"{name:<30} {text(v)}".rstrip())
    return "\n" + "\n".join(rows) + "\n\n"


def table(objs: list[PSObj], columns: list[str] | None = None, widths: dict[str, int] | None = None) -> str:
    cols = columns or objs[0].columns or list(objs[0].props)
    rows = [[text(o.get(c)) for c in cols] for o in objs]
    w = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(cols)]
    for i, c in enumerate(cols):
        if widths and c in widths:
            w[i] = widths[c]
    right = [
        all(isinstance(o.get(c), int | float) and not isinstance(o.get(c), bool) for o in objs) for c in cols
    ]

    def fmt(cells: list[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            if len(cell) > w[i]:
                cell = cell[: max(0, w[i] - 3)] + "..."
            out.append(cell.rjust(w[i]) if right[i] else cell.ljust(w[i]))
        return " ".join(out).rstrip()

    lines = ["", fmt(cols), fmt(["-" * len(c) for c in cols]), *(fmt(r) for r in rows), "", ""]
    return "\n".join(lines)


def listing(objs: list[PSObj]) -> str:
    blocks = []
    for o in objs:
        cols = o.columns or list(o.props)
        width = max((len(c) for c in cols), default=0)
        blocks.append("\n".join(f"{c.ljust(width)} : {text(o.get(c))}" for c in cols))
    return "\n" + "\n\n".join(blocks) + "\n\n\n"


def render(values: list[Any]) -> str:
    """Out-Default: scalars one per line; runs of objects of one type as a table or a list."""
    flat: list[Any] = []
    for v in values:
        if isinstance(v, list):
            flat.extend(v)
        elif v is not None:
            flat.append(v)
    out: list[str] = []
    i = 0
    while i < len(flat):
        v = flat[i]
        if isinstance(v, Hashtable):
            j = i
            while j < len(flat) and isinstance(flat[j], Hashtable):
                j += 1
            out.append(hashtable(flat[i:j]))
            i = j
            continue
        if not isinstance(v, PSObj):
            out.append(text(v) + "\n")
            i += 1
            continue
        j = i
        while j < len(flat) and isinstance(flat[j], PSObj) and flat[j].type_name == v.type_name:
            j += 1
        run: list[PSObj] = flat[i:j]
        if v.custom is not None:
            out.append(v.custom(run))
        else:
            # a new group header (Directory:, Hive:) starts a new table
            k = 0
            while k < len(run):
                m = k
                while m < len(run) and run[m].group == run[k].group:
                    m += 1
                header = ("\n" + run[k].group + "\n") if run[k].group else ""
                body = listing(run[k:m]) if v.view == "list" else table(run[k:m])
                out.append(header + body)
                k = m
        i = j
    return "".join(out)

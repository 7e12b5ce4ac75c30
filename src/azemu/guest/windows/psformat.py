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

    def __str__(self) -> str:
        return self.text


@dataclass
class PSObj:
    type_name: str
    props: dict[str, Any]
    view: str = "table"  # table | list
    columns: list[str] | None = None  # the default view's properties (all props when None)
    group: str = ""  # header above a group of rows (e.g. "    Directory: C:\\")
    custom: Callable[[list[PSObj]], str] | None = field(default=None, compare=False, repr=False)

    def get(self, name: str) -> Any:
        for k, v in self.props.items():
            if k.lower() == name.lower():
                return v
        return None

    def __str__(self) -> str:
        return self.type_name


def text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, list | tuple):
        return "{" + ", ".join(text(x) for x in v) + "}"
    return str(v)


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

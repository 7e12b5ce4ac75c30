"""The syntax tree of a template expression.

``[concat(parameters('prefix'), '-', variables('x').name[0])]`` parses to a tree of these nodes. Positions are
0-based offsets into the expression text (what ARM prints as ``position``). Nodes compare by identity: the
evaluator keys its compiled closures on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, eq=False)
class Literal:
    """A string or number literal: ``'text'`` (with ``''`` for a quote), ``42``, ``-1``."""

    value: Any
    pos: int


@dataclass(frozen=True, slots=True, eq=False)
class Call:
    """A function call ``name(args)``; ``namespace`` is set for user-defined functions (``ns.name(args)``)."""

    name: str
    args: tuple[Node, ...]
    pos: int
    namespace: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name


@dataclass(frozen=True, slots=True, eq=False)
class Member:
    """Property access ``target.name``."""

    target: Node
    name: str
    pos: int


@dataclass(frozen=True, slots=True, eq=False)
class Index:
    """Element or property access ``target[index]`` (an integer indexes an array, a string names a property)."""

    target: Node
    index: Node
    pos: int


Node = Literal | Call | Member | Index


def walk(node: Node) -> list[Node]:
    """Every node of a tree, parents before children."""
    out: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        if isinstance(n, Call):
            stack.extend(reversed(n.args))
        elif isinstance(n, Member):
            stack.append(n.target)
        elif isinstance(n, Index):
            stack.append(n.index)
            stack.append(n.target)
    return out

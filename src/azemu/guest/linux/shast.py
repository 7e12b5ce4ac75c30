"""The syntax tree of a bash script, as :mod:`shparse` builds it and :mod:`shinterp` runs it.

Words keep their raw source text (quotes included); they are expanded when the command runs, so ``$?``
and variables see the state of that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Redirect:
    op: str  # < > >> >| <> &> &>> >& <& << <<- <<<
    fd: int | None  # an explicit descriptor (2> ...), else None
    target: str  # the raw target word; for a here-document its body
    quoted: bool = False  # here-document with a quoted delimiter: the body is not expanded


@dataclass
class Simple:
    assigns: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class Pipeline:
    commands: list[Command]
    negate: bool = False
    line: int = 1


@dataclass
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]] = field(default_factory=list)  # ("&&" | "||", pipeline)
    background: bool = False  # ended by ``&``: started, not waited for


Body = list[AndOr]


@dataclass
class If:
    branches: list[tuple[Body, Body]]  # (condition, then-body) for if and each elif
    orelse: Body | None
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class For:
    var: str
    words: list[str] | None  # None: iterate over "$@"
    body: Body
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class ArithFor:
    init: str
    cond: str
    step: str
    body: Body
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class While:
    until: bool
    cond: Body
    body: Body
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class CaseItem:
    patterns: list[str]
    body: Body
    term: str  # ";;" | ";&" | ";;&"


@dataclass
class Case:
    word: str
    items: list[CaseItem]
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class Subshell:
    body: Body
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class Group:
    body: Body
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class Arith:
    expr: str  # the raw text between (( and ))
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


# [[ ... ]] ------------------------------------------------------------------------------------------------
@dataclass
class CondWord:
    word: str


@dataclass
class CondUnary:
    op: str
    word: str


@dataclass
class CondBinary:
    op: str
    left: str
    right: str


@dataclass
class CondNot:
    expr: CondNode


@dataclass
class CondAndOr:
    op: str  # "&&" | "||"
    left: CondNode
    right: CondNode


CondNode = CondWord | CondUnary | CondBinary | CondNot | CondAndOr


@dataclass
class Cond:
    expr: CondNode
    redirects: list[Redirect] = field(default_factory=list)
    line: int = 1


@dataclass
class FuncDef:
    name: str
    body: Compound
    line: int = 1


Compound = If | For | ArithFor | While | Case | Subshell | Group | Arith | Cond
Command = Simple | Compound | FuncDef

"""The syntax tree of a PowerShell script, as :mod:`psparse` builds it and :mod:`psinterp` runs it.

Every node keeps its extent (``start``/``end`` offsets into the script) so errors can point at it the way
PowerShell does (``At line:2 char:3`` and the ``~~~~`` line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Node:
    start: int
    end: int


# expressions -----------------------------------------------------------------------------------------------
@dataclass
class Const(Node):
    value: Any


@dataclass
class Expandable(Node):
    """A double-quoted string (or a bareword argument holding ``$``): text and embedded expressions."""

    parts: list[str | Expr]


@dataclass
class Var(Node):
    name: str  # as written, scope prefix included ("env:Path", "global:x", "_")


@dataclass
class Splat(Node):
    name: str


@dataclass
class Member(Node):
    target: Expr
    name: Expr  # usually a Const string
    static: bool = False


@dataclass
class Invoke(Node):
    target: Expr
    name: Expr
    args: list[Expr]
    static: bool = False


@dataclass
class Index(Node):
    target: Expr
    index: Expr


@dataclass
class Unary(Node):
    op: str  # "-not" "!" "-bnot" "-" "+" "-split" "-join"
    operand: Expr


@dataclass
class Binary(Node):
    op: str  # lower-cased: "+", "-eq", "-ilike", "..", "-f" ...
    left: Expr
    right: Expr


@dataclass
class IncDec(Node):
    op: str  # "++" | "--"
    target: Expr
    prefix: bool


@dataclass
class ArrayLiteral(Node):
    items: list[Expr]


@dataclass
class SubExpr(Node):
    """``$( ... )`` (array=False) or ``@( ... )`` (array=True)."""

    body: list[Stmt]
    array: bool = False


@dataclass
class Paren(Node):
    pipeline: Stmt


@dataclass
class HashLiteral(Node):
    pairs: list[tuple[Expr, Stmt]]
    ordered: bool = False


@dataclass
class ScriptBlockExpr(Node):
    block: ScriptBlockAst


@dataclass
class TypeLit(Node):
    name: str


@dataclass
class Cast(Node):
    type_name: str
    operand: Expr


Expr = (
    Const
    | Expandable
    | Var
    | Splat
    | Member
    | Invoke
    | Index
    | Unary
    | Binary
    | IncDec
    | ArrayLiteral
    | SubExpr
    | Paren
    | HashLiteral
    | ScriptBlockExpr
    | TypeLit
    | Cast
)


# commands and pipelines ------------------------------------------------------------------------------------
@dataclass
class ParamArg(Node):
    """``-Name``, ``-Name:value`` (value set, colon=True) or ``-Name value`` (value bound later)."""

    name: str
    value: Expr | None = None
    colon: bool = False


@dataclass
class Redirection(Node):
    op: str  # ">" ">>" "2>" "2>>" "2>&1" "*>" "*>>" "*>&1" "1>&2" ...
    target: Expr | None


@dataclass
class Command(Node):
    name: Expr  # a Const string for a bareword name
    args: list[Expr | ParamArg]
    invocation: str = ""  # "&" (call operator) | "." (dot-source) | ""
    redirects: list[Redirection] = field(default_factory=list)
    name_end: int = 0  # end of the name token (PowerShell underlines only it for "not recognized")


@dataclass
class ExprElement(Node):
    expr: Expr
    redirects: list[Redirection] = field(default_factory=list)


@dataclass
class Pipeline(Node):
    elements: list[Command | ExprElement]


# statements ------------------------------------------------------------------------------------------------
@dataclass
class Assign(Node):
    target: Expr
    op: str  # "=" "+=" "-=" "*=" "/=" "%="
    value: Stmt


@dataclass
class If(Node):
    clauses: list[tuple[Stmt, list[Stmt]]]
    orelse: list[Stmt] | None


@dataclass
class ForEach(Node):
    var: str
    iterable: Stmt
    body: list[Stmt]


@dataclass
class For(Node):
    init: Stmt | None
    cond: Stmt | None
    step: Stmt | None
    body: list[Stmt]


@dataclass
class While(Node):
    cond: Stmt
    body: list[Stmt]


@dataclass
class DoLoop(Node):
    body: list[Stmt]
    cond: Stmt
    until: bool


@dataclass
class SwitchCase:
    pattern: Expr | None  # None: default
    body: list[Stmt]


@dataclass
class Switch(Node):
    value: Stmt
    cases: list[SwitchCase]
    mode: str = "exact"  # exact | wildcard | regex
    case_sensitive: bool = False


@dataclass
class ParamDef:
    name: str
    default: Expr | None = None
    type_name: str = ""
    mandatory: bool = False


@dataclass
class ScriptBlockAst(Node):
    params: list[ParamDef]
    begin: list[Stmt] | None
    process: list[Stmt] | None
    body: list[Stmt]  # the end block (the whole body when there are no named blocks)
    text: str = ""
    has_param_block: bool = False


@dataclass
class FunctionDef(Node):
    name: str
    body: ScriptBlockAst
    filter: bool = False


@dataclass
class Catch:
    types: list[str]
    body: list[Stmt]


@dataclass
class Try(Node):
    body: list[Stmt]
    catches: list[Catch]
    final: list[Stmt] | None


@dataclass
class Throw(Node):
    value: Stmt | None


@dataclass
class Return(Node):
    value: Stmt | None


@dataclass
class Exit(Node):
    value: Stmt | None


@dataclass
class LoopJump(Node):
    kind: str  # "break" | "continue"
    label: str = ""


Stmt = (
    Pipeline
    | Assign
    | If
    | ForEach
    | For
    | While
    | DoLoop
    | Switch
    | FunctionDef
    | Try
    | Throw
    | Return
    | Exit
    | LoopJump
)

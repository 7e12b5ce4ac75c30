"""PowerShell's grammar: statements (``if``/``elseif``/``else``, ``foreach``, ``for``, ``while``, ``do``,
``switch``, ``function``/``filter`` with ``param()``, ``try``/``catch``/``finally``, ``throw``, ``return``,
``exit``, ``break``, ``continue``), pipelines of commands, and a Pratt parser for expressions with
PowerShell's precedence (``-and -or`` < ``-band -bor`` < comparisons < ``+ -`` < ``* / %`` < ``-f`` < ``..``
< ``,`` < unary operators and casts < member access and indexing).

The whole script is parsed before anything runs; the first error is raised as a
:class:`~azemu.guest.windows.pslex.ParseError` carrying PowerShell's message and FullyQualifiedErrorId.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from azemu.guest.windows.psast import (
    ArrayLiteral,
    Assign,
    Binary,
    Cast,
    Catch,
    Command,
    Const,
    DoLoop,
    Exit,
    Expandable,
    Expr,
    ExprElement,
    For,
    ForEach,
    FunctionDef,
    HashLiteral,
    If,
    IncDec,
    Index,
    Invoke,
    LoopJump,
    Member,
    ParamArg,
    ParamDef,
    Paren,
    Pipeline,
    Redirection,
    Return,
    ScriptBlockAst,
    ScriptBlockExpr,
    Splat,
    Stmt,
    SubExpr,
    Switch,
    SwitchCase,
    Throw,
    Try,
    TypeLit,
    Unary,
    Var,
    While,
)
from azemu.guest.windows.pslex import ARG_END, Lexer, ParseError, Tok

__all__ = ["ParseError", "Parser", "parse_script"]

BINARY_BP = {
    "-and": 1,
    "-or": 1,
    "-xor": 1,
    "-band": 2,
    "-bor": 2,
    "-bxor": 2,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "-f": 6,
    "..": 7,
}
_COMPARISON = [
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "like",
    "notlike",
    "match",
    "notmatch",
    "contains",
    "notcontains",
    "in",
    "notin",
    "replace",
    "split",
    "join",
    "is",
    "isnot",
    "as",
    "shl",
    "shr",
]
for _op in _COMPARISON:
    BINARY_BP["-" + _op] = 3
    if _op not in ("join", "is", "isnot", "as", "shl", "shr"):
        BINARY_BP["-i" + _op] = 3
        BINARY_BP["-c" + _op] = 3
UNARY_OPS = frozenset(("-not", "!", "-bnot", "-", "+", "-split", "-isplit", "-csplit", "-join"))
EXPR_START = frozenset(
    (
        "var",
        "num",
        "str",
        "dqstr",
        "lparen",
        "dollarparen",
        "atparen",
        "athash",
        "lcurly",
        "lbracket",
        "incdec",
        "splat",
    )
)
TERMINATORS = frozenset(("newline", "semi", "eof", "rcurly", "rparen", "pipe"))
UNSUPPORTED = frozenset(
    ("class", "enum", "workflow", "data", "using", "configuration", "dynamicparam", "define")
)
MAX_NESTING = 60


class Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.lx = Lexer(src)
        self.la: Tok | None = None
        self.la_mode = ""
        self.depth = 0
        self.last_end = 0

    # tokens ------------------------------------------------------------------------------------------
    def peek(self, mode: str = "expr") -> Tok:
        if self.la is not None and self.la_mode != mode:
            self.lx.i = self.la.start
            self.la = None
        if self.la is None:
            self.la = self.lx.token(mode)
            self.la_mode = mode
        return self.la

    def take(self, mode: str = "expr") -> Tok:
        t = self.peek(mode)
        self.la = None
        self.last_end = t.end
        return t

    def drop_lookahead(self) -> None:
        if self.la is not None:
            self.lx.i = self.la.start
            self.la = None

    def peek_keyword(self, *words: str) -> Tok:
        """The next token past any newlines if it is one of ``words``; otherwise the newlines stay unread
        (they end the statement)."""
        save = (self.lx.i, self.la, self.la_mode, self.last_end)
        self.skip_newlines()
        t = self.peek()
        if t.kind == "ident" and t.text.lower() in words:
            return t
        self.lx.i, self.la, self.la_mode, self.last_end = save
        return self.peek()

    def skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.take()

    def error(self, message: str, start: int, end: int, fqid: str) -> ParseError:
        return ParseError(message, start, end, fqid)

    def unexpected(self, t: Tok) -> ParseError:
        if t.kind == "eof":
            return self.error(
                "Missing closing '}' in statement block or type definition.",
                t.start,
                t.end,
                "MissingEndCurlyBrace",
            )
        return self.error(
            f"Unexpected token '{t.text}' in expression or statement.", t.start, t.end, "UnexpectedToken"
        )

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            t = self.peek()
            raise self.error(
                "The script is nested too deeply for the emulator to parse.",
                t.start,
                t.end,
                "ScriptTooDeeplyNested",
            )

    # script and blocks -------------------------------------------------------------------------------
    def parse(self) -> ScriptBlockAst:
        body = self.script_body(("eof",), 0)
        t = self.peek()
        if t.kind != "eof":
            raise self.unexpected(t)
        return body

    def script_body(self, closers: tuple[str, ...], start: int) -> ScriptBlockAst:
        self.skip_separators()
        params: list[ParamDef] = []
        has_params = False
        t = self.peek()
        if (
            t.kind == "ident"
            and t.text.lower() == "param"
            and self.src[t.end :].lstrip(" \t\r\n").startswith("(")
        ):
            self.take()
            self.skip_newlines()
            params = self.param_block()
            has_params = True
        self.skip_separators()
        t = self.peek()
        named = {"begin", "process", "end"}
        if t.kind == "ident" and t.text.lower() in named:
            after = self.src[t.end :].lstrip(" \t\r\n")
            if after.startswith("{"):
                blocks: dict[str, list[Stmt]] = {}
                while True:
                    self.skip_separators()
                    t = self.peek()
                    if not (t.kind == "ident" and t.text.lower() in named):
                        break
                    self.take()
                    self.skip_newlines()
                    blocks[t.text.lower()] = self.block(
                        f"Missing statement block in {t.text.lower()} block.", "MissingNamedStatementBlock"
                    )
                end = self.last_end
                return ScriptBlockAst(
                    start,
                    end,
                    params,
                    blocks.get("begin"),
                    blocks.get("process"),
                    blocks.get("end", []),
                    has_param_block=has_params,
                )
        stmts = self.statement_list(closers)
        return ScriptBlockAst(start, self.last_end, params, None, None, stmts, has_param_block=has_params)

    def skip_separators(self) -> None:
        while self.peek().kind in ("newline", "semi"):
            self.take()

    def statement_list(self, closers: tuple[str, ...]) -> list[Stmt]:
        stmts: list[Stmt] = []
        while True:
            t = self.peek()
            if t.kind in ("newline", "semi"):
                self.take()
                continue
            if t.kind in closers or t.kind == "eof":
                return stmts
            if t.kind in ("rcurly", "rparen"):
                raise self.unexpected(t)
            stmts.append(self.statement())
            t = self.peek()
            if t.kind in ("newline", "semi", "eof") or t.kind in closers:
                continue
            raise self.unexpected(t)

    def block(self, message: str, fqid: str) -> list[Stmt]:
        t = self.peek()
        if t.kind != "lcurly":
            at = self.last_end
            raise self.error(message, at, at, fqid)
        self.take()
        body = self.statement_list(("rcurly",))
        if self.peek().kind != "rcurly":
            raise self.error(
                "Missing closing '}' in statement block or type definition.",
                t.start,
                t.end,
                "MissingEndCurlyBrace",
            )
        self.take()
        return body

    def param_block(self) -> list[ParamDef]:
        open_tok = self.take()  # (
        params: list[ParamDef] = []
        while True:
            self.skip_newlines()
            t = self.peek()
            if t.kind == "rparen":
                self.take()
                return params
            p = ParamDef("")
            while self.peek().kind == "lbracket":
                text = self.bracket_text(self.take())
                low = text.lower().replace(" ", "")
                if low.startswith("parameter"):
                    p.mandatory = p.mandatory or ("mandatory" in low and "mandatory=$false" not in low)
                elif "(" not in text:
                    p.type_name = text
                self.skip_newlines()
            t = self.peek()
            if t.kind != "var":
                if t.kind == "eof":
                    raise self.error(
                        "Missing ')' in function parameter list.",
                        open_tok.start,
                        open_tok.end,
                        "MissingEndParenthesisInFunctionParameterList",
                    )
                raise self.error(
                    "Missing variable name in parameter list.",
                    t.start,
                    t.end,
                    "MissingVariableNameInParameterList",
                )
            self.take()
            p.name = t.value
            self.skip_newlines()
            if self.peek().kind == "assign" and self.peek().value == "=":
                self.take()
                self.skip_newlines()
                p.default = self.expression(comma=False)
            params.append(p)
            self.skip_newlines()
            t = self.peek()
            if t.kind == "comma":
                self.take()
                continue
            if t.kind == "rparen":
                self.take()
                return params
            if t.kind == "eof":
                raise self.error(
                    "Missing ')' in function parameter list.",
                    open_tok.start,
                    open_tok.end,
                    "MissingEndParenthesisInFunctionParameterList",
                )
            raise self.unexpected(t)

    def bracket_text(self, open_tok: Tok) -> str:
        """The raw text of ``[...]`` (types, attributes) after its ``[``; nested brackets allowed."""
        depth = 1
        j = self.lx.i
        src = self.src
        while j < len(src):
            c = src[j]
            if c in "'\"":
                j = self.lx.skip_string(j)
                continue
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    text = src[self.lx.i : j].strip()
                    if not text:
                        raise self.error(
                            "Missing type name after '['.",
                            open_tok.start,
                            open_tok.end + 1,
                            "MissingTypename",
                        )
                    self.lx.i = j + 1
                    self.last_end = j + 1
                    return text
            elif c == "\n" and depth == 1 and "(" not in src[self.lx.i : j]:
                break
            j += 1
        raise self.error(
            "Missing ] at end of attribute or type literal.",
            open_tok.start,
            j,
            "EndSquareBracketExpectedAtEndOfAttribute",
        )

    # statements --------------------------------------------------------------------------------------
    def statement(self) -> Stmt:
        self.nest()
        try:
            t = self.peek()
            if t.kind == "ident":
                kw = t.text.lower()
                table: dict[str, Callable[[], Stmt]] = {
                    "if": self.if_stmt,
                    "foreach": self.foreach_stmt,
                    "for": self.for_stmt,
                    "while": self.while_stmt,
                    "do": self.do_stmt,
                    "switch": self.switch_stmt,
                    "function": self.function_stmt,
                    "filter": self.function_stmt,
                    "try": self.try_stmt,
                    "throw": self.throw_stmt,
                    "return": self.throw_stmt,
                    "exit": self.throw_stmt,
                    "break": self.jump_stmt,
                    "continue": self.jump_stmt,
                    "trap": self.trap_stmt,
                }
                handler = table.get(kw)
                if handler is not None:
                    return handler()
                if kw in UNSUPPORTED:
                    raise self.error(
                        f"azemu: the '{kw}' statement is not supported by this emulator's PowerShell subset.",
                        t.start,
                        t.end,
                        "AzemuUnsupportedStatement",
                    )
            return self.pipeline()
        finally:
            self.depth -= 1

    def paren_condition(self, keyword: Tok, what: str) -> Stmt:
        t = self.peek()
        if t.kind != "lparen":
            if what == "if":
                raise self.error(
                    "Missing '(' after 'if' in if statement.",
                    keyword.end,
                    keyword.end,
                    "MissingOpenParenthesisInIfStatement",
                )
            raise self.error(
                f"Missing opening '(' after keyword '{what}'.",
                keyword.end,
                keyword.end,
                "MissingOpenParenthesisAfterKeyword",
            )
        self.take()
        self.skip_newlines()
        if self.peek().kind == "rparen":
            if what == "if":
                raise self.error(
                    "Missing condition in if statement after 'if ('.",
                    t.end,
                    t.end,
                    "IfStatementMissingCondition",
                )
            raise self.error(f"Missing expression after '{what} ('.", t.end, t.end, "MissingExpression")
        cond = self.pipeline()
        self.skip_newlines()
        if self.peek().kind != "rparen":
            raise self.error(
                f"Missing closing ')' after expression in '{what}' statement.",
                self.last_end,
                self.last_end,
                "MissingEndParenthesisAfterStatement",
            )
        self.take()
        return cond

    def if_stmt(self) -> If:
        kw = self.take()
        clauses: list[tuple[Stmt, list[Stmt]]] = []
        cond = self.paren_condition(kw, "if")
        self.skip_newlines()
        clauses.append(
            (cond, self.block("Missing statement block after if ( condition ).", "MissingStatementBlock"))
        )
        orelse: list[Stmt] | None = None
        while True:
            t = self.peek_keyword("elseif", "else")
            if t.kind == "ident" and t.text.lower() == "elseif":
                self.take()
                cond = self.paren_condition(t, "elseif")
                self.skip_newlines()
                clauses.append(
                    (
                        cond,
                        self.block(
                            "Missing statement block after elseif ( condition ).", "MissingStatementBlock"
                        ),
                    )
                )
                continue
            if t.kind == "ident" and t.text.lower() == "else":
                self.take()
                self.skip_newlines()
                orelse = self.block(
                    "Missing statement block after 'else' keyword.", "MissingStatementBlockAfterElse"
                )
            break
        return If(kw.start, self.last_end, clauses, orelse)

    def foreach_stmt(self) -> ForEach:
        kw = self.take()
        t = self.peek()
        if t.kind != "lparen":
            raise self.error(
                "Missing opening '(' after keyword 'foreach'.",
                kw.end,
                kw.end,
                "MissingOpenParenthesisAfterKeyword",
            )
        self.take()
        self.skip_newlines()
        v = self.peek()
        if v.kind != "var":
            raise self.error(
                "Missing variable name after foreach.", v.start, v.start, "MissingVariableNameAfterForeach"
            )
        self.take()
        self.skip_newlines()
        t = self.peek()
        if not (t.kind == "ident" and t.text.lower() == "in"):
            raise self.error(
                "Missing 'in' after variable in foreach loop.", v.end, v.end, "MissingInInForeach"
            )
        self.take()
        self.skip_newlines()
        if self.peek().kind == "rparen":
            raise self.error(
                "Missing foreach loop pipeline after 'in'.", t.end, t.end, "MissingForeachExpression"
            )
        iterable = self.pipeline()
        self.skip_newlines()
        if self.peek().kind != "rparen":
            raise self.error(
                "Missing closing ')' after expression in 'foreach' statement.",
                self.last_end,
                self.last_end,
                "MissingEndParenthesisAfterForeach",
            )
        self.take()
        self.skip_newlines()
        body = self.block("Missing statement body in foreach loop.", "MissingForeachStatement")
        return ForEach(kw.start, self.last_end, v.value, iterable, body)

    def for_stmt(self) -> For:
        kw = self.take()
        t = self.peek()
        if t.kind != "lparen":
            raise self.error(
                "Missing opening '(' after keyword 'for'.",
                kw.end,
                kw.end,
                "MissingOpenParenthesisAfterKeyword",
            )
        self.take()
        parts: list[Stmt | None] = []
        for k in range(3):
            self.skip_newlines()
            t = self.peek()
            parts.append(None if t.kind in ("semi", "rparen") else self.pipeline())
            self.skip_newlines()
            t = self.peek()
            if t.kind == "rparen":
                break
            if t.kind == "semi" and k < 2:
                self.take()
                continue
            raise self.error(
                "Missing closing ')' after expression in 'for' statement.",
                self.last_end,
                self.last_end,
                "MissingEndParenthesisAfterStatement",
            )
        while len(parts) < 3:
            parts.append(None)
        if self.peek().kind != "rparen":
            raise self.error(
                "Missing closing ')' after expression in 'for' statement.",
                self.last_end,
                self.last_end,
                "MissingEndParenthesisAfterStatement",
            )
        self.take()
        self.skip_newlines()
        body = self.block("Missing statement body in for loop.", "MissingLoopStatement")
        return For(kw.start, self.last_end, parts[0], parts[1], parts[2], body)

    def while_stmt(self) -> While:
        kw = self.take()
        cond = self.paren_condition(kw, "while")
        self.skip_newlines()
        body = self.block("Missing statement body in while loop.", "MissingLoopStatement")
        return While(kw.start, self.last_end, cond, body)

    def do_stmt(self) -> DoLoop:
        kw = self.take()
        self.skip_newlines()
        body = self.block("Missing statement body in do loop.", "MissingLoopStatement")
        self.skip_newlines()
        t = self.peek()
        if not (t.kind == "ident" and t.text.lower() in ("while", "until")):
            raise self.error(
                "Missing while or until keyword in do loop.",
                self.last_end,
                self.last_end,
                "MissingWhileOrUntilInDoWhile",
            )
        self.take()
        cond = self.paren_condition(t, t.text.lower())
        return DoLoop(kw.start, self.last_end, body, cond, t.text.lower() == "until")

    def switch_stmt(self) -> Switch:
        kw = self.take()
        mode, case_sensitive = "exact", False
        while (t := self.peek("arg")).kind == "param":
            self.take("arg")
            opt = str(t.value).lower()
            if opt in ("regex", "wildcard", "exact"):
                mode = opt
            elif opt == "casesensitive":
                case_sensitive = True
            elif opt == "file":
                raise self.error(
                    "azemu: 'switch -File' is not supported by this emulator.",
                    t.start,
                    t.end,
                    "AzemuUnsupportedStatement",
                )
        value = self.paren_condition(kw, "switch")
        self.skip_newlines()
        t = self.peek()
        if t.kind != "lcurly":
            raise self.error(
                "Missing condition in switch statement clause.",
                self.last_end,
                self.last_end,
                "MissingSwitchConditionExpression",
            )
        self.take()
        cases: list[SwitchCase] = []
        while True:
            self.skip_separators()
            t = self.peek("arg")
            if t.kind == "rcurly":
                self.take("arg")
                break
            if t.kind == "eof":
                raise self.error(
                    "Missing closing '}' in statement block or type definition.",
                    kw.start,
                    kw.end,
                    "MissingEndCurlyBrace",
                )
            pattern: Expr | None
            if t.kind == "generic" and t.text.lower() == "default":
                self.take("arg")
                pattern = None
            elif t.kind == "lcurly":
                open_tok = self.take("arg")
                pattern = self.script_block_expr(open_tok)
            else:
                pattern = self.arg_value()
            self.skip_newlines()
            body = self.block(
                "Missing statement block in switch statement clause.", "MissingSwitchStatementClause"
            )
            cases.append(SwitchCase(pattern, body))
        return Switch(kw.start, self.last_end, value, cases, mode, case_sensitive)

    def function_stmt(self) -> FunctionDef:
        kw = self.take()
        t = self.peek("arg")
        if t.kind not in ("generic", "num", "str"):
            raise self.error(
                "Missing name after function keyword.", kw.end, kw.end, "MissingNameAfterKeyword"
            )
        self.take("arg")
        name = str(t.value if t.kind == "str" else t.text)
        if ":" in name and name.split(":", 1)[0].lower() in (
            "global",
            "script",
            "local",
            "private",
            "function",
        ):
            name = name.split(":", 1)[1]
        params: list[ParamDef] = []
        self.skip_newlines()
        if self.peek().kind == "lparen":
            params = self.param_block()
            self.skip_newlines()
        t = self.peek()
        if t.kind != "lcurly":
            raise self.error(
                "Missing function body in function declaration.",
                self.last_end,
                self.last_end,
                "MissingFunctionBody",
            )
        open_tok = self.take()
        body = self.script_body(("rcurly",), open_tok.start)
        if self.peek().kind != "rcurly":
            raise self.error(
                "Missing closing '}' in statement block or type definition.",
                open_tok.start,
                open_tok.end,
                "MissingEndCurlyBrace",
            )
        close = self.take()
        if params and not body.params:
            body.params = params
        body.text = self.src[open_tok.end : close.start]
        return FunctionDef(kw.start, close.end, name, body, kw.text.lower() == "filter")

    def try_stmt(self) -> Try:
        kw = self.take()
        self.skip_newlines()
        body = self.block("Missing statement block after 'try'.", "MissingTryStatementBlock")
        catches: list[Catch] = []
        final: list[Stmt] | None = None
        while True:
            t = self.peek_keyword("catch", "finally")
            if t.kind == "ident" and t.text.lower() == "catch":
                self.take()
                types: list[str] = []
                while self.peek().kind == "lbracket":
                    types.append(self.bracket_text(self.take()))
                    self.skip_newlines()
                    if self.peek().kind == "comma":
                        self.take()
                        self.skip_newlines()
                self.skip_newlines()
                catches.append(
                    Catch(
                        types,
                        self.block("Missing statement block after 'catch'.", "MissingCatchHandlerBlock"),
                    )
                )
                continue
            if t.kind == "ident" and t.text.lower() == "finally":
                self.take()
                self.skip_newlines()
                final = self.block("Missing statement block after 'finally'.", "MissingFinallyStatementBlock")
            break
        if not catches and final is None:
            raise self.error(
                "The Try statement is missing its Catch or Finally block.",
                self.last_end,
                self.last_end,
                "MissingCatchOrFinally",
            )
        return Try(kw.start, self.last_end, body, catches, final)

    def throw_stmt(self) -> Stmt:
        kw = self.take()
        value: Stmt | None = None
        t = self.peek()
        if t.kind not in TERMINATORS:
            value = self.pipeline()
        kind = kw.text.lower()
        end = self.last_end
        if kind == "throw":
            return Throw(kw.start, end, value)
        if kind == "return":
            return Return(kw.start, end, value)
        return Exit(kw.start, end, value)

    def jump_stmt(self) -> LoopJump:
        kw = self.take()
        label = ""
        t = self.peek("arg")
        if t.kind == "generic":
            self.take("arg")
            label = t.text
        return LoopJump(kw.start, self.last_end, kw.text.lower(), label)

    def trap_stmt(self) -> Stmt:
        kw = self.take()
        raise self.error(
            "azemu: the 'trap' statement is not supported by this emulator's PowerShell subset; use try/catch.",
            kw.start,
            kw.end,
            "AzemuUnsupportedStatement",
        )

    # pipelines ---------------------------------------------------------------------------------------
    def is_command_start(self, t: Tok) -> bool:
        if t.kind in ("ident", "generic", "amp"):
            return True
        return t.kind == "dot"

    def pipeline(self) -> Stmt:
        t = self.peek()
        start = t.start
        first: Command | ExprElement
        if self.is_command_start(t):
            first = self.command()
        else:
            if t.kind in TERMINATORS or t.kind in ("rbracket", "comma"):
                raise self.unexpected(t)
            expr = self.expression()
            nxt = self.peek()
            if nxt.kind == "assign":
                return self.assignment(expr)
            redirects = self.redirections("expr")
            first = ExprElement(start, self.last_end, expr, redirects)
        elements: list[Command | ExprElement] = [first]
        while self.peek().kind == "pipe":
            bar = self.take()
            self.skip_newlines()
            t = self.peek("arg")
            if t.kind in TERMINATORS:
                raise self.error(
                    "An empty pipe element is not allowed.", bar.start, bar.end, "EmptyPipeElement"
                )
            if t.kind in EXPR_START or t.kind in ("num", "str", "dqstr"):
                raise self.error(
                    "Expressions are only allowed as the first element of a pipeline.",
                    t.start,
                    t.end,
                    "ExpressionsMustBeFirstInPipeline",
                )
            elements.append(self.command())
        return Pipeline(start, self.last_end, elements)

    def assignment(self, target: Expr) -> Assign:
        op = self.take()
        if not _assignable(target):
            raise self.error(
                "The assignment expression is not valid. The input to an assignment operator must be an object that "
                "is able to accept assignments, such as a variable or a property.",
                target.start,
                target.end,
                "InvalidLeftHandSide",
            )
        self.skip_newlines()
        t = self.peek()
        if t.kind in TERMINATORS:
            raise self.error(
                f"You must provide a value expression following the '{op.value}' operator.",
                op.end,
                op.end,
                "ExpectedValueExpression",
            )
        value = self.statement()
        return Assign(target.start, self.last_end, target, str(op.value), value)

    def redirections(self, mode: str) -> list[Redirection]:
        out: list[Redirection] = []
        while self.peek(mode).kind == "redir":
            t = self.take(mode)
            op = str(t.value)
            target: Expr | None = None
            if not op.endswith(("&1", "&2")):
                nxt = self.peek("arg")
                if nxt.kind in TERMINATORS or nxt.kind in ("redir", "comma", "param"):
                    raise self.error(
                        "Missing file specification after redirection operator.",
                        t.start,
                        t.end,
                        "MissingFileSpecification",
                    )
                target = self.arg_primary()
            out.append(Redirection(t.start, self.last_end, op, target))
        return out

    def command(self) -> Command:
        t = self.peek()
        start = t.start
        invocation = ""
        if t.kind == "amp":
            self.take()
            invocation = "&"
        elif t.kind == "dot" and self.src[t.end : t.end + 1] in (" ", "\t"):
            self.take()
            invocation = "."
        self.drop_lookahead()
        t = self.peek("arg")
        if t.kind in TERMINATORS or t.kind in ("redir", "comma"):
            if invocation:
                raise self.error(
                    f"Missing expression after unary operator '{invocation}'.",
                    start,
                    start + 1,
                    "MissingExpressionAfterOperator",
                )
            raise self.unexpected(t)
        name_end = t.end
        name: Expr
        if t.kind == "generic" and not invocation:
            self.take("arg")
            name = self.bareword(t)
            name_end = t.end
        else:
            name = self.arg_value() if invocation else self.arg_primary()
            name_end = self.last_end
        args: list[Expr | ParamArg] = []
        redirects: list[Redirection] = []
        while True:
            t = self.peek("arg")
            if t.kind in TERMINATORS:
                break
            if t.kind == "redir":
                redirects.extend(self.redirections("arg"))
                continue
            if t.kind == "amp":
                raise self.error(
                    "The ampersand (&) character is not allowed. The & operator is reserved for future use; wrap an "
                    'ampersand in double quotation marks ("&") to pass it as part of a string.',
                    t.start,
                    t.end,
                    "AmpersandNotAllowed",
                )
            if t.kind == "comma":
                raise self.error("Missing argument in parameter list.", t.start, t.end, "MissingArgument")
            if t.kind == "param":
                self.take("arg")
                if t.colon:
                    nxt = self.peek("arg")
                    if nxt.kind in TERMINATORS:
                        raise self.error(
                            f"Missing an argument for parameter '{t.value}'.",
                            t.start,
                            t.end,
                            "MissingArgument",
                        )
                    value = self.arg_value()
                    args.append(ParamArg(t.start, self.last_end, str(t.value), value, True))
                else:
                    args.append(ParamArg(t.start, t.end, str(t.value)))
                continue
            args.append(self.arg_value())
        return Command(start, self.last_end, name, args, invocation, redirects, name_end)

    def arg_value(self) -> Expr:
        first = self.arg_primary()
        if self.peek("arg").kind != "comma":
            return first
        items = [first]
        while self.peek("arg").kind == "comma":
            c = self.take("arg")
            self.skip_newlines()
            t = self.peek("arg")
            if t.kind in TERMINATORS or t.kind in ("comma", "param", "redir"):
                raise self.error("Missing expression after ','.", c.end, c.end, "MissingExpressionAfterToken")
            items.append(self.arg_primary())
        return ArrayLiteral(first.start, self.last_end, items)

    def arg_primary(self) -> Expr:
        t = self.peek("arg")
        kind = t.kind
        if kind == "generic":
            self.take("arg")
            return self.bareword(t)
        if kind == "num":
            self.take("arg")
            return Const(t.start, t.end, t.value)
        if kind == "splat":
            self.take("arg")
            return Splat(t.start, t.end, str(t.value))
        if kind in ("str", "dqstr", "var"):
            self.take("arg")
            expr: Expr
            if kind == "str":
                expr = Const(t.start, t.end, t.value)
            elif kind == "dqstr":
                expr = self.expandable(t)
            else:
                expr = self.postfix(self.variable(t))
            if not self.at_arg_end():
                self.la = None
                self.lx.i = t.start
                g = self.lx.generic(t.start)
                self.last_end = g.end
                return self.bareword(g)
            return expr
        if kind in ("lparen", "dollarparen", "atparen", "athash", "lcurly"):
            self.drop_lookahead()
            return self.postfix(self.primary(None))
        if kind == "param":
            self.take("arg")
            return Const(t.start, t.end, t.text)
        raise self.unexpected(t)

    def at_arg_end(self) -> bool:
        """Whether the argument just read ends here (else it continues as one bareword: ``$env:x\\y``)."""
        i = self.last_end
        return i >= len(self.src) or self.src[i] in ARG_END

    # expressions -------------------------------------------------------------------------------------
    def expression(self, min_bp: int = 0, comma: bool = True) -> Expr:
        self.nest()
        try:
            left = self.array_literal() if comma else self.unary(None)
            while True:
                t = self.peek()
                if t.kind != "op":
                    return left
                op = str(t.value)
                bp = BINARY_BP.get(op)
                if bp is None or bp < min_bp:
                    return left
                self.take()
                self.skip_newlines()
                right = (
                    self.expression(bp + 1, comma)
                    if self.can_start(self.peek())
                    else self.missing_operand(op)
                )
                left = Binary(left.start, right.end, op, left, right)
        finally:
            self.depth -= 1

    def missing_operand(self, op: str) -> Expr:
        raise self.error(
            f"You must provide a value expression following the '{op}' operator.",
            self.last_end,
            self.last_end,
            "ExpectedValueExpression",
        )

    def can_start(self, t: Tok) -> bool:
        if t.kind in EXPR_START or t.kind == "comma":
            return True
        return t.kind == "op" and t.value in UNARY_OPS

    def array_literal(self) -> Expr:
        first = self.unary(None)
        if self.peek().kind != "comma":
            return first
        items = [first]
        while self.peek().kind == "comma":
            c = self.take()
            self.skip_newlines()
            if not self.can_start(self.peek()):
                raise self.error("Missing expression after ','.", c.end, c.end, "MissingExpressionAfterToken")
            items.append(self.unary(None))
        return ArrayLiteral(first.start, self.last_end, items)

    def unary(self, after: str | None) -> Expr:
        self.nest()
        try:
            return self._unary(after)
        finally:
            self.depth -= 1

    def _unary(self, after: str | None) -> Expr:
        t = self.peek()
        if t.kind == "op" and t.value in UNARY_OPS:
            self.take()
            if not self.can_start(self.peek()):
                self.missing_operand(str(t.value))
            operand = self.unary(str(t.value))
            op = str(t.value)
            if (
                op == "-"
                and isinstance(operand, Const)
                and isinstance(operand.value, int | float)
                and not isinstance(operand.value, bool)
            ):
                return Const(t.start, operand.end, -operand.value)
            return Unary(t.start, operand.end, op, operand)
        if t.kind == "comma":
            self.take()
            if not self.can_start(self.peek()):
                raise self.error(
                    "Missing expression after unary operator ','.",
                    t.end,
                    t.end,
                    "MissingExpressionAfterOperator",
                )
            operand = self.unary(",")
            return ArrayLiteral(t.start, operand.end, [operand])
        if t.kind == "incdec":
            self.take()
            operand = self.unary(str(t.value))
            if not isinstance(operand, Var | Member | Index):
                raise self.error(
                    f"The '{t.value}' operator works only on variables or on properties.",
                    operand.start,
                    operand.end,
                    "OperatorRequiresVariableOrProperty",
                )
            return IncDec(t.start, operand.end, str(t.value), operand, True)
        if t.kind == "lbracket":
            self.take()
            name = self.bracket_text(t)
            lit = TypeLit(t.start, self.last_end, name)
            if self.src.startswith("::", self.lx.i) or self.src[self.lx.i : self.lx.i + 1] in (".", "["):
                return self.postfix(lit)
            if self.can_start(self.peek()):
                operand = self.unary(f"[{name}]")
                return Cast(t.start, operand.end, name, operand)
            return lit
        return self.postfix(self.primary(after))

    def primary(self, after: str | None) -> Expr:
        t = self.peek()
        kind = t.kind
        if kind == "var":
            self.take()
            return self.variable(t)
        if kind == "splat":
            self.take()
            return Splat(t.start, t.end, str(t.value))
        if kind == "num":
            self.take()
            return Const(t.start, t.end, t.value)
        if kind == "str":
            self.take()
            return Const(t.start, t.end, t.value)
        if kind == "dqstr":
            self.take()
            return self.expandable(t)
        if kind == "lparen":
            self.take()
            self.skip_newlines()
            if self.peek().kind == "rparen":
                raise self.error("An expression was expected after '('.", t.end, t.end, "ExpectedExpression")
            inner = self.pipeline()
            self.skip_newlines()
            if self.peek().kind != "rparen":
                raise self.error(
                    "Missing closing ')' in expression.",
                    self.last_end,
                    self.last_end,
                    "MissingEndParenthesisInExpression",
                )
            close = self.take()
            return Paren(t.start, close.end, inner)
        if kind in ("dollarparen", "atparen"):
            self.take()
            body = self.statement_list(("rparen",))
            if self.peek().kind != "rparen":
                raise self.error(
                    "Missing closing ')' in subexpression."
                    if kind == "dollarparen"
                    else "Missing closing ')' in array expression.",
                    t.start,
                    t.end,
                    "MissingEndParenthesisInSubexpression"
                    if kind == "dollarparen"
                    else "MissingEndParenthesisInArrayExpression",
                )
            close = self.take()
            return SubExpr(t.start, close.end, body, kind == "atparen")
        if kind == "athash":
            self.take()
            return self.hash_literal(t)
        if kind == "lcurly":
            self.take()
            return self.script_block_expr(t)
        if after is not None:
            self.missing_operand(after)
        raise self.unexpected(t)

    def variable(self, t: Tok) -> Var:
        return Var(t.start, t.end, str(t.value))

    def hash_literal(self, open_tok: Tok) -> HashLiteral:
        pairs: list[tuple[Expr, Stmt]] = []
        while True:
            self.skip_separators()
            t = self.peek()
            if t.kind == "rcurly":
                close = self.take()
                return HashLiteral(open_tok.start, close.end, pairs)
            if t.kind == "eof":
                raise self.error(
                    "Missing closing '}' in hash literal.",
                    open_tok.start,
                    open_tok.end,
                    "MissingEndCurlyBrace",
                )
            key: Expr
            if t.kind == "ident":
                self.take()
                key = Const(t.start, t.end, t.text)
            elif t.kind in ("str", "num"):
                self.take()
                key = Const(t.start, t.end, t.value)
            elif t.kind == "dqstr":
                self.take()
                key = self.expandable(t)
            elif t.kind in ("var", "lparen", "dollarparen"):
                key = self.unary(None)
            elif t.kind == "generic":
                self.take()
                key = Const(t.start, t.end, t.text)
            else:
                raise self.error(
                    "Missing key before '=' in hash literal.", t.start, t.end, "MissingHashLiteralKey"
                )
            eq = self.peek()
            if not (eq.kind == "assign" and eq.value == "="):
                raise self.error(
                    "Missing '=' operator after key in hash literal.",
                    key.end,
                    key.end,
                    "MissingEqualsInHashLiteral",
                )
            self.take()
            self.skip_newlines()
            if self.peek().kind in TERMINATORS:
                raise self.error(
                    "Missing statement after '=' in hash literal.", eq.end, eq.end, "MissingHashLiteralValue"
                )
            pairs.append((key, self.statement()))
            t = self.peek()
            if t.kind not in ("newline", "semi", "rcurly"):
                raise self.unexpected(t)

    def script_block_expr(self, open_tok: Tok) -> ScriptBlockExpr:
        body = self.script_body(("rcurly",), open_tok.start)
        if self.peek().kind != "rcurly":
            raise self.error(
                "Missing closing '}' in statement block or type definition.",
                open_tok.start,
                open_tok.end,
                "MissingEndCurlyBrace",
            )
        close = self.take()
        body.text = self.src[open_tok.end : close.start]
        body.start, body.end = open_tok.start, close.end
        return ScriptBlockExpr(open_tok.start, close.end, body)

    def postfix(self, expr: Expr) -> Expr:
        """Member access, method calls, indexing and ``++``/``--``: written with no blank before them."""
        while True:
            if self.la is not None:
                if self.la.start != self.last_end:
                    return expr
                self.drop_lookahead()
            src, i = self.src, self.lx.i
            c = src[i : i + 1]
            if (c == "." and src[i + 1 : i + 2] != ".") or src[i : i + 2] == "::":
                static = c == ":"
                self.lx.i = i + (2 if static else 1)
                name = self.member_name(i)
                if self.src[self.lx.i : self.lx.i + 1] == "(":
                    args = self.method_args()
                    expr = Invoke(expr.start, self.last_end, expr, name, args, static)
                else:
                    expr = Member(expr.start, self.last_end, expr, name, static)
                continue
            if c == "[":
                open_tok = self.take()
                self.skip_newlines()
                if self.peek().kind == "rbracket":
                    raise self.error(
                        "Array index expression is missing or not valid.",
                        open_tok.start,
                        open_tok.end + 1,
                        "MissingArrayIndexExpression",
                    )
                index = self.expression()
                self.skip_newlines()
                if self.peek().kind != "rbracket":
                    raise self.error(
                        "Missing ']' after array index expression.",
                        self.last_end,
                        self.last_end,
                        "MissingEndSquareBracket",
                    )
                close = self.take()
                expr = Index(expr.start, close.end, expr, index)
                continue
            if src[i : i + 2] in ("++", "--") and isinstance(expr, Var | Member | Index):
                self.lx.i = i + 2
                self.last_end = i + 2
                expr = IncDec(expr.start, i + 2, src[i : i + 2], expr, False)
                continue
            return expr

    def member_name(self, dot: int) -> Expr:
        src, i = self.src, self.lx.i
        if i < len(src) and (src[i].isalpha() or src[i] == "_"):
            j = i
            while j < len(src) and (src[j].isalnum() or src[j] == "_"):
                j += 1
            self.lx.i = j
            self.last_end = j
            return Const(i, j, src[i:j])
        if i < len(src) and src[i] in "'\"$":
            t = self.take()
            if t.kind == "str":
                return Const(t.start, t.end, t.value)
            if t.kind == "dqstr":
                return self.expandable(t)
            if t.kind == "var":
                return self.variable(t)
        raise self.error(
            "Missing property name after reference operator.", dot, dot + 1, "MissingPropertyName"
        )

    def method_args(self) -> list[Expr]:
        open_tok = self.take()  # (
        args: list[Expr] = []
        self.skip_newlines()
        if self.peek().kind == "rparen":
            self.take()
            return args
        while True:
            self.skip_newlines()
            if not self.can_start(self.peek()):
                t = self.peek()
                if t.kind == "eof":
                    break
                raise self.error(
                    "Missing expression after ','." if args else "Missing ')' in method call.",
                    t.start,
                    t.end,
                    "MissingExpressionAfterToken" if args else "MissingEndParenthesisInMethodCall",
                )
            args.append(self.expression(comma=False))
            self.skip_newlines()
            t = self.peek()
            if t.kind == "comma":
                self.take()
                continue
            if t.kind == "rparen":
                self.take()
                return args
            break
        raise self.error(
            "Missing ')' in method call.", open_tok.start, open_tok.end, "MissingEndParenthesisInMethodCall"
        )

    # strings -----------------------------------------------------------------------------------------
    def expandable(self, t: Tok) -> Expr:
        body_start, body_end = t.value
        parts = self.string_parts(body_start, body_end, bareword=False)
        if all(isinstance(p, str) for p in parts):
            return Const(t.start, t.end, "".join(p for p in parts if isinstance(p, str)))
        return Expandable(t.start, t.end, parts)

    def bareword(self, t: Tok) -> Expr:
        parts = self.string_parts(t.start, t.end, bareword=True)
        if all(isinstance(p, str) for p in parts):
            return Const(t.start, t.end, "".join(p for p in parts if isinstance(p, str)))
        return Expandable(t.start, t.end, parts)

    def string_parts(self, start: int, end: int, bareword: bool) -> list[str | Expr]:
        """Literal text and ``$var``/``${...}``/``$(...)`` expressions of an expandable string or bareword."""
        src = self.src
        parts: list[str | Expr] = []
        buf: list[str] = []
        i = start
        esc = {
            "0": "\0",
            "a": "\a",
            "b": "\b",
            "e": "\x1b",
            "f": "\f",
            "n": "\n",
            "r": "\r",
            "t": "\t",
            "v": "\v",
        }

        def flush() -> None:
            if buf:
                parts.append("".join(buf))
                buf.clear()

        while i < end:
            c = src[i]
            if c == "`" and i + 1 < end:
                nxt = src[i + 1]
                if nxt == "u" and src[i + 2 : i + 3] == "{":
                    close = src.find("}", i + 3, end)
                    code = src[i + 3 : close] if close > 0 else ""
                    if (
                        re.fullmatch(r"[0-9A-Fa-f]{1,6}", code)
                        and int(code, 16) <= 0x10FFFF
                        and not 0xD800 <= int(code, 16) <= 0xDFFF
                    ):
                        buf.append(chr(int(code, 16)))
                        i = close + 1
                        continue
                buf.append(esc.get(nxt, nxt))
                i += 2
                continue
            if bareword and c in "'\"":
                close = self.lx.skip_string(i)
                close = min(close, end)
                if c == "'":
                    buf.append(src[i + 1 : close - 1].replace("''", "'"))
                else:
                    flush()
                    parts.extend(self.string_parts(i + 1, close - 1, bareword=False))
                i = close
                continue
            if not bareword and c == '"' and src[i + 1 : i + 2] == '"':
                buf.append('"')
                i += 2
                continue
            if c == "$" and i + 1 < end:
                nxt = src[i + 1]
                if nxt == "(":
                    flush()
                    expr, i = self.subexpression_at(i)
                    parts.append(expr)
                    continue
                if nxt == "{" or nxt.isalnum() or nxt in "_?$^":
                    lx = Lexer(src[:end])
                    lx.i = i
                    try:
                        vt = lx.variable(i)
                    except ParseError:
                        buf.append(c)
                        i += 1
                        continue
                    if vt.kind == "var":
                        flush()
                        parts.append(Var(vt.start, vt.end, str(vt.value)))
                        i = vt.end
                        continue
            buf.append(c)
            i += 1
        flush()
        return parts

    def subexpression_at(self, dollar: int) -> tuple[Expr, int]:
        """Parse the ``$( ... )`` starting at ``dollar`` in place (its extents point into the script)."""
        saved_i, saved_la, saved_end = self.lx.i, self.la, self.last_end
        self.la = None
        self.lx.i = dollar
        try:
            expr = self.primary(None)
            end = self.last_end
        finally:
            self.lx.i, self.la, self.last_end = saved_i, saved_la, saved_end
        return expr, end


def _assignable(e: Expr) -> bool:
    if isinstance(e, Var | Member | Index):
        return True
    if isinstance(e, Cast):
        return _assignable(e.operand)
    if isinstance(e, ArrayLiteral):
        return all(_assignable(x) for x in e.items)
    return False


def parse_script(src: str) -> ScriptBlockAst:
    ast = Parser(src).parse()
    ast.text = src
    return ast

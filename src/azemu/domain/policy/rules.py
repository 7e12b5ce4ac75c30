"""A policy rule compiled once into closures.

:func:`compile_rule` turns a definition's ``if`` into a predicate over an :class:`Evaluation` (the resource, its
kind's aliases, the policy env). Expressions (``[parameters('x')]``, ``[concat(...)]``, ``[field('...')]``) run
on the shared template evaluator with the policy function table; those that depend only on the assignment's
parameters are folded when the rule is compiled, so a request pays only for the comparisons. With a trace
list, leaf conditions record Azure's ``evaluatedExpressions`` (for the deny error and compliance reasons).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from azemu.domain.policy import paths
from azemu.domain.policy.conditions import OPERATORS, norm
from azemu.domain.policy.functions import PolicyEnv, ResourceDependent, StaticEnv, evaluator
from azemu.domain.policy.paths import MISSING
from azemu.templates import ExpressionError, is_expression, parse_expression, unescape_literal


class PolicyRuleError(ValueError):
    """The rule is not valid policy language (Azure: ``InvalidPolicyRule``)."""


class Evaluation:
    """One resource being evaluated against one assignment."""

    __slots__ = ("doc", "env", "members", "resolver", "trace")

    def __init__(
        self,
        doc: dict[str, Any],
        aliases: Mapping[str, str] | paths.Resolver,
        env: PolicyEnv,
        trace: list[dict[str, Any]] | None = None,
    ) -> None:
        self.doc = doc
        self.resolver = aliases if isinstance(aliases, paths.Resolver) else paths.Resolver(aliases)
        self.env = env
        self.members: list[tuple[paths.Path, Any]] = []  # the array members count is iterating
        self.trace = trace

    @property
    def aliases(self) -> Mapping[str, str]:
        return self.resolver.aliases

    def field(self, name: str) -> Any:
        path = self.resolver.path(name)
        if path is None:
            return MISSING
        if self.members:
            for array_path, member in reversed(self.members):
                rel = paths.member_path(array_path, path)
                if rel is not None:
                    return paths.None_to_missing(member) if not rel.steps else paths.read(member, rel)
        return paths.read(self.doc, path)

    def is_array(self, name: str) -> bool:
        path = self.resolver.path(name)
        return path is not None and path.is_array

    def path_text(self, name: str) -> str:
        path = self.resolver.path(name)
        return path.text if path is not None else name


Pred = Callable[[Evaluation], bool]
Value = Callable[[Evaluation], Any]


def compile_rule(rule: Any, params: dict[str, Any]) -> Pred:
    """The predicate of a rule's ``if`` block."""
    return _Compiler(params).condition(rule)


def compile_value(raw: Any, params: dict[str, Any]) -> Value:
    """A value that may hold expressions (``then.details`` fields and values)."""
    return _Compiler(params).value(raw)


def static_value(raw: Any, params: dict[str, Any]) -> Any:
    """``raw`` with its parameter-only expressions evaluated (the effect, for instance)."""
    fn = compile_value(raw, params)
    folded = getattr(fn, "constant", MISSING)
    if folded is MISSING:
        raise PolicyRuleError(
            f"The value '{raw}' depends on the resource; it must depend on parameters only."
        )
    return folded


def _const(value: Any) -> Value:
    def fn(ev: Evaluation) -> Any:
        return value

    fn.constant = value  # type: ignore[attr-defined]
    return fn


class _Compiler:
    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.static = StaticEnv(params)

    # values ---------------------------------------------------------------------------------------
    def value(self, raw: Any) -> Value:
        if type(raw) is str:
            if not is_expression(raw):
                return _const(unescape_literal(raw) if raw.startswith("[[") else raw)
            try:
                node = parse_expression(raw[1:-1])
            except ExpressionError as e:
                raise PolicyRuleError(f"The policy language expression '{raw}' is not valid: {e}") from e
            ev = evaluator()
            try:
                return _const(ev.evaluate(node, self.static))
            except ResourceDependent:
                pass
            except ExpressionError:
                pass  # fails on every resource alike: evaluated (and failing) per request, as Azure reports it

            def dynamic(e: Evaluation) -> Any:
                try:
                    out = ev.evaluate(node, e.env)
                except (ExpressionError, ResourceDependent):
                    return MISSING
                return MISSING if out is None else out

            return dynamic
        if type(raw) is list:
            items = [self.value(x) for x in raw]
            if all(hasattr(i, "constant") for i in items):
                return _const([i.constant for i in items])  # type: ignore[attr-defined]
            return lambda e: [i(e) for i in items]
        if type(raw) is dict:
            entries = {k: self.value(v) for k, v in raw.items()}
            if all(hasattr(i, "constant") for i in entries.values()):
                return _const({k: i.constant for k, i in entries.items()})  # type: ignore[attr-defined]
            return lambda e: {k: i(e) for k, i in entries.items()}
        return _const(raw)

    # conditions -----------------------------------------------------------------------------------
    def condition(self, raw: Any) -> Pred:
        if type(raw) is not dict or not raw:
            raise PolicyRuleError(f"The policy rule condition '{raw}' must be a non-empty object.")
        keys = {k.lower(): k for k in raw}
        if "allof" in keys or "anyof" in keys:
            logical = "allof" if "allof" in keys else "anyof"
            items = raw[keys[logical]]
            if type(items) is not list or not items:
                raise PolicyRuleError(f"The '{keys[logical]}' of a policy rule must be a non-empty array.")
            preds = [self.condition(c) for c in items]
            if logical == "allof":
                return lambda e: all(p(e) for p in preds)
            return lambda e: any(p(e) for p in preds)
        if "not" in keys:
            inner = self.condition(raw[keys["not"]])
            return lambda e: not inner(e)
        ops = [k for k in keys if k in OPERATORS]
        operands = [k for k in ("field", "value", "count") if k in keys]
        if len(ops) != 1 or len(operands) != 1:
            raise PolicyRuleError(
                f"The policy rule condition '{_short(raw)}' must have exactly one of 'field', 'value' or 'count' "
                f"and exactly one condition operator ({', '.join(o for o, _ in OPERATORS.values())})."
            )
        op_key = ops[0]
        op_name, op = OPERATORS[op_key]
        target = self.value(raw[keys[op_key]])
        kind = operands[0]
        if kind == "field":
            return self._field_condition(raw[keys["field"]], op_name, op, target)
        if kind == "value":
            operand = self.value(raw[keys["value"]])
            text = raw[keys["value"]]
            return self._leaf("Value", text, None, operand, op_name, op, target)
        counted = self._count(raw[keys["count"]])
        return self._leaf("Count", "count", None, counted, op_name, op, target)

    def _field_condition(
        self, raw_field: Any, op_name: str, op: Callable[[Any, Any], bool], target: Value
    ) -> Pred:
        if type(raw_field) is not str:
            raise PolicyRuleError("The 'field' of a policy rule condition must be a string.")
        name_fn = self.value(raw_field)
        name = getattr(name_fn, "constant", None)
        if type(name) is str:
            fixed: str = name

            def read(e: Evaluation) -> Any:
                return e.field(fixed)

        else:

            def read(e: Evaluation) -> Any:
                n = name_fn(e)
                return e.field(n) if type(n) is str else MISSING

        return self._leaf("Field", raw_field, name_fn, read, op_name, op, target, per_member=True)

    def _leaf(
        self,
        kind: str,
        text: Any,
        name_fn: Value | None,
        operand: Value,
        op_name: str,
        op: Callable[[Any, Any], bool],
        target: Value,
        *,
        per_member: bool = False,
    ) -> Pred:
        fast = _prepared(op_name, getattr(target, "constant", MISSING))

        def pred(e: Evaluation) -> bool:
            left = operand(e)
            if fast is not None and type(left) is not list:
                result = fast(left)
                right: Any = target.constant  # type: ignore[attr-defined]
            else:
                right = target(e)
                if per_member and type(left) is list and _is_array_field(e, name_fn):
                    result = all(op(m, right) for m in left)
                else:
                    result = op(left, right)
            if e.trace is not None and not e.members:
                item: dict[str, Any] = {"result": "True" if result else "False", "expressionKind": kind}
                if kind == "Field":
                    name = name_fn(e) if name_fn is not None else text
                    item["expression"] = name
                    item["path"] = e.path_text(name) if type(name) is str else str(name)
                else:
                    item["expression"] = text if type(text) is str else "count"
                if left is not MISSING:
                    item["expressionValue"] = left
                item["targetValue"] = right if right is not MISSING else None
                item["operator"] = op_name
                e.trace.append(item)
            return result

        return pred

    def _count(self, raw: Any) -> Value:
        if type(raw) is not dict:
            raise PolicyRuleError("The 'count' of a policy rule condition must be an object.")
        keys = {k.lower(): k for k in raw}
        where = self.condition(raw[keys["where"]]) if "where" in keys else None
        if "field" in keys:
            field = raw[keys["field"]]
            if type(field) is not str or "[*]" not in field:
                raise PolicyRuleError(
                    f"The field '{field}' of a count expression must be an array alias (ending in '[*]')."
                )
            low = field.lower()

            def count_field(e: Evaluation) -> int:
                path = e.resolver.path(field)
                if path is None:
                    return 0
                members = e.field(field)
                if type(members) is not list:
                    return 0
                if where is None:
                    return len(members)
                n = 0
                array_path = _array_prefix(path)
                previous = e.env.current.get(low, MISSING)
                for m in members:
                    e.members.append((array_path, m))
                    e.env.current[low] = None if m is MISSING else m
                    try:
                        n += bool(where(e))
                    finally:
                        e.members.pop()
                _restore(e.env.current, low, previous)
                return n

            return count_field
        if "value" in keys:
            values = self.value(raw[keys["value"]])
            name = str(raw.get(keys["name"], "")) if "name" in keys else ""
            low = name.lower()

            def count_value(e: Evaluation) -> int:
                items = values(e)
                if type(items) is not list:
                    return 0
                if where is None:
                    return len(items)
                n = 0
                previous = e.env.current.get(low, MISSING)
                for item in items:
                    e.env.current[low] = item
                    n += bool(where(e))
                _restore(e.env.current, low, previous)
                return n

            return count_value
        raise PolicyRuleError("A count expression needs a 'field' or a 'value'.")


def _restore(current: dict[str, Any], key: str, previous: Any) -> None:
    if previous is MISSING:
        current.pop(key, None)
    else:
        current[key] = previous


def _array_prefix(path: paths.Path) -> paths.Path:
    """``a[*].b[*]`` -> itself; ``a[*].b`` -> ``a[*]``: the array whose members count iterates."""
    steps = list(path.steps)
    while steps and not steps[-1][1]:
        steps.pop()
    return paths.Path(tuple(steps), path.text)


def _is_array_field(e: Evaluation, name_fn: Value | None) -> bool:
    if name_fn is None:
        return False
    name = name_fn(e)
    return type(name) is str and e.is_array(name)


def _prepared(op_name: str, constant: Any) -> Callable[[Any], bool] | None:
    """A faster test against a constant target for the common operators (the target normalized once)."""
    if constant is MISSING:
        return None
    if op_name in ("Equals", "NotEquals") and type(constant) in (str, bool, int):
        want = norm(constant)
        if op_name == "Equals":
            return lambda a: norm(a) == want
        return lambda a: norm(a) != want
    if (
        op_name in ("In", "NotIn")
        and type(constant) is list
        and all(type(x) in (str, bool, int) for x in constant)
    ):
        allowed = frozenset(norm(x) for x in constant)
        if op_name == "In":
            return lambda a: a is not MISSING and norm(a) in allowed
        return lambda a: a is MISSING or norm(a) not in allowed
    if op_name == "Exists":
        want_exists = constant if type(constant) is bool else str(constant).lower() == "true"
        return lambda a: (a is not MISSING) == want_exists
    return None


def _short(raw: Any) -> str:
    text = str(raw)
    return text if len(text) < 200 else text[:197] + "..."

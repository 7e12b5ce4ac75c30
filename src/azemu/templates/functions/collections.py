"""Array and object functions (several also take strings): ``array``, ``createArray``, ``createObject``,
``contains``, ``empty``, ``first``, ``last``, ``length``, ``skip``, ``take``, ``union``, ``intersection``,
``flatten``, ``items``, ``objectKeys``, ``shallowMerge``, ``tryGet``.

``contains`` is case-sensitive on strings and array items but ignores case for object keys (ARM docs).
``union`` keeps the first occurrence of equal array items and merges objects deeply: nested objects merge,
nested arrays are replaced by the later value (ARM docs, "deep merge" example).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ExpressionError, see
from ..values import arm_equals, culture_key, find_key, is_int, to_display, type_name
from .table import Invocation, bad_arg, fn, want_dict, want_list


@fn("array", 1, 1)
def array(inv: Invocation, args: Sequence[Any]) -> Any:
    v = args[0]
    if type(v) is list:
        return v
    return [] if v is None else [v]


@fn("createArray", 0, None)
def create_array(inv: Invocation, args: Sequence[Any]) -> Any:
    return list(args)


@fn("createObject", 0, None)
def create_object(inv: Invocation, args: Sequence[Any]) -> Any:
    if len(args) % 2:
        # azemu wording
        raise ExpressionError(
            "The template language function 'createObject' expects an even number of parameters: property names "
            f"and their values. {see()}"
        )
    out: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        key = args[i]
        if type(key) is not str:
            raise bad_arg("createObject", i, "String", key)
        out[key] = args[i + 1]
    return out


@fn("contains", 2, 2)
def contains(inv: Invocation, args: Sequence[Any]) -> Any:
    container, item = args
    if type(container) is list:
        return any(arm_equals(x, item) for x in container)
    if type(container) is dict:
        return type(item) is str and find_key(container, item) is not None
    if type(container) is str:
        return to_display(item) in container
    # azemu wording
    raise ExpressionError(
        "The template language function 'contains' expects its first parameter to be an array, an object, or a string. "
        f"The provided value is of type '{type_name(container)}'. {see()}"
    )


@fn("empty", 1, 1)
def empty(inv: Invocation, args: Sequence[Any]) -> Any:
    v = args[0]
    if v is None:
        return True
    if type(v) in (str, list, dict):
        return len(v) == 0
    # Real: "The template function 'empty' expects its parameter to be an object, an array, or a string. The
    # provided value is of type 'Integer'."
    raise ExpressionError(
        "The template function 'empty' expects its parameter to be an object, an array, or a string. The provided "
        f"value is of type '{type_name(v)}'. {see('https://aka.ms/arm-functions#empty')}"
    )


def _array_or_string(name: str, v: Any) -> Any:
    if type(v) not in (str, list):
        # Real: "The template language function 'first' expects its parameter be an array or a string. The provided
        # value is of type 'Integer'."
        raise ExpressionError(
            f"The template language function '{name}' expects its parameter be an array or a string. The provided value "
            f"is of type '{type_name(v)}'. {see(f'https://aka.ms/arm-functions#{name}')}"
        )
    return v


@fn("first", 1, 1)
def first(inv: Invocation, args: Sequence[Any]) -> Any:
    v = _array_or_string("first", args[0])
    if not v:
        return None if type(v) is list else ""
    return v[0]


@fn("last", 1, 1)
def last(inv: Invocation, args: Sequence[Any]) -> Any:
    v = _array_or_string("last", args[0])
    if not v:
        return None if type(v) is list else ""
    return v[-1]


def _length_arity(got: int) -> ExpressionError:
    # Real: "The template language function 'length' expects exactly one parameter: an array, object, or a string the
    # length of which is returned. The function was invoked with '2' parameters."
    return ExpressionError(
        "The template language function 'length' expects exactly one parameter: an array, object, or a string the "
        f"length of which is returned. The function was invoked with '{got}' parameters. "
        f"{see('https://aka.ms/arm-functions#length')}"
    )


@fn("length", 1, 1, arity_error=_length_arity)
def length(inv: Invocation, args: Sequence[Any]) -> Any:
    v = args[0]
    if type(v) in (str, list, dict):
        return len(v)
    # Real: "The template language function 'length' expects its parameter to be an array, object, or a string. The
    # provided value is of type 'Integer'."
    raise ExpressionError(
        "The template language function 'length' expects its parameter to be an array, object, or a string. The "
        f"provided value is of type '{type_name(v)}'. {see('https://aka.ms/arm-functions#length')}"
    )


def _collection_and_count(name: str, args: Sequence[Any]) -> tuple[Any, int]:
    coll, count = args
    if type(coll) not in (str, list):
        # Real: "The template language function 'take' expects its first parameter 'collection' to be an array or a
        # string."
        raise ExpressionError(
            f"The template language function '{name}' expects its first parameter 'collection' to be an array or a "
            f"string. The provided value is of type '{type_name(coll)}'. {see(f'https://aka.ms/arm-functions#{name}')}"
        )
    if not is_int(count):
        # Real: "The template language function 'take' expects its second parameter 'count' to be an integer."
        raise ExpressionError(
            f"The template language function '{name}' expects its second parameter 'count' to be an integer. The "
            f"provided value is of type '{type_name(count)}'. {see(f'https://aka.ms/arm-functions#{name}')}"
        )
    return coll, max(0, min(int(count), len(coll)))


@fn("skip", 2, 2)
def skip(inv: Invocation, args: Sequence[Any]) -> Any:
    coll, n = _collection_and_count("skip", args)
    return coll[n:]


@fn("take", 2, 2)
def take(inv: Invocation, args: Sequence[Any]) -> Any:
    coll, n = _collection_and_count("take", args)
    return coll[:n]


def _same_kind(name: str, args: Sequence[Any]) -> type:
    kinds = {type(a) for a in args}
    if kinds == {list} or kinds == {dict}:
        return kinds.pop()
    if kinds <= {list, dict}:
        # Real: "Template language function 'intersection' expects parameters of the same type, but found multiple
        # types."
        raise ExpressionError(
            f"Template language function '{name}' expects parameters of the same type, but found multiple types. {see()}"
        )
    # Real: "The template language function 'intersection' expects either a comma separated list of arrays or a
    # comma separated list of objects as its parameters."
    raise ExpressionError(
        f"The template language function '{name}' expects either a comma separated list of arrays or a comma "
        f"separated list of objects as its parameters. {see(f'https://aka.ms/arm-functions#{name}')}"
    )


def _merge(into: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    out = dict(into)
    for k, v in other.items():
        existing = find_key(out, k)
        if existing is not None and type(out[existing]) is dict and type(v) is dict:
            out[existing] = _merge(out[existing], v)
        elif existing is not None:
            out[existing] = v
        else:
            out[k] = v
    return out


@fn("union", 1, None)
def union(inv: Invocation, args: Sequence[Any]) -> Any:
    if _same_kind("union", args) is list:
        out: list[Any] = []
        for arr in args:
            for item in arr:
                if not any(arm_equals(item, x) for x in out):
                    out.append(item)
        return out
    merged: dict[str, Any] = {}
    for obj in args:
        merged = _merge(merged, obj)
    return merged


@fn("intersection", 2, None)
def intersection(inv: Invocation, args: Sequence[Any]) -> Any:
    if _same_kind("intersection", args) is list:
        out: list[Any] = []
        for item in args[0]:
            if all(any(arm_equals(item, x) for x in other) for other in args[1:]) and not any(
                arm_equals(item, x) for x in out
            ):
                out.append(item)
        return out
    result: dict[str, Any] = {}
    for k, v in args[0].items():
        if all(k in other and arm_equals(v, other[k]) for other in args[1:]):
            result[k] = v
    return result


@fn("flatten", 1, 1)
def flatten(inv: Invocation, args: Sequence[Any]) -> Any:
    out: list[Any] = []
    for i, item in enumerate(want_list("flatten", args, 0)):
        if type(item) is not list:
            # azemu wording
            raise ExpressionError(
                "The template language function 'flatten' expects its parameter to be an array of arrays. The element "
                f"at index '{i}' is of type '{type_name(item)}'. {see()}"
            )
        out.extend(item)
    return out


@fn("items", 1, 1)
def items(inv: Invocation, args: Sequence[Any]) -> Any:
    obj = want_dict("items", args, 0)
    # ARM docs: the array is sorted by key ("item001" before "item002" whatever the object's order)
    return [{"key": k, "value": obj[k]} for k in sorted(obj, key=culture_key)]


@fn("objectKeys", 1, 1)
def object_keys(inv: Invocation, args: Sequence[Any]) -> Any:
    return list(want_dict("objectKeys", args, 0))


@fn("shallowMerge", 1, 1)
def shallow_merge(inv: Invocation, args: Sequence[Any]) -> Any:
    out: dict[str, Any] = {}
    for i, obj in enumerate(want_list("shallowMerge", args, 0)):
        if type(obj) is not dict:
            raise bad_arg("shallowMerge", i, "Object", obj)
        out.update(obj)
    return out


@fn("tryGet", 2, None)
def try_get(inv: Invocation, args: Sequence[Any]) -> Any:
    v = args[0]
    for key in args[1:]:
        if type(v) is dict and type(key) is str:
            k = find_key(v, key)
            v = v[k] if k is not None else None
        elif type(v) is list and is_int(key):
            v = v[key] if 0 <= key < len(v) else None
        else:
            return None
        if v is None:
            return None
    return v


SPECS = [
    array,
    create_array,
    create_object,
    contains,
    empty,
    first,
    last,
    length,
    skip,
    take,
    union,
    intersection,
    flatten,
    items,
    object_keys,
    shallow_merge,
    try_get,
]

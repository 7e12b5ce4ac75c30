"""String functions.

Case rules follow ARM (C# ``StringComparison``): ``startsWith``, ``endsWith``, ``indexOf`` and ``lastIndexOf``
ignore case (``OrdinalIgnoreCase``); ``replace`` and ``contains`` (see :mod:`.collections`) do not. Values
printed into strings use :func:`~azemu.templates.values.to_display` (``True``/``False`` for booleans: Bicep's
tests show ``format('{0}/{1}/{2}/{3}', 1, 2, 3, true)`` is ``1/2/3/True``).
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Sequence
from typing import Any

from .. import dotnet
from ..errors import ExpressionError, see
from ..hashing import arm_guid, unique_string
from ..values import arm_equals, to_display, type_name
from .table import Invocation, bad_arg, fn, ordinal, want_int, want_list, want_str


def _only_one(name: str) -> Any:
    # Real: "The template language function 'base64' must have only one parameter."
    return lambda got: ExpressionError(
        f"The template language function '{name}' must have only one parameter. {see()}"
    )


def _exactly(name: str, n: int) -> Any:
    # Real: "The template language function 'replace' expects exactly '3' parameters."
    return lambda got: ExpressionError(
        f"The template language function '{name}' expects exactly '{n}' parameters. {see()}"
    )


def _string_param(name: str, v: Any) -> str:
    # Real: "The template language function 'base64' expects its parameter to be of type 'String'. The provided
    # value is of type 'Integer'."
    if type(v) is not str:
        raise ExpressionError(
            f"The template language function '{name}' expects its parameter to be of type 'String'. The provided "
            f"value is of type '{type_name(v)}'. {see()}"
        )
    return v


def _a_string(name: str, v: Any) -> str:
    # Real: "The template language function 'base64ToString' expects its parameter to be a string. The provided
    # value is of type 'Integer'."
    if type(v) is not str:
        raise ExpressionError(
            f"The template language function '{name}' expects its parameter to be a string. The provided value is of "
            f"type '{type_name(v)}'. {see(f'https://aka.ms/arm-functions#{name}')}"
        )
    return v


@fn("base64", 1, 1, arity_error=_only_one("base64"))
def base64_(inv: Invocation, args: Sequence[Any]) -> Any:
    return base64.b64encode(_string_param("base64", args[0]).encode("utf-8")).decode("ascii")


def _b64decode(name: str, v: Any) -> str:
    text = _a_string(name, v)
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        # Real: "The template language function 'base64ToString' was invoked with a parameter that is not valid.
        # The value cannot be decoded from base64 representation." (Bicep baselines)
        raise ExpressionError(
            f"The template language function '{name}' was invoked with a parameter that is not valid. The value "
            f"cannot be decoded from base64 representation. {see()}"
        ) from None


@fn("base64ToString", 1, 1)
def base64_to_string(inv: Invocation, args: Sequence[Any]) -> Any:
    return _b64decode("base64ToString", args[0])


def parse_json_text(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        # azemu wording around the text Newtonsoft gives for malformed literal JSON.
        raise ExpressionError(
            f"The template language function '{name}' was invoked with a parameter that is not valid. Unable to parse "
            f"literal JSON value. Please ensure that it is well-formed. {see()}"
        ) from None


@fn("base64ToJson", 1, 1)
def base64_to_json(inv: Invocation, args: Sequence[Any]) -> Any:
    return parse_json_text("base64ToJson", _b64decode("base64ToJson", args[0]))


@fn("json", 1, 1)
def json_(inv: Invocation, args: Sequence[Any]) -> Any:
    return parse_json_text("json", _a_string("json", args[0]))


def _concat_arity(got: int) -> ExpressionError:
    # Real: "Unable to evaluate template language function 'concat'. At least one parameter should be provided."
    return ExpressionError(
        f"Unable to evaluate template language function 'concat'. At least one parameter should be provided. {see()}"
    )


@fn("concat", 1, None, arity_error=_concat_arity)
def concat(inv: Invocation, args: Sequence[Any]) -> Any:
    arrays = [type(a) is list for a in args]
    if any(arrays):
        if not all(arrays[i] or args[i] is None for i in range(len(args))):
            # Real: "The provided parameters for language function 'concat' are invalid. Either all or none of the
            # parameters must be an array."
            raise ExpressionError(
                "The provided parameters for language function 'concat' are invalid. Either all or none of the "
                f"parameters must be an array. {see('https://aka.ms/arm-functions#concat')}"
            )
        out: list[Any] = []
        for a in args:
            if a is not None:
                out.extend(a)
        return out
    return "".join(to_display(a) for a in args)


@fn("dataUri", 1, 1)
def data_uri(inv: Invocation, args: Sequence[Any]) -> Any:
    text = want_str("dataUri", args, 0)
    # Bicep's tests (Microsoft's library): dataUri(' Fizz ') is 'data:text/plain;charset=utf-8;base64,IEZpenog'
    return "data:text/plain;charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


@fn("dataUriToString", 1, 1)
def data_uri_to_string(inv: Invocation, args: Sequence[Any]) -> Any:
    text = _a_string("dataUriToString", args[0])

    def malformed() -> ExpressionError:
        # Real: "The template language function 'dataUriToString' expects its parameter to be formatted as a valid
        # data URI. The provided value 'invalid datauri' was not formatted correctly."
        return ExpressionError(
            "The template language function 'dataUriToString' expects its parameter to be formatted as a valid data "
            f"URI. The provided value '{text}' was not formatted correctly. {see('https://aka.ms/arm-functions#dataUriToString')}"
        )

    if not text.startswith("data:") or "," not in text:
        raise malformed()
    header, payload = text[5:].split(",", 1)
    parts = header.split(";")
    is_b64 = parts[-1].lower() == "base64"
    if is_b64:
        parts = parts[:-1]
    media, params = parts[0], parts[1:]
    if media and "/" not in media:
        raise malformed()
    charset = "us-ascii" if not params else None
    for p in params:
        if "=" not in p:
            raise malformed()
        key, value = p.split("=", 1)
        if key.strip().lower() == "charset":
            charset = value.strip().lower()
    if charset not in (None, "utf-8", "us-ascii"):
        # Real: "The template language function 'dataUriToString' parameter is not valid. The provided charset
        # 'utf8' is not supported."
        raise ExpressionError(
            "The template language function 'dataUriToString' parameter is not valid. The provided charset "
            f"'{charset}' is not supported. {see('https://aka.ms/arm-functions#dataUriToString')}"
        )
    try:
        raw = base64.b64decode(payload, validate=True) if is_b64 else urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise malformed() from None
    return raw.decode("utf-8", errors="replace")


def _two_strings(name: str, args: Sequence[Any]) -> tuple[str, str]:
    a, b = args[0], args[1]
    if type(a) is not str or type(b) is not str:
        # Real: "The template language function 'endsWith' expects its parameters to be of type string and string.
        # The provided value is of type 'Integer' and 'Integer'."
        raise ExpressionError(
            f"The template language function '{name}' expects its parameters to be of type string and string. The "
            f"provided value is of type '{type_name(a)}' and '{type_name(b)}'. {see(f'https://aka.ms/arm-functions#{name}')}"
        )
    return a, b


@fn("startsWith", 2, 2)
def starts_with(inv: Invocation, args: Sequence[Any]) -> Any:
    a, b = _two_strings("startsWith", args)
    return a.casefold().startswith(b.casefold())


@fn("endsWith", 2, 2)
def ends_with(inv: Invocation, args: Sequence[Any]) -> Any:
    a, b = _two_strings("endsWith", args)
    return a.casefold().endswith(b.casefold())


def _array_index(items: list[Any], item: Any, last: bool) -> int:
    rng = range(len(items) - 1, -1, -1) if last else range(len(items))
    for i in rng:
        if arm_equals(items[i], item):
            return i
    return -1


@fn("indexOf", 2, 2)
def index_of(inv: Invocation, args: Sequence[Any]) -> Any:
    if type(args[0]) is list:
        return _array_index(args[0], args[1], last=False)
    a, b = _two_strings("indexOf", args)
    return a.lower().find(b.lower())


@fn("lastIndexOf", 2, 2)
def last_index_of(inv: Invocation, args: Sequence[Any]) -> Any:
    if type(args[0]) is list:
        return _array_index(args[0], args[1], last=True)
    a, b = _two_strings("lastIndexOf", args)
    if not b:
        return len(a) - 1 if a else 0
    return a.lower().rfind(b.lower())


@fn("format", 1, None)
def format_(inv: Invocation, args: Sequence[Any]) -> Any:
    template = want_str("format", args, 0)
    try:
        return dotnet.composite_format(template, args[1:])
    except dotnet.FormatError as e:
        # Real: "Unable to evaluate language function 'format': the format is invalid: 'Index (zero based) must be
        # greater than or equal to zero and less than the size of the argument list.'. Please see
        # https://aka.ms/arm-function-format for usage details."
        raise ExpressionError(
            f"Unable to evaluate language function 'format': the format is invalid: '{e}'. "
            f"{see('https://aka.ms/arm-function-format')}"
        ) from None


def _all_strings(name: str, args: Sequence[Any]) -> list[str]:
    for i, a in enumerate(args):
        if type(a) is not str:
            # azemu wording: ARM's text (InvalidTemplateFunctionParametersStringLiterals) was not found.
            raise ExpressionError(
                f"The template language function '{name}' expects its parameters to be of type 'String'. The "
                f"{ordinal(i)} parameter is of type '{type_name(a)}'. {see()}"
            )
    return list(args)


@fn("uniqueString", 1, None)
def unique_string_(inv: Invocation, args: Sequence[Any]) -> Any:
    return unique_string(*_all_strings("uniqueString", args))


@fn("guid", 1, None)
def guid(inv: Invocation, args: Sequence[Any]) -> Any:
    return arm_guid(*_all_strings("guid", args))


@fn("join", 2, 2)
def join(inv: Invocation, args: Sequence[Any]) -> Any:
    items = want_list("join", args, 0)
    delimiter = want_str("join", args, 1)
    return delimiter.join(to_display(v) for v in items)


_PAD_SYNTAX = "The syntax is padLeft(string, totalWidth [, paddingChar])."


def _pad_arity(got: int) -> ExpressionError:
    # Real: "Unable to evaluate template language function 'padLeft': function requires minimum two and maximum
    # three arguments while '4' was provided. The syntax is padLeft(string, totalWidth [, paddingChar])."
    return ExpressionError(
        "Unable to evaluate template language function 'padLeft': function requires minimum two and maximum three "
        f"arguments while '{got}' was provided. {_PAD_SYNTAX} {see('https://aka.ms/arm-functions#padleft')}"
    )


def _pad_error(which: str, detail: str) -> ExpressionError:
    return ExpressionError(
        f"Unable to evaluate template language function 'padLeft': the {which} parameter is invalid. {detail} "
        f"{_PAD_SYNTAX} {see('https://aka.ms/arm-functions#padleft')}"
    )


@fn("padLeft", 2, 3, arity_error=_pad_arity)
def pad_left(inv: Invocation, args: Sequence[Any]) -> Any:
    value, width = args[0], args[1]
    if type(value) is int:
        value = str(value)
    if type(value) is not str:
        # Real: "... the first parameter is invalid. The source string must be a String or integer type, while
        # 'Array' was provided."
        raise _pad_error(
            "first",
            f"The source string must be a String or integer type, while '{type_name(value)}' was provided.",
        )
    # Real: "... the second parameter is invalid. Total width must be a positive integer value and not greater than
    # '16', while '200' was provided." (New-AzResourceGroupDeployment, 2020)
    if type(width) is not int or width < 0 or width > 16:
        raise _pad_error(
            "second",
            f"Total width must be a positive integer value and not greater than '16', while '{to_display(width)}' was provided.",
        )
    pad = " "
    if len(args) == 3:
        pad = args[2]
        if type(pad) is not str:
            raise _pad_error(
                "third",
                f"The padding character must be a string type, while '{type_name(pad)}' was provided.",
            )
        if len(pad) != 1:
            raise _pad_error(
                "third", f"The padding character must be a single character, while '{pad}' was provided."
            )
    return value.rjust(width, pad)


@fn("replace", 3, 3, arity_error=_exactly("replace", 3))
def replace(inv: Invocation, args: Sequence[Any]) -> Any:
    s, old, new = (want_str("replace", args, i) for i in range(3))
    if not old:
        # .NET: String.Replace refuses an empty oldValue (azemu wording around .NET's text)
        raise ExpressionError(
            "Unable to evaluate template language function 'replace': String cannot be of zero length. "
            f"(Parameter 'oldValue') {see()}"
        )
    return s.replace(old, new)


@fn("split", 2, 2, arity_error=_exactly("split", 2))
def split(inv: Invocation, args: Sequence[Any]) -> Any:
    s = want_str("split", args, 0)
    delim = args[1]
    if type(delim) is str:
        delims = [delim]
    elif type(delim) is list and all(type(d) is str for d in delim):
        delims = list(delim)
    else:
        # Real: "The template language function 'split' expects its second parameter to be of type 'String or Array
        # of Strings'. The provided value is of type 'Integer'."
        raise bad_arg("split", 1, "String or Array of Strings", delim)
    delims = [d for d in delims if d]
    if not delims:
        return [s]
    out: list[str] = []
    start = i = 0
    while i < len(s):
        for d in delims:
            if s.startswith(d, i):
                out.append(s[start:i])
                i += len(d)
                start = i
                break
        else:
            i += 1
    out.append(s[start:])
    return out


@fn("string", 1, 1)
def string(inv: Invocation, args: Sequence[Any]) -> Any:
    return to_display(args[0])


def _substring_error(detail: str) -> ExpressionError:
    # Real prefix (Kingsland.ArmLinter): "Unable to evaluate the template language function 'substring'. "
    return ExpressionError(f"Unable to evaluate the template language function 'substring'. {detail} {see()}")


@fn("substring", 1, 3)
def substring(inv: Invocation, args: Sequence[Any]) -> Any:
    s = "" if args[0] is None else want_str("substring", args, 0)
    start = want_int("substring", args, 1) if len(args) > 1 else 0
    if start < 0:
        raise _substring_error("The index parameter cannot be less than zero.")
    if start > len(s):
        raise _substring_error("The index parameter cannot be larger than the length of the string.")
    if len(args) < 3:
        return s[start:]
    length = want_int("substring", args, 2)
    if length < 0:
        raise _substring_error("The length parameter cannot be less than zero.")
    if start + length > len(s):
        raise _substring_error(
            "The index and length parameters must refer to a location within the string. The index parameter: "
            f"'{start}', the length parameter: '{length}', the length of the string parameter: '{len(s)}'."
        )
    return s[start : start + length]


@fn("toLower", 1, 1, arity_error=_only_one("toLower"))
def to_lower(inv: Invocation, args: Sequence[Any]) -> Any:
    return _string_param("toLower", args[0]).lower()


@fn("toUpper", 1, 1, arity_error=_only_one("toUpper"))
def to_upper(inv: Invocation, args: Sequence[Any]) -> Any:
    return _string_param("toUpper", args[0]).upper()


@fn("trim", 1, 1, arity_error=_exactly("trim", 1))
def trim(inv: Invocation, args: Sequence[Any]) -> Any:
    return want_str("trim", args, 0).strip()


@fn("uri", 2, 2)
def uri(inv: Invocation, args: Sequence[Any]) -> Any:
    base, rel = want_str("uri", args, 0), want_str("uri", args, 1)
    parsed = urllib.parse.urlsplit(base)
    if not parsed.scheme or not parsed.netloc:
        # Real: "The template language function 'uri' expects its first argument to be a uri string. The provided
        # value is 'github.com'. Please see https://aka.ms/arm-function-datauri for usage details."
        raise ExpressionError(
            "The template language function 'uri' expects its first argument to be a uri string. The provided value is "
            f"'{base}'. {see('https://aka.ms/arm-function-datauri')}"
        )
    return urllib.parse.urljoin(base, rel)


@fn("uriComponent", 1, 1)
def uri_component(inv: Invocation, args: Sequence[Any]) -> Any:
    # Uri.EscapeDataString: everything but the RFC 3986 unreserved characters is percent-encoded
    return urllib.parse.quote(want_str("uriComponent", args, 0), safe="")


@fn("uriComponentToString", 1, 1)
def uri_component_to_string(inv: Invocation, args: Sequence[Any]) -> Any:
    return urllib.parse.unquote(want_str("uriComponentToString", args, 0))


SPECS = [
    base64_,
    base64_to_string,
    base64_to_json,
    json_,
    concat,
    data_uri,
    data_uri_to_string,
    starts_with,
    ends_with,
    index_of,
    last_index_of,
    format_,
    unique_string_,
    guid,
    join,
    pad_left,
    replace,
    split,
    string,
    substring,
    to_lower,
    to_upper,
    trim,
    uri,
    uri_component,
    uri_component_to_string,
]

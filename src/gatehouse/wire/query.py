"""The AWS Query protocol (form-encoded parameters in, XML out), generic over botocore shapes.

Implements the wire format botocore's ``QuerySerializer`` writes and its ``QueryParser`` reads (the
"awsQuery" protocol of the Smithy specification):

* **Requests** are flat ``name=value`` pairs. Structure members are addressed by name (``Path``), nested
  members by dotted prefixes (``PermissionsBoundary.Arn``), list elements by ``List.member.N`` (``List.N`` when
  the list is flattened), map entries by ``Map.entry.N.key`` / ``Map.entry.N.value``; an empty list is sent as
  ``List=`` with no elements. Scalars are text: integers, ``true``/``false``, ISO 8601 timestamps and base64
  blobs. Parameters the input shape does not name are ignored, as AWS ignores them.
* **Responses** are ``<{Op}Response xmlns=…><{Op}Result>…</{Op}Result><ResponseMetadata><RequestId>…``; lists
  are ``<member>`` elements, maps ``<entry><key/><value/></entry>``, timestamps ISO 8601 UTC to the second.
* **Errors** are ``<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code/><Message/></Error>
  <RequestId/></ErrorResponse>`` with the error's HTTP status.

Nothing here is written per operation. Each shape is compiled once into a small parse function and a small
render function (closures over precomputed tag strings), cached on the :class:`QueryProtocol` instance, so a
request costs dict lookups and string joins rather than a walk of botocore's shape objects.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from gatehouse.errors import AwsError, ValidationError
from gatehouse.wire.xml import NEEDS_ESCAPE as _NEEDS_ESCAPE
from gatehouse.wire.xml import escape_attribute, escape_text

_ABSENT: Any = object()
_Node = dict  # a parameter tree node: {None: own value, child name: child node}
_Parser = Callable[[_Node], Any]
_Writer = Callable[[Any, list[str]], None]
_Scalar = Callable[[Any], str]

_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT_RANGES = {"byte": (-(2**7), 2**7 - 1), "short": (-(2**15), 2**15 - 1), "integer": (-(2**31), 2**31 - 1),
               "long": (-(2**63), 2**63 - 1)}
_MAX_INT_TEXT = 64  # longer than any value in _INT_RANGES, even zero-padded the way a client might send it


class _BadValue(Exception):
    """A parameter that cannot be read as its shape's type; ``path`` is filled in bottom-up as it propagates."""

    def __init__(self, value: str, expected: str) -> None:
        super().__init__(value)
        self.value = value
        self.expected = expected
        self.path: list[str] = []


def member_path_name(name: str) -> str:
    """A member name as AWS writes it in validation messages: first letter lower-cased (``UserName`` → ``userName``)."""
    return name[:1].lower() + name[1:]


class QueryProtocol:
    """Parses Query requests into boto3-shaped input dicts and renders results and errors as Query XML.

    Compiled parsers and renderers are cached per operation on this instance (one per application).
    """

    def __init__(self, *, timestamp_cache_size: int = 8192) -> None:
        self._parsers: dict[OperationModel, _Parser] = {}
        self._renderers: dict[OperationModel, Callable[[Mapping[str, Any], str, str | None], bytes]] = {}
        self._lock = threading.Lock()
        self._scalars = {**_SCALAR_WRITERS, "timestamp": _cached_timestamp_writer(timestamp_cache_size)}

    # --- requests -------------------------------------------------------------------------------------------

    def parse_params(self, operation_model: OperationModel, params: Mapping[str, str]) -> dict[str, Any]:
        """The typed input dict boto3 would have been called with, from the request's decoded form/query params.

        Raises ``ValidationError`` when a value cannot be read as its member's type (a non-numeric integer,
        a boolean other than true/false, an unparseable timestamp, invalid base64).
        """
        parser = self._parsers.get(operation_model)
        if parser is None:
            with self._lock:
                parser = self._parsers.get(operation_model) or _compile_input(operation_model)
                self._parsers[operation_model] = parser
        try:
            parsed: dict[str, Any] = parser(_param_tree(params))
            return parsed
        except _BadValue as bad:
            path = ".".join(reversed(bad.path))
            raise ValidationError(
                f"1 validation error detected: Value '{bad.value}' at '{path}' failed to satisfy constraint: "
                f"Member must be {bad.expected}"
            ) from None

    # --- responses ------------------------------------------------------------------------------------------

    def serialize_result(
        self, operation_model: OperationModel, result: Mapping[str, Any] | None, request_id: str, namespace: str | None
    ) -> bytes:
        """The XML body of a successful response. Keys the output shape does not name, and None values, are left out."""
        render = self._renderers.get(operation_model)
        if render is None:
            with self._lock:
                render = self._renderers.get(operation_model) or _compile_output(operation_model, self._scalars)
                self._renderers[operation_model] = render
        return render(result or {}, request_id, namespace)

    def serialize_error(self, error: AwsError, request_id: str, namespace: str | None = None) -> tuple[int, bytes]:
        return serialize_error(error, request_id, namespace)


def serialize_error(error: AwsError, request_id: str, namespace: str | None = None) -> tuple[int, bytes]:
    """(HTTP status, XML body) of an error response as IAM and STS write it."""
    xmlns = f' xmlns="{escape_attribute(namespace)}"' if namespace else ""
    kind = "Sender" if error.sender_fault else "Receiver"
    message = f"<Message>{escape_text(error.message)}</Message>" if error.message else ""
    message += "".join(f"<{name}>{escape_text(value)}</{name}>" for name, value in error.details.items())
    body = (
        f"<ErrorResponse{xmlns}><Error><Type>{kind}</Type><Code>{escape_text(error.code)}</Code>{message}</Error>"
        f"<RequestId>{escape_text(request_id)}</RequestId></ErrorResponse>"
    )
    return error.http_status, body.encode("utf-8", "replace")


# --- request parsing ----------------------------------------------------------------------------------------


def _param_tree(params: Mapping[str, str]) -> _Node:
    """``{"Tags.member.1.Key": "k"}`` → ``{"Tags": {"member": {"1": {"Key": {None: "k"}}}}}``."""
    root: _Node = {}
    for key, value in params.items():
        node = root
        for part in key.split("."):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[None] = value
    return root


def _compile_input(operation_model: OperationModel) -> _Parser:
    shape = operation_model.input_shape
    if shape is None:
        return lambda tree: {}
    parse_struct = _compile_parser(shape, {})

    def parse_input(tree: _Node) -> dict[str, Any]:
        value = parse_struct(tree)
        return {} if value is _ABSENT else value

    return parse_input


def _wire_name(shape: Shape, default: str) -> str:
    name: str = shape.serialization.get("name", default)
    return name


def _compile_parser(shape: Shape, memo: dict[str, _Parser]) -> _Parser:
    if shape.type_name == "structure" and shape.name in memo:
        return memo[shape.name]
    kind = shape.type_name
    if kind == "structure":
        return _struct_parser(shape, memo)
    if kind == "list":
        return _list_parser(shape, memo)
    if kind == "map":
        return _map_parser(shape, memo)
    convert = _SCALAR_READERS.get(kind, _read_string)
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]

        def parse_int(node: _Node) -> Any:
            text = node.get(None)
            if text is None:
                return _ABSENT
            # Length first: int() of thousands of digits is slow, and refused past Python's digit limit.
            if (len(text) > _MAX_INT_TEXT or _INT_RE.fullmatch(text) is None
                    or not low <= (number := int(text)) <= high):
                raise _BadValue(text, "an integer")
            return number

        return parse_int

    def parse_scalar(node: _Node) -> Any:
        text = node.get(None)
        return _ABSENT if text is None else convert(text)

    return parse_scalar


def _struct_parser(shape: Shape, memo: dict[str, _Parser]) -> _Parser:
    members: list[tuple[str, str, str, _Parser]] = []

    def parse_struct(node: _Node) -> Any:
        out: dict[str, Any] = {}
        for name, wire, path_name, parse in members:
            child = node.get(wire)
            if child is not None:
                try:
                    value = parse(child)
                except _BadValue as bad:
                    bad.path.append(path_name)
                    raise
                if value is not _ABSENT:
                    out[name] = value
        return out or _ABSENT

    memo[shape.name] = parse_struct  # before the members, so recursive shapes find it
    for name, member in shape.members.items():
        members.append((name, _query_member_name(member, name), member_path_name(name), _compile_parser(member, memo)))
    return parse_struct


def _query_member_name(member: Shape, name: str) -> str:
    """The parameter name of a structure member; a flattened list with a named member is keyed by that name."""
    if member.type_name == "list" and member.serialization.get("flattened") and "name" in member.member.serialization:
        wire: str = member.member.serialization["name"]
        return wire
    return _wire_name(member, name)


def _indexed(container: _Node) -> list[tuple[str, _Node]]:
    """The numbered children of a list or map node, in numeric order of their (decimal) index.

    Ordered by (length without leading zeros, digits) rather than by ``int()``: an index is client text of any
    length, and converting thousands of digits is both slow and refused by Python (``ValueError`` past
    ``sys.get_int_max_str_digits()``), which would turn a malformed request into an internal error.
    """
    numbered = [(k.lstrip("0") or "0", child) for k, child in container.items()
                if k is not None and k.isascii() and k.isdigit()]
    numbered.sort(key=lambda item: (len(item[0]), item[0]))
    return numbered


def _list_parser(shape: Shape, memo: dict[str, _Parser]) -> _Parser:
    parse_item = _compile_parser(shape.member, memo)
    flattened = bool(shape.serialization.get("flattened"))
    item_key = _wire_name(shape.member, "member")

    def parse_list(node: _Node) -> Any:
        container = node if flattened else node.get(item_key)
        if container is None:
            return [] if node.get(None) == "" else _ABSENT
        items = []
        for index, child in _indexed(container):
            try:
                value = parse_item(child)
            except _BadValue as bad:
                bad.path.append(f"{index}.member")
                raise
            if value is not _ABSENT:
                items.append(value)
        return items

    return parse_list


def _map_parser(shape: Shape, memo: dict[str, _Parser]) -> _Parser:
    parse_key = _compile_parser(shape.key, memo)
    parse_value = _compile_parser(shape.value, memo)
    flattened = bool(shape.serialization.get("flattened"))
    key_name = _wire_name(shape.key, "key")
    value_name = _wire_name(shape.value, "value")

    def parse_map(node: _Node) -> Any:
        container = node if flattened else node.get("entry")
        if container is None:
            return {} if node.get(None) == "" else _ABSENT
        out: dict[Any, Any] = {}
        for index, entry in _indexed(container):
            key_node, value_node = entry.get(key_name), entry.get(value_name)
            if key_node is None:
                continue
            try:
                key = parse_key(key_node)
                value = parse_value(value_node) if value_node is not None else _ABSENT
            except _BadValue as bad:
                bad.path.append(f"{index}.member")
                raise
            if key is not _ABSENT:
                out[key] = None if value is _ABSENT else value
        return out

    return parse_map


def _read_string(text: str) -> str:
    return text


def _read_boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise _BadValue(text, "a boolean")


def _read_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _BadValue(text, "a number") from None


def _read_blob(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _BadValue(text, "base64-encoded binary data") from None


def _read_timestamp(text: str) -> datetime:
    """ISO 8601 (what botocore sends for Query) or epoch seconds; a time without a zone is UTC."""
    try:
        if _INT_RE.fullmatch(text) or text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise _BadValue(text, "a timestamp") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_SCALAR_READERS: dict[str, Callable[[str], Any]] = {
    "string": _read_string,
    "character": _read_string,
    "boolean": _read_boolean,
    "float": _read_float,
    "double": _read_float,
    "blob": _read_blob,
    "timestamp": _read_timestamp,
}


# --- response rendering -------------------------------------------------------------------------------------


def _compile_output(
    operation_model: OperationModel, scalars: Mapping[str, _Scalar]
) -> Callable[[Mapping[str, Any], str, str | None], bytes]:
    name = operation_model.name
    shape = operation_model.output_shape
    head = f"<{name}Response"
    tail = f"</{name}Response>"
    if shape is None:
        open_result = close_result = ""
        write_members: _Writer | None = None
    else:
        write_members = _WriterCompiler(scalars).struct_body(shape)
        wrapper = shape.serialization.get("resultWrapper")
        open_result, close_result = (f"<{wrapper}>", f"</{wrapper}>") if wrapper else ("", "")

    def render(result: Mapping[str, Any], request_id: str, namespace: str | None) -> bytes:
        out = [head, f' xmlns="{escape_attribute(namespace)}">' if namespace else ">", open_result]
        if write_members is not None:
            write_members(result, out)
        out.append(close_result)
        out.append(f"<ResponseMetadata><RequestId>{escape_text(request_id)}</RequestId></ResponseMetadata>")
        out.append(tail)
        return "".join(out).encode("utf-8", "replace")

    return render


class _WriterCompiler:
    """Compiles output shapes into writers: ``writer(value, out)`` appends the value's XML text to ``out``.

    Structures are generated as straight-line Python, one ``get`` and one ``append`` per member, with lists of
    structures and strings unrolled into a loop in place, because a loop over member descriptors and a call per
    element cost several times more: rendering is the hot path of every list operation. Only ``repr()`` literals
    of tag and member names (from the service model) enter the generated source; values never do.
    """

    def __init__(self, scalars: Mapping[str, _Scalar]) -> None:
        self._scalars = scalars
        self._memo: dict[str, _Writer] = {}

    def struct_body(self, shape: Shape) -> _Writer:
        """A writer of a structure's members, without the structure's own tags."""
        if shape.name in self._memo:
            return self._memo[shape.name]
        namespace: dict[str, Any] = {"_search": _NEEDS_ESCAPE, "_string": _write_string}

        def forward(value: Mapping[str, Any], out: list[str]) -> None:  # reached only through recursive shapes
            namespace["write_struct"](value, out)

        self._memo[shape.name] = forward
        lines = ["def write_struct(value, out):", "    get = value.get", "    append = out.append"]
        if shape.metadata.get("union"):
            # A tagged union carries exactly one member; anything else is our bug, and SDKs refuse such a response
            # ("must have one and only one member set"): fail here, as an internal error, not on the client.
            namespace["_union_error"] = _UnionError
            names = tuple(shape.members)
            lines += [f"    if sum(1 for n in {names!r} if get(n) is not None) != 1:",
                      f"        raise _union_error({shape.name!r})"]
        for index, (name, member) in enumerate(shape.members.items()):
            lines += [f"    x = get({name!r})", "    if x is not None:"]
            lines += self._member_lines(member, name, f"w{index}", namespace)
        exec(compile("\n".join(lines), f"<query writer {shape.name}>", "exec"), namespace)
        writer: _Writer = namespace["write_struct"]
        self._memo[shape.name] = writer
        return writer

    def _member_lines(self, member: Shape, name: str, ref: str, namespace: dict[str, Any]) -> list[str]:
        kind = member.type_name
        if kind == "list":
            flattened = bool(member.serialization.get("flattened"))
            element = member.member.serialization.get("name", _wire_name(member, name) if flattened else "member")
            wrapper = None if flattened else _wire_name(member, name)
            item_lines = self._value_lines(member.member, element, "y", ref, namespace, indent=12)
            if item_lines is None:
                namespace[ref] = self._list(member, element, wrapper)
                return [f"        {ref}(x, out)"]
            lines = [f"        append({f'<{wrapper}>'!r})"] if wrapper else []
            lines += ["        for y in x:", "          if y is not None:", *item_lines]
            return lines + ([f"        append({f'</{wrapper}>'!r})"] if wrapper else [])
        scalar_lines = self._value_lines(member, _wire_name(member, name), "x", ref, namespace, indent=8)
        if scalar_lines is None:
            namespace[ref] = self.element(member, _wire_name(member, name))
            return [f"        {ref}(x, out)"]
        return scalar_lines

    def _value_lines(
        self, shape: Shape, tag: str, var: str, ref: str, namespace: dict[str, Any], *, indent: int
    ) -> list[str] | None:
        """Inline source writing ``<tag>var</tag>`` for a scalar or structure value, or None for other shapes."""
        pad = " " * indent
        open_tag, close_tag = f"<{tag}>", f"</{tag}>"
        kind = shape.type_name
        if kind in ("string", "character"):
            text = f"({var} if type({var}) is str and _search({var}) is None else _string({var}))"
            return [f"{pad}append({open_tag!r} + {text} + {close_tag!r})"]
        if kind in self._scalars:
            namespace[ref] = self._scalars[kind]
            return [f"{pad}append({open_tag!r} + {ref}({var}) + {close_tag!r})"]
        if kind == "structure":
            namespace[ref] = self.struct_body(shape)
            return [f"{pad}append({open_tag!r})", f"{pad}{ref}({var}, out)", f"{pad}append({close_tag!r})"]
        return None

    def element(self, shape: Shape, tag: str) -> _Writer:
        """A writer of one ``<tag>…</tag>`` element holding a value of ``shape`` (any type)."""
        open_tag, close_tag = f"<{tag}>", f"</{tag}>"
        scalar = self._scalars.get(shape.type_name)
        if scalar is not None:
            return lambda value, out: out.append(open_tag + scalar(value) + close_tag)
        if shape.type_name == "structure":
            body = self.struct_body(shape)

            def write_element(value: Any, out: list[str]) -> None:
                out.append(open_tag)
                body(value, out)
                out.append(close_tag)

            return write_element
        if shape.type_name == "list":
            return self._list(shape, _wire_name(shape.member, "member"), tag)
        if shape.type_name == "map":
            return self._map(shape, tag)
        raise TypeError(f"cannot render shape type {shape.type_name!r}")

    def _list(self, shape: Shape, element: str, wrapper: str | None) -> _Writer:
        write_item = self.element(shape.member, element)
        open_wrap, close_wrap = (f"<{wrapper}>", f"</{wrapper}>") if wrapper else ("", "")

        def write_list(value: Any, out: list[str]) -> None:
            out.append(open_wrap)
            for item in value:
                if item is not None:
                    write_item(item, out)
            out.append(close_wrap)

        return write_list

    def _map(self, shape: Shape, tag: str) -> _Writer:
        write_key = self.element(shape.key, _wire_name(shape.key, "key"))
        write_value = self.element(shape.value, _wire_name(shape.value, "value"))
        flattened = bool(shape.serialization.get("flattened"))
        open_wrap, close_wrap = ("", "") if flattened else (f"<{tag}>", f"</{tag}>")
        open_entry, close_entry = (f"<{tag}>", f"</{tag}>") if flattened else ("<entry>", "</entry>")

        def write_map(value: Mapping[Any, Any], out: list[str]) -> None:
            out.append(open_wrap)
            for key, item in value.items():
                out.append(open_entry)
                write_key(key, out)
                if item is not None:
                    write_value(item, out)
                out.append(close_entry)
            out.append(close_wrap)

        return write_map


class _UnionError(ValueError):
    def __init__(self, shape: str) -> None:
        super().__init__(f"a {shape} union must have exactly one member set")


def _write_string(value: Any) -> str:
    return escape_text(value if type(value) is str else str(value))


def _write_boolean(value: Any) -> str:
    return "true" if value else "false"


def _write_integer(value: Any) -> str:
    return str(int(value))


def _write_float(value: Any) -> str:
    return repr(float(value))


def _write_blob(value: Any) -> str:
    return base64.b64encode(value.encode("utf-8") if isinstance(value, str) else bytes(value)).decode("ascii")


def _write_timestamp(value: Any) -> str:
    """ISO 8601 in UTC to the second, as IAM and STS write it (``2026-11-29T05:16:05Z``); naive means UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset():
            value = value.astimezone(UTC)
        return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031 - %-formatting is the fastest here
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
        )
    if isinstance(value, int | float):
        return _write_timestamp(datetime.fromtimestamp(value, UTC))
    return escape_text(str(value))


def _cached_timestamp_writer(size: int) -> _Scalar:
    """``_write_timestamp`` behind a bounded memo: formatting costs about a microsecond, a hit a tenth of that,
    and the same creation dates are rendered again and again by list operations."""
    if size <= 0:
        return _write_timestamp
    cache: dict[Any, str] = {}

    def write_timestamp(value: Any) -> str:
        text = cache.get(value)
        if text is None:
            text = _write_timestamp(value)
            if len(cache) >= size:
                cache.clear()
            cache[value] = text
        return text

    return write_timestamp


_SCALAR_WRITERS: dict[str, _Scalar] = {
    "string": _write_string,
    "character": _write_string,
    "boolean": _write_boolean,
    "byte": _write_integer,
    "short": _write_integer,
    "integer": _write_integer,
    "long": _write_integer,
    "float": _write_float,
    "double": _write_float,
    "blob": _write_blob,
    "timestamp": _write_timestamp,
}

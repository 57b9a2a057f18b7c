"""What crosses between the program's process and the judge: framed JSON holding plain data only.

Frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. A
reader refuses a frame longer than its limit before reading it.

Plain data: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``,
``bytes``, and ``list``, ``tuple``, ``set``, ``frozenset`` and ``dict`` of
plain data, nested at most ``MAX_DEPTH`` deep. Exact types only: a subclass
(an ``int`` whose ``__eq__`` lies, a ``str`` subclass) is not plain data.
``encode`` turns plain data into JSON values, with the types JSON lacks
tagged (``{"tuple": [...]}``, ``{"float": "nan"}``, ...); ``decode`` builds
fresh built-in objects back from them and refuses anything else. So what a
program returns reaches the judge and the host as values the receiving
process built itself: no object of the program's making, whose methods it
wrote, ever crosses.

Every failure is a ``PlainDataError`` (a ``ValueError``): a type that is not
plain, nesting past the limit, a malformed tag, an unhashable set element
or dict key, a frame too long or cut short.

Standard library only: the same file runs in the sandbox image and on the host.
"""

import base64
import json
import math
import os
import struct

MAX_DEPTH = 100
"""Deepest nesting of containers that crosses (a list in a list is depth 2)."""

HEADER = struct.Struct(">I")

_SCALARS = (type(None), bool, int, float, str)
_TAGS = ("tuple", "set", "frozenset", "dict", "bytes", "complex", "float")
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class PlainDataError(ValueError):
    """A value or a message that is not plain data, or a frame that is not whole."""


def encode(value, depth=0):
    """``value`` as JSON values (lists, dicts with one tag key, scalars); ``PlainDataError`` if not plain data."""
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return value
        return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if kind in _SCALARS:
        return value
    if depth >= MAX_DEPTH:
        raise PlainDataError(f"the value is nested deeper than {MAX_DEPTH}")
    if kind is list:
        return [encode(item, depth + 1) for item in value]
    if kind is tuple:
        return {"tuple": [encode(item, depth + 1) for item in value]}
    if kind is set or kind is frozenset:
        return {kind.__name__: [encode(item, depth + 1) for item in value]}
    if kind is dict:
        return {"dict": [[encode(key, depth + 1), encode(item, depth + 1)] for key, item in value.items()]}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode("ascii")}
    if kind is complex:
        return {"complex": [encode(value.real, depth + 1), encode(value.imag, depth + 1)]}
    raise PlainDataError(f"a {_type_name(value)} is not plain data (only built-in values cross)")


def decode(data, depth=0):
    """The value that ``encode`` gave ``data`` for, built afresh; ``PlainDataError`` for anything else."""
    kind = type(data)
    if kind in _SCALARS:
        return data
    if depth >= MAX_DEPTH:
        raise PlainDataError(f"the value is nested deeper than {MAX_DEPTH}")
    if kind is list:
        return [decode(item, depth + 1) for item in data]
    if kind is not dict or len(data) != 1:
        raise PlainDataError("malformed plain data")
    ((tag, body),) = data.items()
    try:
        if tag == "float" and type(body) is str and body in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[body]
        if tag == "bytes" and type(body) is str:
            return base64.b64decode(body.encode("ascii"), validate=True)
        if type(body) is not list:
            raise PlainDataError(f"malformed {tag!r} value")
        if tag == "tuple":
            return tuple(decode(item, depth + 1) for item in body)
        if tag == "set":
            return {decode(item, depth + 1) for item in body}
        if tag == "frozenset":
            return frozenset(decode(item, depth + 1) for item in body)
        if tag == "dict":
            return dict(_pair(item, depth) for item in body)
        if tag == "complex" and len(body) == 2:
            real, imag = (decode(part, depth + 1) for part in body)
            if type(real) is not float or type(imag) is not float:
                raise PlainDataError("malformed complex value")
            return complex(real, imag)
    except (TypeError, ValueError, UnicodeError) as error:  # unhashable elements, bad base64, ...
        if isinstance(error, PlainDataError):
            raise
        raise PlainDataError(f"malformed {tag!r} value: {_type_name(error)}") from None
    raise PlainDataError(f"unknown tag {tag!r}" if tag not in _TAGS else f"malformed {tag!r} value")


def _pair(item, depth):
    if type(item) is not list or len(item) != 2:
        raise PlainDataError("malformed 'dict' value")
    return decode(item[0], depth + 1), decode(item[1], depth + 1)


def dumps(value):
    """``value`` as compact JSON text of its encoding; ``PlainDataError`` if it is not plain data."""
    try:
        return json.dumps(encode(value), separators=(",", ":"), allow_nan=False)
    except (ValueError, RecursionError, MemoryError) as error:  # ints past Python's digit limit, ...
        if isinstance(error, PlainDataError):
            raise
        raise PlainDataError(f"the value cannot be written: {_type_name(error)}") from None


def loads(text, limit=1 << 24):
    """The value ``dumps`` wrote as ``text`` (str or bytes, at most ``limit`` long); ``PlainDataError`` otherwise."""
    if len(text) > limit:
        raise PlainDataError(f"the value's text is longer than {limit} bytes")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError, MemoryError, TypeError) as error:
        raise PlainDataError(f"malformed plain data ({_type_name(error)})") from None
    return decode(data)


def send(fd, message):
    """Write ``message`` (JSON-ready) as one frame; ``OSError`` if the reader is gone."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8", "surrogatepass")
    data = HEADER.pack(len(body)) + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive(fd, limit, reader=None):
    """One frame's JSON from ``fd``; None at end of stream; ``PlainDataError`` for a frame over ``limit`` bytes,
    cut short or not JSON. A ``Reader`` for ``fd`` saves a read per frame."""
    reader = reader or Reader(fd)
    header = reader.take(HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise PlainDataError(f"a message of {size} bytes, over the limit of {limit}")
    body = reader.take(size)
    if body is None:
        raise PlainDataError("the message was cut short")
    try:
        return json.loads(body.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError, MemoryError) as error:
        raise PlainDataError(f"a message that is not JSON ({_type_name(error)})") from None


class Reader:
    """Buffered reads from a descriptor: a frame's header and body usually arrive in one read."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = bytearray()

    def take(self, size):
        """Exactly ``size`` bytes; None at end of stream before any; ``PlainDataError`` if it ends midway."""
        while len(self.buffer) < size:
            chunk = os.read(self.fd, max(size - len(self.buffer), 1 << 16))
            if not chunk:
                if not self.buffer:
                    return None
                raise PlainDataError("the message was cut short")
            self.buffer += chunk
        taken = bytes(self.buffer[:size])
        del self.buffer[:size]
        return taken


def _type_name(value):
    """The name of ``value``'s type, read without calling anything the value's class may define."""
    return type.__getattribute__(type(value), "__name__")

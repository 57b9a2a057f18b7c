"""sandbox/container/wire.py: plain data crosses whole and typed; anything else is a PlainDataError, never a crash."""

import json
import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.sandbox.container import wire

SCALARS = st.none() | st.booleans() | st.integers() | st.text() | st.binary()
HASHABLE = st.recursive(  # no nan in sets and keys: nan != nan, so no set holding one compares equal to a copy
    SCALARS | st.floats(allow_nan=False) | st.complex_numbers(allow_nan=False),
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=8,
)
PLAIN = st.recursive(
    HASHABLE | st.floats() | st.complex_numbers(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.sets(HASHABLE, max_size=3)
        | st.dictionaries(HASHABLE, inner, max_size=3)
    ),
    max_leaves=20,
)


def same(a, b) -> bool:
    """Equal with the same types all the way down (nan equal to nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return len(a) == len(b) and all(any(same(k, j) and same(a[k], b[j]) for j in b) for k in a)
    return a == b


@given(PLAIN)
def test_plain_data_crosses_whole_with_its_types(value):
    assert same(wire.loads(wire.dumps(value)), value)


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_any_text_decodes_to_plain_data_or_a_plain_data_error(text):
    try:
        value = wire.loads(text)
    except wire.PlainDataError:
        return
    assert same(wire.loads(wire.dumps(value)), value)  # whatever came back is plain data itself


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
)


@given(JSON)
def test_any_json_value_decodes_to_plain_data_or_is_refused_cleanly(data):
    try:
        value = wire.decode(data)
    except wire.PlainDataError:
        return
    assert same(wire.loads(wire.dumps(value)), value)


class Lying(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize(
    "value",
    [
        Lying(3),
        type("S", (str,), {})("x"),
        object(),
        [1, object()],
        {1: [object()]},
        range(3),
        bytearray(b"x"),
        (x for x in []),
    ],
    ids=["int-subclass", "str-subclass", "object", "nested-object", "dict-value", "range", "bytearray", "generator"],
)
def test_values_that_are_not_plain_data_are_refused(value):
    with pytest.raises(wire.PlainDataError, match="not plain data"):
        wire.dumps(value)


def test_depth_beyond_the_limit_is_refused_both_ways():
    deep: list = []
    inner = deep
    for _ in range(wire.MAX_DEPTH + 5):
        inner.append([])
        inner = inner[0]
    with pytest.raises(wire.PlainDataError, match="deeper"):
        wire.dumps(deep)
    text = "[" * (wire.MAX_DEPTH + 5) + "]" * (wire.MAX_DEPTH + 5)
    with pytest.raises(wire.PlainDataError, match="deeper"):
        wire.loads(text)
    with pytest.raises(wire.PlainDataError):
        wire.loads("[" * 100_000 + "]" * 100_000)  # past the JSON parser's own recursion limit


def test_cycles_huge_ints_and_long_texts_are_refused_not_crashed():
    cycle: list = [1]
    cycle.append(cycle)
    with pytest.raises(wire.PlainDataError):
        wire.dumps(cycle)
    with pytest.raises(wire.PlainDataError):
        wire.dumps(10**5000)
    with pytest.raises(wire.PlainDataError, match="longer than"):
        wire.loads("1" * 100, limit=10)


@pytest.mark.parametrize(
    "data",
    [{"tuple": 1}, {"set": [[1]]}, {"dict": [[1]]}, {"bytes": "@@"}, {"complex": [1]}, {"float": "1.0"}, {"x": []}, {}],
    ids=["tuple-body", "unhashable", "dict-pair", "base64", "complex", "float-tag", "unknown-tag", "empty"],
)
def test_malformed_tags_are_refused(data):
    with pytest.raises(wire.PlainDataError):
        wire.loads(json.dumps(data))


def test_frames_arrive_in_order_and_the_reader_never_reads_into_the_next():
    read_end, write_end = os.pipe()
    messages = [{"id": 1, "value": [1, 2]}, {"id": 2}, {"text": "é\ud800"}]
    for message in messages:
        wire.send(write_end, message)
    os.close(write_end)
    reader = wire.Reader(read_end)
    received = [wire.receive(read_end, 1 << 10, reader) for _ in range(4)]
    os.close(read_end)
    assert received == [*messages, None]


@pytest.mark.parametrize(
    "raw",
    [b"\x7f\xff\xff\xff", b"\x00\x00\x00\x09{", b"\x00\x00\x00\x03abc", b"\x00\x00"],
    ids=["over-limit", "cut-short", "not-json", "half-header"],
)
def test_bad_frames_are_plain_data_errors(raw):
    read_end, write_end = os.pipe()
    os.write(write_end, raw)
    os.close(write_end)
    with pytest.raises(wire.PlainDataError):
        wire.receive(read_end, 1 << 10)
    os.close(read_end)

"""RouterOS API ``print`` queries, evaluated on a stack of booleans as the API manual describes.

Each query word is evaluated for an item, left to right:

- ``?name`` pushes whether the item has the property; ``?-name`` whether it lacks it;
- ``?name=x`` (or ``?=name=x``) pushes whether the property equals ``x``;
- ``?<name=x`` / ``?>name=x`` whether it is less / greater than ``x`` (numerically when both sides
  are integers, else as text; an absent property is neither);
- ``?#ops`` applies operations to the stack: ``!`` negates the top, ``&`` and ``|`` pop two values
  and push their conjunction / disjunction, ``.`` pushes a copy of the top; a decimal index
  followed by another character pushes a copy of the value at that depth (top is 0; a ``.`` right
  after an index does nothing more), and an index that ends the word replaces the whole stack
  with that value.

The stack starts as an endless supply of ``true`` values (so popping an empty stack yields true);
an item matches when no ``false`` is left on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Predicate", "QueryError", "compile_query", "plain_equalities"]

Predicate = Callable[[Mapping[str, str]], bool]
Normalizer = Callable[[str, str], str]
_Test = Callable[[Mapping[str, str]], bool]
_DIGITS = "0123456789"


class QueryError(ValueError):
    """A query word the API would not accept."""


@dataclass(frozen=True)
class _StackOp:
    """One operation of a ``?#`` word: ``copy``, ``replace``, ``!``, ``&``, ``|`` or ``.``."""

    code: str
    index: int = 0


def _identity(prop: str, value: str) -> str:
    return value


def _as_number(value: str) -> int | None:
    # RouterOS compares numeric properties as numbers; only plain decimals are treated as such.
    if value and (value.isdigit() or (value[0] == "-" and value[1:].isdigit())):
        return int(value)
    return None


def _compare(left: str, right: str) -> int:
    left_number, right_number = _as_number(left), _as_number(right)
    if left_number is not None and right_number is not None:
        return (left_number > right_number) - (left_number < right_number)
    return (left > right) - (left < right)


def _equals(prop: str, expected: str) -> _Test:
    def test(item: Mapping[str, str]) -> bool:
        return item.get(prop) == expected

    return test


def _has(prop: str) -> _Test:
    return lambda item: prop in item


def _lacks(prop: str) -> _Test:
    return lambda item: prop not in item


def _ordered(prop: str, bound: str, sign: int) -> _Test:
    def test(item: Mapping[str, str]) -> bool:
        value = item.get(prop)
        return value is not None and _compare(value, bound) == sign

    return test


def _split_property(body: str, word: str) -> tuple[str, str]:
    prop, separator, value = body.partition("=")
    if not prop or not separator:
        raise QueryError(f"malformed query word {word!r}")
    return prop, value


def _compile_stack_ops(ops: str, word: str) -> tuple[_StackOp, ...]:
    compiled: list[_StackOp] = []
    position = 0
    while position < len(ops):
        char = ops[position]
        if char in _DIGITS:
            end = position
            while end < len(ops) and ops[end] in _DIGITS:
                end += 1
            index = int(ops[position:end])
            if end == len(ops):
                compiled.append(_StackOp("replace", index))
            else:
                compiled.append(_StackOp("copy", index))
                if ops[end] == ".":
                    end += 1
            position = end
            continue
        if char not in "!&|.":
            raise QueryError(f"unknown operation {char!r} in query word {word!r}")
        compiled.append(_StackOp(char))
        position += 1
    return tuple(compiled)


def _compile_word(word: str, normalize: Normalizer) -> _Test | tuple[_StackOp, ...]:
    if not word.startswith("?") or len(word) < 2:
        raise QueryError(f"malformed query word {word!r}")
    body = word[1:]
    lead = body[0]
    if lead == "#":
        return _compile_stack_ops(body[1:], word)
    if lead in "<>":
        prop, value = _split_property(body[1:], word)
        return _ordered(prop, value, -1 if lead == "<" else 1)
    if lead == "=":
        prop, value = _split_property(body[1:], word)
        return _equals(prop, normalize(prop, value))
    if lead == "-":
        return _lacks(body[1:])
    if "=" in body:
        prop, value = _split_property(body, word)
        return _equals(prop, normalize(prop, value))
    return _has(body)


def _peek(stack: list[bool], index: int) -> bool:
    return stack[-1 - index] if index < len(stack) else True


def _pop(stack: list[bool]) -> bool:
    return stack.pop() if stack else True


def _apply(stack: list[bool], ops: tuple[_StackOp, ...]) -> None:
    for op in ops:
        if op.code == "copy":
            stack.append(_peek(stack, op.index))
        elif op.code == "replace":
            stack[:] = [_peek(stack, op.index)]
        elif op.code == "!":
            stack.append(not _pop(stack))
        elif op.code == "&":
            right, left = _pop(stack), _pop(stack)
            stack.append(left and right)
        elif op.code == "|":
            right, left = _pop(stack), _pop(stack)
            stack.append(left or right)
        else:  # "."
            stack.append(_peek(stack, 0))


def compile_query(words: Sequence[str], normalize: Normalizer = _identity) -> Predicate:
    """A predicate for ``words`` (each starting with ``?``); raises QueryError on a bad word.

    ``normalize(prop, value)`` turns a compared value into its stored form (e.g. ``yes`` into
    ``true`` for a boolean property) so that ``?disabled=yes`` matches ``disabled=true``.
    """
    steps = [_compile_word(word, normalize) for word in words]
    if not steps:
        return lambda item: True
    if all(callable(step) for step in steps):
        # No stack operations: the query is the conjunction of its tests.
        tests = [step for step in steps if callable(step)]
        return lambda item: all(test(item) for test in tests)

    def predicate(item: Mapping[str, str]) -> bool:
        stack: list[bool] = []
        for step in steps:
            if callable(step):
                stack.append(step(item))
            else:
                _apply(stack, step)
        return all(stack)

    return predicate


def plain_equalities(words: Sequence[str]) -> dict[str, str] | None:
    """The ``prop → value`` pairs when ``words`` are only plain equalities, else None.

    Lets a caller answer such a query from an index; the values are not normalized.
    """
    pairs: dict[str, str] = {}
    for word in words:
        body = word[1:] if word.startswith("?") else ""
        if body.startswith("="):
            body = body[1:]
        if not body or body[0] in "#<>-" or "=" not in body:
            return None
        prop, _, value = body.partition("=")
        if not prop or prop in pairs:
            return None
        pairs[prop] = value
    return pairs

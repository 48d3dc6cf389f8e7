"""The shapes an instruction's arguments take, read the way Docker's parser reads each.

JSON (exec) or shell form; whitespace-separated words; ``parseWords`` words that keep quotes and
escapes for the expander; ``key=value`` pairs with the legacy ``KEY value`` form; one string.
"""

from __future__ import annotations

import json
import re

from dockyard.build.dockerfile import instructions as ins
from dockyard.build.dockerfile.lexer import Node

_JSON_ATTEMPT = re.compile(r"^\[\s*['\"]")


def json_list(rest: str) -> list[str] | None:
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise ValueError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def maybe_json(node: Node) -> tuple[tuple[str, ...], bool]:
    """(command, shell_form).  ``["a", 'b']`` is refused rather than silently run by /bin/sh."""
    rest = node.rest
    value = json_list(rest)
    if value is not None:
        return tuple(value), False
    if _JSON_ATTEMPT.match(rest):
        raise ValueError(f"{node.keyword.upper()}: bad JSON form {rest}; use double quotes: "
                         '["executable", "arg"]')
    return ((rest,) if rest else ()), True


def words(rest: str) -> list[str]:
    return rest.split()


def parse_words(rest: str, escape: str) -> list[str]:
    """Split on blanks outside quotes, keeping quotes and escapes for the expander (Docker's parseWords)."""
    words: list[str] = []
    word, quote, in_word, blank_ok = "", "", False, False
    i = 0
    while i < len(rest):
        ch = rest[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'" and i + 1 < len(rest):
                word += ch
                i += 1
                ch = rest[i]
            word += ch
        elif ch.isspace():
            if in_word and (word or blank_ok):
                words.append(word)
            word, in_word, blank_ok = "", False, False
        else:
            in_word = True
            if ch in "'\"":
                quote, blank_ok = ch, True
            elif ch == escape and i + 1 < len(rest):
                word += ch
                i += 1
                ch = rest[i]
            word += ch
        i += 1
    if in_word and (word or blank_ok):
        words.append(word)
    return words


def name_values(node: Node, escape: str) -> tuple[ins.KeyValue, ...]:
    kw = node.keyword.upper()
    words = parse_words(node.rest, escape)
    if not words:
        raise ValueError(f"{kw} requires at least one argument")
    if "=" not in words[0]:
        parts = node.rest.split(None, 1)
        if len(parts) < 2:
            raise ValueError(f"{kw} must have two arguments")
        return (ins.KeyValue(parts[0], parts[1]),)
    pairs = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq:
            raise ValueError(f"syntax error - can't find = in {w!r}; must be of the form: name=value")
        if not key:
            raise ValueError(f"{kw} names can not be blank")
        pairs.append(ins.KeyValue(key, value))
    return tuple(pairs)


def one(node: Node) -> str:
    if not node.rest:
        raise ValueError(f"{node.keyword.upper()} requires exactly one argument")
    return node.rest

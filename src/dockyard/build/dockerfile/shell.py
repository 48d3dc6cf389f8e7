"""Word processing the way Docker's builder does it: quotes, escapes and ``$VAR`` expansion.

Docker does not hand Dockerfile arguments to a shell; its builder has its own small lexer
(buildkit ``frontend/dockerfile/shell``) that removes quotes, honours the escape character and
expands ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:+alt}``,
``${VAR+alt}``, ``${VAR:?message}``, ``${VAR#prefix}``, ``${VAR%suffix}`` (and ``##``/``%%``).
This module reproduces that lexer so that ``COPY "$SRC" /dst`` or ``ENV PATH=$PATH:/x`` mean the
same here as under ``docker build``.  Which instructions are expanded is decided by the parser,
not here.

Single quotes keep everything literal; inside double quotes only ``$`` expands and only ``"``,
``$`` and the escape character can be escaped.  Words produced by expansion split on whitespace
(for the few callers that want several words), quoted text never does.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field

_SPECIAL_PARAMS = set("*#@$?!-0")


class ExpansionError(ValueError):
    """A malformed ``${…}`` or unbalanced quote; the parser adds the line number."""


@dataclass
class ShellLex:
    escape: str = "\\"
    #: keep quote characters in the output (used to find heredoc words)
    raw_quotes: bool = False
    #: keep escape characters in the output
    raw_escapes: bool = False
    #: quotes are ordinary characters (heredoc bodies)
    skip_quotes: bool = False
    #: leave ``$NAME`` alone when NAME is unset (heredoc names)
    skip_unset: bool = False

    def process_word(self, word: str, env: Mapping[str, str], used: set[str] | None = None) -> str:
        """*word* with quotes removed and variables expanded, as one string."""
        return _Scan(self, word, env, used).run()[0]

    def process_words(self, word: str, env: Mapping[str, str], used: set[str] | None = None) -> list[str]:
        """*word* split into words the way a shell would split it after expansion."""
        return _Scan(self, word, env, used).run()[1]


@dataclass
class _Words:
    words: list[str] = field(default_factory=list)
    cur: str = ""
    in_word: bool = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word:
                self.words.append(self.cur)
                self.cur, self.in_word = "", False
            return
        self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.cur += text
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def result(self) -> list[str]:
        if self.in_word:
            self.words.append(self.cur)
            self.cur, self.in_word = "", False
        return self.words


class _Scan:
    def __init__(self, lex: ShellLex, text: str, env: Mapping[str, str], used: set[str] | None) -> None:
        self.lex, self.text, self.env, self.pos = lex, text, env, 0
        self.used = used if used is not None else set()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def run(self) -> tuple[str, list[str]]:
        return self.stop_on("")

    def stop_on(self, stop: str) -> tuple[str, list[str]]:
        out: list[str] = []
        words = _Words()
        while self.pos < len(self.text):
            ch = self.peek()
            if stop and ch == stop:
                self.next()
                return "".join(out), words.result()
            if ch in "'\"" and not self.lex.skip_quotes:
                tmp = self.single_quote() if ch == "'" else self.double_quote()
                out.append(tmp)
                words.add_raw(tmp)
                words.in_word = True
            elif ch == "$":
                tmp = self.dollar()
                out.append(tmp)
                words.add_string(tmp)
            else:
                self.next()
                if ch == self.lex.escape:
                    if self.lex.raw_escapes or (self.lex.skip_quotes and self.peek() not in ("$", ch)):
                        out.append(ch)
                        words.add_raw(ch)
                    ch = self.next()
                    if not ch:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                out.append(ch)
        if stop:
            raise ExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out), words.result()

    def single_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.lex.raw_quotes else []
        while True:
            ch = self.next()
            if not ch:
                raise ExpansionError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                break
            out.append(ch)
        if self.lex.raw_quotes:
            out.append("'")
        return "".join(out)

    def double_quote(self) -> str:
        self.next()
        out = ['"'] if self.lex.raw_quotes else []
        while True:
            ch = self.peek()
            if not ch:
                raise ExpansionError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                break
            if ch == "$":
                out.append(self.dollar())
                continue
            self.next()
            if ch == self.lex.escape:
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", self.lex.escape):
                    if self.lex.raw_escapes:
                        out.append(ch)
                    ch = self.next()
            out.append(ch)
        if self.lex.raw_quotes:
            out.append('"')
        return "".join(out)

    def name(self) -> str:
        start = self.pos
        if self.peek().isdigit():
            while self.peek().isdigit():
                self.next()
            return self.text[start:self.pos]
        if self.peek() and self.peek() in _SPECIAL_PARAMS:
            return self.next()
        while (ch := self.peek()) and (ch.isalnum() or ch == "_"):
            self.next()
        return self.text[start:self.pos]

    def lookup(self, name: str) -> str | None:
        self.used.add(name)
        return self.env.get(name)

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value = self.lookup(name)
            if value is None:
                return "$" + name if self.lex.skip_unset else ""
            return value
        self.next()
        if self.peek() in ("", "{", "}", ":"):
            raise ExpansionError("syntax error: missing '}'" if not self.peek() else "syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            value = self.lookup(name)
            if value is None:
                return "${" + name + "}" if self.lex.skip_unset else ""
            return value
        colon = ch == ":"
        if colon:
            ch = self.next()
        if ch in ("-", "+", "?"):
            word, _ = self.stop_on("}")
            return self.modifier(name, ch, word, colon)
        if ch in ("#", "%") and not colon:
            greedy = self.peek() == ch
            if greedy:
                self.next()
            pattern, _ = self.stop_on("}")
            return _trim(self.lookup(name) or "", pattern, prefix=ch == "#", greedy=greedy)
        if not ch:
            raise ExpansionError("syntax error: missing '}'")
        raise ExpansionError(f"unsupported modifier ({ch}) in substitution")

    def modifier(self, name: str, op: str, word: str, colon: bool) -> str:
        value = self.lookup(name)
        empty = value is None or (colon and value == "")
        if op == "-":
            return word if empty else (value or "")
        if op == "+":
            return "" if empty else word
        if empty:
            default = "is not allowed to be empty" if colon else "is not allowed to be unset"
            raise ExpansionError(f"{name}: {word or default}")
        return value or ""


def _trim(value: str, pattern: str, *, prefix: bool, greedy: bool) -> str:
    """``${v#pat}`` / ``${v%pat}``: drop the shortest (or, greedy, longest) glob match."""
    cuts = range(len(value) + 1)
    order = reversed(cuts) if greedy else cuts
    for n in order:
        part = value[:n] if prefix else value[len(value) - n:]
        if fnmatch.fnmatchcase(part, pattern):
            return value[n:] if prefix else value[: len(value) - n]
    return value

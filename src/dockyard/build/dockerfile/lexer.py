"""From Dockerfile text to logical instruction lines, as Docker's parser reads them.

This is the part of the Dockerfile reference that is about *text*, before any instruction has a
meaning: parser directives at the very top (``# escape=`` and ``# syntax=``), comment lines (also
inside a continued instruction), line continuations with the escape character, empty continuation
lines, and heredocs (``<<EOF``, ``<<-EOF``, quoted delimiters) whose bodies follow the line that
names them.  Each :class:`Node` remembers the lines it came from so every later error can name one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockyard.build.dockerfile.errors import DockerfileError
from dockyard.build.dockerfile.shell import ExpansionError, ShellLex

_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_KNOWN_DIRECTIVES = {"escape", "syntax", "check"}
_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)$")
#: instructions whose line may name heredocs (the Dockerfile reference allows exactly these)
HEREDOC_INSTRUCTIONS = {"run", "copy", "add"}


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    content: str
    expand: bool
    chomp: bool

    @property
    def data(self) -> str:
        """The body as a file holds it: ``<<-`` strips leading tabs from every line."""
        if not self.chomp:
            return self.content
        return "".join(line.lstrip("\t") for line in self.content.splitlines(keepends=True))


@dataclass(slots=True)
class Node:
    """One instruction as written: keyword, ``--flags``, the rest, and its heredocs."""

    keyword: str  # lower case
    flags: list[str]
    rest: str
    line: int
    end_line: int
    original: str
    heredocs: list[Heredoc] = field(default_factory=list)


@dataclass(slots=True)
class Lexed:
    nodes: list[Node]
    directives: dict[str, str]
    escape: str


def parse_heredoc_word(word: str) -> tuple[str, bool, bool] | None:
    """``<<-"EOF"`` → (``EOF``, expand=False, chomp=True); None if *word* is no heredoc."""
    m = _HEREDOC.match(word)
    if not m or not m.group(3):
        return None
    rest = m.group(3)
    try:
        words = ShellLex(skip_unset=True).process_words(rest, {})
        raw = ShellLex(skip_unset=True, raw_quotes=True).process_words(rest, {})
    except ExpansionError:
        return None
    if len(words) != 1 or len(raw) != 1:
        return None
    # A quote anywhere in the delimiter word turns expansion of the body off, as in sh.
    quotes = lambda w: w.count("'") + w.count('"')  # noqa: E731
    return words[0], quotes(words[0]) == quotes(raw[0]), m.group(2) == "-"


def heredoc_words(line: str) -> list[tuple[str, bool, bool]]:
    try:
        words = ShellLex(raw_quotes=True, raw_escapes=True, skip_unset=True).process_words(line, {})
    except ExpansionError:
        return []
    return [h for w in words if (h := parse_heredoc_word(w))]


def _directives(lines: list[str], filename: str) -> tuple[dict[str, str], int]:
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line)
        if not m or m.group(1).lower() not in _KNOWN_DIRECTIVES:
            return found, i
        key = m.group(1).lower()
        if key in found:
            raise DockerfileError(f"only one {key} parser directive can be used", line=i + 1, filename=filename)
        found[key] = m.group(2)
    return found, len(lines)


def _continues(line: str, escape: str) -> tuple[str, bool]:
    """Strip a trailing escape character (and blanks after it); True if the line continues."""
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        return stripped[:-1], True
    return line, False


def lex(text: str, *, filename: str = "Dockerfile") -> Lexed:
    text = text.removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    directives, first = _directives(lines, filename)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(f"invalid escape token '{escape}' does not match ` or \\", line=1, filename=filename)
    nodes: list[Node] = []
    i = first
    while i < len(lines):
        start = i + 1
        raw = lines[i].lstrip()
        i += 1
        if not raw or raw.startswith("#"):
            continue
        line, more = _continues(raw, escape)
        while more and i < len(lines):
            nxt = lines[i]
            i += 1
            if nxt.lstrip().startswith("#") or not nxt.strip():
                continue  # comments and empty lines inside a continued instruction vanish
            part, more = _continues(nxt, escape)
            line += part
        if not line.strip():
            continue
        node = node_from_line(line, start, i, escape, filename)
        if node.keyword in HEREDOC_INSTRUCTIONS and "<<" in line:
            i = _read_heredocs(node, lines, i, filename)
        nodes.append(node)
    return Lexed(nodes, directives, escape)


def _read_heredocs(node: Node, lines: list[str], i: int, filename: str) -> int:
    for name, expand, chomp in heredoc_words(node.original):
        body: list[str] = []
        while True:
            if i >= len(lines):
                raise DockerfileError(f"unterminated heredoc {name!r}", line=node.line, filename=filename)
            text = lines[i]
            i += 1
            if (text.lstrip("\t") if chomp else text) == name:
                break
            body.append(text + "\n")
        node.heredocs.append(Heredoc(name, "".join(body), expand, chomp))
    node.end_line = i
    return i


def node_from_line(line: str, start: int, end: int, escape: str, filename: str) -> Node:
    stripped = line.strip()
    parts = stripped.split(None, 1)
    keyword = parts[0]
    rest = parts[1] if len(parts) > 1 else ""
    flags: list[str] = []
    if keyword.lower() != "onbuild":
        try:
            rest, flags = extract_flags(rest)
        except ValueError as e:
            raise DockerfileError(str(e), line=start, filename=filename) from None
    return Node(keyword.lower(), flags, rest.strip(), start, end, stripped)


def extract_flags(line: str) -> tuple[str, list[str]]:
    """Leading ``--name=value`` words (quotes allowed) and the text after them."""
    words: list[str] = []
    pos = 0
    n = len(line)
    while True:
        while pos < n and line[pos].isspace():
            pos += 1
        if not line.startswith("--", pos):
            return line[pos:], words
        word, quote, blank_ok = "", "", False
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and pos + 1 < n:
                    pos += 1
                    word += line[pos]
                else:
                    word += ch
            elif ch.isspace():
                break
            elif ch in "'\"":
                quote, blank_ok = ch, True
            elif ch == "\\" and pos + 1 < n:
                pos += 1
                word += line[pos]
            else:
                word += ch
            pos += 1
        if word == "--":
            return line[pos:], words
        if word or blank_ok:
            words.append(word)

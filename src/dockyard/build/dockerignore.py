"""``.dockerignore``: which files of the build context a build may see, with Docker's semantics.

Rules (moby/patternmatcher): one pattern a line, ``#`` lines are comments, blanks are trimmed,
patterns are cleaned like Go's ``filepath.Clean`` (so ``./a`` and ``/a`` mean ``a``), matched
against the whole path relative to the context root with ``filepath.Match`` syntax plus ``**``.
A pattern that matches a directory excludes everything below it.  ``!pattern`` re-includes, and
the last pattern that matches a path decides.  As with BuildKit, an excluded Dockerfile or
.dockerignore is still read by the builder but is not visible to COPY/ADD.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from dockyard.build.pathmatch import BadPattern, compile_pattern


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


def clean(pattern: str) -> str:
    cleaned = posixpath.normpath(pattern)
    cleaned = cleaned.lstrip("/") if len(cleaned) > 1 else cleaned
    return "." if cleaned in ("", "/") else cleaned


def parse_patterns(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        neg = line.startswith("!")
        body = line[1:].strip() if neg else line
        out.append(("!" if neg else "") + clean(body))
    return out


class IgnoreMatcher:
    """Decides whether a context-relative path (``a/b/c``) is excluded."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[Pattern] = []
        for p in patterns:
            neg = p.startswith("!")
            body = clean(p[1:] if neg else p)
            try:
                regex = compile_pattern(body, double_star=True)
            except BadPattern as e:
                raise ValueError(f".dockerignore: {e}") from None
            self.patterns.append(Pattern(p, neg, regex))
        self.has_exceptions = any(p.exclusion for p in self.patterns)

    @classmethod
    def from_context(cls, root: Path) -> IgnoreMatcher:
        f = root / ".dockerignore"
        return cls(parse_patterns(f.read_text(errors="replace")) if f.is_file() else [])

    def excluded(self, path: str) -> bool:
        """Last matching pattern wins; a pattern matching a parent directory matches the path."""
        matched = False
        parents = path.split("/")[:-1]
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue  # an include can't change an included path, nor an exception an excluded one
            hit = pattern.matches(path) or any(
                pattern.matches("/".join(parents[: i + 1])) for i in range(len(parents)))
            if hit:
                matched = not pattern.exclusion
        return matched

    def may_include_below(self, directory: str) -> bool:
        """Could an exception re-include something under an excluded *directory*?  (Then walk it.)"""
        if not self.has_exceptions:
            return False
        prefix = directory + "/"
        for p in self.patterns:
            if not p.exclusion:
                continue
            literal = re.split(r"[*?\[\\]", p.text[1:], maxsplit=1)[0]
            if literal.startswith(prefix) or prefix.startswith(literal) or "**" in p.text:
                return True
        return False

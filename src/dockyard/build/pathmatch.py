"""Go's ``filepath.Match`` pattern syntax, which Docker uses for COPY globs and .dockerignore.

``*`` matches any run of characters except ``/``, ``?`` one such character, ``[a-z]`` and
``[^a-z]`` a class, ``\\`` escapes.  .dockerignore adds ``**`` (any number of directories,
including none); COPY sources do not, there ``**`` is just two stars.
"""

from __future__ import annotations

import functools
import re


class BadPattern(ValueError):
    pass


def _class(pattern: str, i: int) -> tuple[str, int]:
    """Translate ``[...]`` starting at *i*; return (regex, index after the class)."""
    j = i + 1
    out = "["
    if j < len(pattern) and pattern[j] == "^":
        out += "^/"  # a negated class never matches the separator, as in Go
        j += 1
    first = True
    while j < len(pattern) and (pattern[j] != "]" or first):
        ch = pattern[j]
        first = False
        if ch == "\\" and j + 1 < len(pattern):
            j += 1
            ch = pattern[j]
        out += re.escape(ch) if ch not in "-" else "-"
        j += 1
    if j >= len(pattern):
        raise BadPattern(f"syntax error in pattern {pattern!r}: unclosed '['")
    return out + "]", j + 1


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str, *, double_star: bool = False) -> re.Pattern[str]:
    """Regex matching whole paths the way Go (or .dockerignore, with *double_star*) does."""
    out = ""
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if double_star and pattern.startswith("**", i):
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out += ".*" if i >= n else "(?:.*/)?"
                continue
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            cls, i = _class(pattern, i)
            out += cls
            continue
        elif ch == "\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(f"^{out}$", re.S)


def match(pattern: str, name: str) -> bool:
    return compile_pattern(pattern).match(name) is not None


def has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")

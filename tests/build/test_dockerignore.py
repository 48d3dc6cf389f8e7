""".dockerignore with Docker's rules: Go patterns, ``**``, ``!`` exceptions, last match wins."""

from __future__ import annotations

import pytest

from dockyard.build.dockerignore import IgnoreMatcher, parse_patterns


def m(text: str) -> IgnoreMatcher:
    return IgnoreMatcher(parse_patterns(text))


def test_parse_cleans_and_skips_comments() -> None:
    assert parse_patterns("# c\n\n  ./a/  \n/b\n! c/../d\n*.md\n") == ["a", "b", "!d", "*.md"]


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    ("*.md", "README.md", True),
    ("*.md", "docs/a.md", False),          # patterns are anchored at the context root
    ("**/*.md", "docs/a.md", True),
    ("**/*.md", "a.md", True),             # ** matches zero directories too
    ("docs", "docs/deep/file", True),      # a matched directory takes its contents along
    ("docs/**", "docs/x", True),
    ("d?c", "doc", True),
    ("d?c", "d/c", False),                 # ? never matches a separator
    ("[a-c]*", "bfile", True),
    ("[^a-c]*", "bfile", False),
    ("/abs", "abs", True),
    ("*\n!keep.md", "keep.md", False),
    ("*.md\n!keep.md\nkeep.md", "keep.md", True),   # the last match wins
    ("build\n!build/keep", "build/keep", False),
    ("build\n!build/keep", "build/other", True),
    ("**\n!src/**/*.py", "src/a/b.py", False),
    ("**\n!src/**/*.py", "src/a/b.txt", True),
])
def test_matching(patterns: str, path: str, excluded: bool) -> None:
    assert m(patterns).excluded(path) is excluded


def test_exceptions_decide_whether_to_walk_excluded_directories() -> None:
    assert m("build\n!build/keep").may_include_below("build")
    assert not m("build\n!other/keep").may_include_below("build")
    assert not m("build").may_include_below("build")

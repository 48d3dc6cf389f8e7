"""The build context: source resolution, .dockerignore filtering and the content digest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.build.context import BuildContext, OutsideContext, SourceNotFound


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    for rel, text in {"a.txt": "a", "b.txt": "b", "src/x.py": "x", "src/sub/y.py": "y",
                      "build/out.bin": "o", "build/keep.txt": "k", "Dockerfile": "FROM x"}.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / ".dockerignore").write_text("build\n!build/keep.txt\n*.log\n")
    return tmp_path


def test_resolve_exact_glob_and_clean(ctx: Path) -> None:
    c = BuildContext(ctx)
    assert c.resolve("./a.txt") == ["a.txt"] and c.resolve("/src/") == ["src"]
    assert c.resolve("*.txt") == ["a.txt", "b.txt"]
    assert c.resolve("src/*/y.py") == ["src/sub/y.py"]
    assert c.resolve(".") == ["."]


def test_outside_context_and_missing(ctx: Path) -> None:
    c = BuildContext(ctx)
    with pytest.raises(OutsideContext, match="outside the build context"):
        c.resolve("../etc/passwd")
    with pytest.raises(SourceNotFound, match=r"nope\.txt: not found"):
        c.resolve("nope.txt")
    with pytest.raises(SourceNotFound):
        c.resolve("build/out.bin")  # excluded by .dockerignore


def test_symlinks_resolve_inside_the_context(ctx: Path) -> None:
    os.symlink("/a.txt", ctx / "abs")
    os.symlink("../../../b.txt", ctx / "src/climb")
    c = BuildContext(ctx)
    assert c.real("abs") == str(ctx / "a.txt")
    assert c.real("src/climb") == str(ctx / "b.txt")
    assert [e.path for e in c.walk("abs")] == [str(ctx / "a.txt")]


def test_walk_applies_ignore_with_exceptions(ctx: Path) -> None:
    (ctx / "debug.log").write_text("l")
    rels = [e.rel for e in BuildContext(ctx).walk(".")]
    assert rels == [".", ".dockerignore", "Dockerfile", "a.txt", "b.txt", "build", "build/keep.txt",
                    "src", "src/sub", "src/sub/y.py", "src/x.py"]


def test_digest_follows_content_and_mode_not_mtime(ctx: Path) -> None:
    first = BuildContext(ctx).digest(["src"])
    os.utime(ctx / "src/x.py", (1, 1))
    assert BuildContext(ctx).digest(["src"]) == first
    (ctx / "src/x.py").chmod(0o755)
    changed_mode = BuildContext(ctx).digest(["src"])
    assert changed_mode != first
    (ctx / "src/x.py").write_text("x2")
    assert BuildContext(ctx).digest(["src"]) not in (first, changed_mode)
    assert BuildContext(ctx).digest(["a.txt"]) != BuildContext(ctx).digest(["b.txt"])

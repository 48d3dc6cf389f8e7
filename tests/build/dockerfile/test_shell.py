"""Docker's word expansion: quotes, escapes and ${} forms, as `docker build` applies them."""

from __future__ import annotations

import pytest

from dockyard.build.dockerfile.shell import ExpansionError, ShellLex

ENV = {"A": "apple", "E": "", "SP": "two  words", "PATH": "/usr/bin"}


@pytest.mark.parametrize(
    ("word", "want"),
    [
        ("plain", "plain"),
        ("$A", "apple"),
        ("${A}", "apple"),
        ("${A}pie", "applepie"),
        ("$Apie", ""),
        ("$NOPE", ""),
        ("${NOPE:-dflt}", "dflt"),
        ("${E:-dflt}", "dflt"),
        ("${E-dflt}", ""),
        ("${NOPE-dflt}", "dflt"),
        ("${A:+alt}", "alt"),
        ("${E:+alt}", ""),
        ("${E+alt}", "alt"),
        ("${NOPE:+alt}", ""),
        ("${NOPE:-$A}", "apple"),
        ("${NOPE:-${A:-x}y}", "appley"),
        ("'$A'", "$A"),
        ('"$A"', "apple"),
        ('"a\\"b"', 'a"b'),
        ('"\\$A"', "$A"),
        ('"\\n"', "\\n"),
        ("\\$A", "$A"),
        ("a\\ b", "a b"),
        ("$", "$"),
        ("a$", "a$"),
        ("$PATH:/x", "/usr/bin:/x"),
        ("${A#ap}", "ple"),
        ("${A%le}", "app"),
        ("${PATH##*/}", "bin"),
        ("${PATH#*/}", "usr/bin"),
        ("${PATH%/*}", "/usr"),
    ],
)
def test_process_word(word: str, want: str) -> None:
    assert ShellLex().process_word(word, ENV) == want


def test_process_words_splits_expansions_but_not_quotes() -> None:
    lex = ShellLex()
    assert lex.process_words("$SP x", ENV) == ["two", "words", "x"]
    assert lex.process_words('"$SP" x', ENV) == ["two  words", "x"]
    assert lex.process_words("'' x", ENV) == ["", "x"]


def test_backtick_escape() -> None:
    assert ShellLex(escape="`").process_word("a`$A\\b", ENV) == "a$A\\b"


def test_used_names_are_recorded() -> None:
    used: set[str] = set()
    ShellLex().process_word("${A}-$NOPE-${E:-x}", ENV, used)
    assert used == {"A", "NOPE", "E"}


@pytest.mark.parametrize("word", ["${", "${}", "${:x}", '"open', "'open", "${A:x}", "${A"])
def test_malformed(word: str) -> None:
    with pytest.raises(ExpansionError):
        ShellLex().process_word(word, ENV)


def test_required_variable() -> None:
    with pytest.raises(ExpansionError, match="must be set"):
        ShellLex().process_word("${NOPE:?must be set}", ENV)
    assert ShellLex().process_word("${A:?x}", ENV) == "apple"


def test_heredoc_body_mode_keeps_quotes_and_unknown_escapes() -> None:
    lex = ShellLex(skip_quotes=True)
    assert lex.process_word("say 'hi' \"$A\" \\$A \\n\n", ENV) == "say 'hi' \"apple\" $A \\n\n"

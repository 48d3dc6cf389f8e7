"""dockyard.cli.output: the tables, templates and failure lines every listing verb prints through."""

from __future__ import annotations

from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from dockyard.base.errors import NotFound
from dockyard.cli import output

ROWS = [{"ID": "abc", "Names": "web", "Status": "Up"}, {"ID": "defghi", "Names": "db-primary", "Status": "Created"}]
COLS = [("CONTAINER ID", "ID"), ("NAMES", "Names")]


def _printed(fn) -> str:
    @click.command()
    def cmd() -> None:
        fn()

    return CliRunner().invoke(cmd, []).output


def test_table_pads_columns_to_the_widest_cell_and_trims_line_ends() -> None:
    assert _printed(lambda: output.echo_table(COLS, ROWS)) == (
        "CONTAINER ID   NAMES\n"
        "abc            web\n"
        "defghi         db-primary\n")


def test_rows_quiet_json_template_and_table_template() -> None:
    assert _printed(lambda: output.echo_rows(ROWS, COLS, fmt=None, quiet=True)) == "abc\ndefghi\n"
    assert _printed(lambda: output.echo_rows(ROWS[:1], COLS, fmt="json", quiet=False)) == (
        '{"ID": "abc", "Names": "web", "Status": "Up"}\n')
    assert _printed(lambda: output.echo_rows(ROWS, COLS, fmt="{{.Names}}:{{ .Missing }}", quiet=False)) == (
        "web:\ndb-primary:\n")
    assert _printed(lambda: output.echo_rows(ROWS[:1], COLS, fmt="table {{.ID}}\\t{{.Status}}", quiet=False)) == (
        "ID\tSTATUS\nabc\tUp\n")


def test_status_text_of_a_container_that_never_ran() -> None:
    st = SimpleNamespace(status="created", exit_code=None, started_at=None, finished_at=None)
    assert output.status_text(st) == "Created"
    assert output.age(None) == ""


def test_each_reports_every_failure_then_exits_1() -> None:
    def action(ref: str) -> None:
        if ref.startswith("missing"):
            raise NotFound(f'container "{ref}": not found')

    @click.command()
    @click.argument("refs", nargs=-1)
    def rm(refs: tuple[str, ...]) -> None:
        output.echo_each(refs, action)

    result = CliRunner().invoke(rm, ["a", "missing1", "b"])
    assert result.exit_code == 1
    assert result.stdout == "a\nb\n"
    assert result.stderr == 'Error: container "missing1": not found\n'


@pytest.mark.parametrize(("error", "code", "stderr"), [
    (NotFound('image "x": not found'), NotFound.exit_code, 'Error: image "x": not found\n'),
    (click.ClickException("bad flag"), 1, "Error: bad flag\n"),
    (BrokenPipeError(), 0, ""),
])
def test_invoke_turns_errors_into_one_line_and_an_exit_code(error, code, stderr, capsys) -> None:
    @click.group()
    def group() -> None:
        pass

    @group.command()
    def verb() -> None:
        raise error

    assert output.invoke(group, ["verb"]) == code
    assert capsys.readouterr().err == stderr

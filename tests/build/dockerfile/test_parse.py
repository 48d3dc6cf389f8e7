"""The Dockerfile reference, read as Docker reads it: directives, continuations, heredocs, forms."""

from __future__ import annotations

import textwrap

import pytest

from dockyard.build.dockerfile import DockerfileError, expand, parse
from dockyard.build.dockerfile import instructions as ins


def df(text: str):
    return parse(textwrap.dedent(text).lstrip("\n"))


def only(text: str):
    return df(text).stages[0].instructions


def test_stages_names_and_global_args() -> None:
    d = df("""
        ARG BASE=busybox
        ARG V
        FROM ${BASE}:latest AS Build
        RUN make
        FROM --platform=linux/amd64 build
        FROM scratch
        COPY --from=build /out /
    """)
    assert [a.args[0].key for a in d.meta_args] == ["BASE", "V"]
    assert [(s.name, s.base, s.platform) for s in d.stages] == [
        ("build", "${BASE}:latest", None), (None, "build", "linux/amd64"), (None, "scratch", None)]
    assert d.stage("BUILD") is d.stages[0] and d.stage("2") is d.stages[2] and d.stage("nope") is None


def test_continuation_comments_and_blank_lines() -> None:
    (run,) = only("""
        FROM busybox
        RUN echo a \\
          # a comment in the middle

          && echo b
    """)
    assert run.command == ("echo a   && echo b",)
    assert (run.line, run.end_line) == (2, 5)


def test_escape_directive_backtick() -> None:
    d = df("""
        # escape=`
        FROM busybox
        RUN dir c:\\ `
            && echo done
        COPY a\\b c:\\dest\\
    """)
    run, copy = d.stages[0].instructions
    assert d.escape == "`" and run.command == ("dir c:\\     && echo done",)
    assert expand(copy, {}, escape="`").sources == ("a\\b",)


def test_directives_only_at_top_and_syntax_accepted() -> None:
    d = df("""
        # syntax=docker/dockerfile:1.4
        # escape=\\

        # escape=`
        FROM busybox
    """)
    assert d.directives == {"syntax": "docker/dockerfile:1.4", "escape": "\\"}
    assert d.escape == "\\"


def test_duplicate_and_bad_escape_directive() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: only one escape"):
        df("# escape=`\n# escape=\\\nFROM x\n")
    with pytest.raises(DockerfileError, match="invalid escape token"):
        df("# escape=x\nFROM x\n")


def test_json_and_shell_forms() -> None:
    run, cmd, ep, ep2, sh = only("""
        FROM busybox
        RUN ["echo", "a b"]
        CMD echo $HOME
        ENTRYPOINT ["/bin/app", "--flag"]
        ENTRYPOINT [ -f /x ]
        SHELL ["/bin/bash", "-c"]
    """)
    assert (run.command, run.shell_form) == (("echo", "a b"), False)
    assert (cmd.command, cmd.shell_form) == (("echo $HOME",), True)
    assert (ep.command, ep.shell_form) == (("/bin/app", "--flag"), False)
    assert (ep2.command, ep2.shell_form) == (("[ -f /x ]",), True)
    assert sh.shell == ("/bin/bash", "-c")


@pytest.mark.parametrize("line", ["CMD ['nginx', '-g']", 'ENTRYPOINT ["a", "b"', "SHELL /bin/bash -c",
                                  'RUN ["a", 1]'])
def test_bad_json_form_names_line(line: str) -> None:
    with pytest.raises(DockerfileError, match=r"^Dockerfile:3: "):
        df(f"FROM busybox\nRUN true\n{line}\n")


def test_env_forms_and_expansion() -> None:
    e1, e2, label = only("""
        FROM busybox
        ENV A=1 B="two words" C=a\\ b D='$A'
        ENV LEGACY value with spaces
        LABEL "com.example.v"="1.0" desc="x y"
    """)
    assert expand(e1, {"A": "1"}).pairs == (
        ins.KeyValue("A", "1"), ins.KeyValue("B", "two words"), ins.KeyValue("C", "a b"),
        ins.KeyValue("D", "$A"))
    assert expand(e2, {}).pairs == (ins.KeyValue("LEGACY", "value with spaces"),)
    assert expand(label, {}).pairs == (ins.KeyValue("com.example.v", "1.0"), ins.KeyValue("desc", "x y"))


def test_env_errors() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: ENV must have two arguments"):
        df("FROM x\nENV ONLY\n")
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: .*can't find ="):
        df("FROM x\nENV A=1 B\n")


def test_arg_forms() -> None:
    (arg,) = only("""
        FROM busybox
        ARG A B=2 C="x y"
    """)
    assert [(a.key, a.value) for a in expand(arg, {}).args] == [("A", None), ("B", "2"), ("C", "x y")]


def test_run_flags_and_mounts() -> None:
    (run,) = only("""
        FROM busybox
        RUN --network=none --mount=type=cache,target=/root/.cache,sharing=locked,id=pip \\
            --mount=type=secret,id=token,required --mount=type=bind,from=build,source=/out,target=/in \\
            --mount=type=tmpfs,target=/tmp,size=64m make
    """)
    cache, secret, bind, tmpfs = run.mounts
    assert run.network == "none" and run.command == ("make",)
    assert (cache.type, cache.target, cache.sharing, cache.id, cache.writable) == (
        "cache", "/root/.cache", "locked", "pip", True)
    assert (secret.target, secret.required, secret.writable) == ("/run/secrets/token", True, False)
    assert (bind.from_, bind.source, bind.target, bind.writable) == ("build", "/out", "/in", False)
    assert tmpfs.size == 64 << 20


@pytest.mark.parametrize(("line", "msg"), [
    ("RUN --netwrk=none true", "unknown flag: --netwrk"),
    ("RUN --network=bogus true", "use default, none or host"),
    ("RUN --mount=type=nfs,target=/x true", "unsupported mount type"),
    ("RUN --mount=type=cache true", "target is required"),
    ("COPY --from a b", "missing a value on flag: --from"),
    ("COPY --link=maybe a b", "expecting boolean"),
    ("WORKDIR --chown=1 /x", "unknown flag"),
])
def test_flag_errors(line: str, msg: str) -> None:
    with pytest.raises(DockerfileError, match=rf"Dockerfile:2: .*{msg}"):
        df(f"FROM x\n{line}\n")


def test_copy_add_flags_and_json() -> None:
    c1, c2, a1 = only("""
        FROM busybox
        COPY --from=build --chown=1000:1000 --chmod=0755 --link a "b" /dst/
        COPY ["with space", "/d e/"]
        ADD --checksum=sha256:abc https://example.com/x.tar /x/
    """)
    assert (c1.from_, c1.chown, c1.chmod, c1.link, c1.sources, c1.dest) == (
        "build", "1000:1000", "0755", True, ("a", '"b"'), "/dst/")
    assert expand(c1, {}).sources == ("a", "b")
    assert (c2.sources, c2.dest) == (("with space",), "/d e/")
    assert isinstance(a1, ins.Add) and a1.checksum == "sha256:abc"


def test_copy_needs_a_destination() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: COPY requires at least two arguments"):
        df("FROM x\nCOPY onlyone\n")


def test_heredocs() -> None:
    run1, run2, copy = only("""
        FROM busybox
        RUN <<EOF
        echo one
        echo "$HOME"
        EOF
        RUN cat <<-"A" > /a && cat <<B > /b
        \t\tquoted $X
        \tA
        plain $X
        B
        COPY <<conf.txt <<'raw.txt' /etc/
        v=$V
        conf.txt
        v=$V
        raw.txt
    """)
    assert run1.heredocs[0].content == 'echo one\necho "$HOME"\n' and run1.heredocs[0].expand
    assert run1.command == ("<<EOF",) and (run1.line, run1.end_line) == (2, 5)
    a, b = run2.heredocs
    assert (a.name, a.expand, a.chomp, a.data) == ("A", False, True, "quoted $X\n")
    assert (b.name, b.expand, b.chomp, b.data) == ("B", True, False, "plain $X\n")
    copied = expand(copy, {"V": "7"})
    assert copied.sources == () and copied.dest == "/etc/"
    assert [(s.name, s.data) for s in copied.inline] == [("conf.txt", "v=7\n"), ("raw.txt", "v=$V\n")]


def test_heredoc_only_for_run_copy_add() -> None:
    (cmd,) = only("FROM x\nCMD cat <<EOF\n")
    assert cmd.command == ("cat <<EOF",)


def test_unterminated_heredoc() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:3: unterminated heredoc 'EOF'"):
        df("FROM x\nRUN true\nRUN <<EOF\necho hi\nEOS\n")


def test_unknown_instruction_names_line_and_suggests() -> None:
    text = "FROM busybox\nRUN true\n\n# c\nENV A=1\nWORKDIR /x\nCOPPY a b\n"
    with pytest.raises(DockerfileError) as exc:
        parse(text)
    assert str(exc.value).startswith("Dockerfile:7: unknown instruction: COPPY")
    assert "did you mean COPY?" in str(exc.value) and exc.value.line == 7


def test_from_errors() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:1: FROM requires either one"):
        df("FROM a b\n")
    with pytest.raises(DockerfileError, match="invalid name for build stage"):
        df("FROM a AS 1x\n")
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: duplicate stage name"):
        df("FROM a AS x\nFROM b AS x\n")
    with pytest.raises(DockerfileError, match=r"Dockerfile:1: RUN before the first FROM"):
        df("RUN x\nFROM a\n")
    with pytest.raises(DockerfileError, match="file with no instructions"):
        df("# only a comment\n\n")


def test_metadata_instructions() -> None:
    wd, user, expose, vol, vol2, stop, maint = only("""
        FROM busybox
        WORKDIR /app dir
        USER ${U:-app}:grp
        EXPOSE 80 443/tcp $P
        VOLUME ["/data", "/logs"]
        VOLUME /a /b
        STOPSIGNAL SIGTERM
        MAINTAINER Jane <j@example.com>
    """)
    assert wd.path == "/app dir"
    assert expand(user, {}).user == "app:grp"
    assert expand(expose, {"P": "53/udp 54"}).ports == ("80", "443/tcp", "53/udp", "54")
    assert vol.paths == ("/data", "/logs") and vol2.paths == ("/a", "/b")
    assert stop.signal == "SIGTERM" and maint.name == "Jane <j@example.com>"


def test_healthcheck() -> None:
    h1, h2, h3 = only("""
        FROM busybox
        HEALTHCHECK --interval=1m30s --timeout=3s --start-period=500ms --retries=4 CMD ["wget", "-q", "x"]
        HEALTHCHECK cmd curl -f http://localhost/ || exit 1
        HEALTHCHECK NONE
    """)
    assert h1.test == ("CMD", "wget", "-q", "x")
    assert (h1.interval, h1.timeout, h1.start_period, h1.retries) == (90 * 10**9, 3 * 10**9, 5 * 10**8, 4)
    assert h2.test == ("CMD-SHELL", "curl -f http://localhost/ || exit 1")
    assert h3.test == ("NONE",)
    with pytest.raises(DockerfileError, match="HEALTHCHECK NONE takes no arguments"):
        df("FROM x\nHEALTHCHECK NONE x\n")
    with pytest.raises(DockerfileError, match="try CMD"):
        df("FROM x\nHEALTHCHECK RUN x\n")
    with pytest.raises(DockerfileError, match="less than 1ms"):
        df("FROM x\nHEALTHCHECK --interval=10us CMD x\n")


def test_onbuild() -> None:
    (ob,) = only("FROM x\nONBUILD COPY --chown=1 . /app\n")
    assert ob.expression == "COPY --chown=1 . /app" and isinstance(ob.trigger, ins.Copy)
    with pytest.raises(DockerfileError, match="ONBUILD ONBUILD"):
        df("FROM x\nONBUILD ONBUILD RUN x\n")
    with pytest.raises(DockerfileError, match="FROM isn't allowed"):
        df("FROM x\nONBUILD FROM y\n")


def test_crlf_and_bom() -> None:
    d = parse("\ufeffFROM x\r\nRUN a \\\r\n b\r\n")
    assert d.stages[0].instructions[0].command == ("a  b",)


def test_error_names_the_given_file() -> None:
    with pytest.raises(DockerfileError, match=r"^app\.Dockerfile:1: "):
        parse("BOGUS\n", filename="app.Dockerfile")


REAL_WORLD = """\
# syntax=docker/dockerfile:1.6
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim as base
LABEL maintainer="team@example.com" \\
      org.opencontainers.image.source="https://example.com/repo"
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PATH="/opt/venv/bin:$PATH"
WORKDIR /app

FROM base as builder
RUN --mount=type=cache,target=/root/.cache/pip \\
    python -m venv /opt/venv && \\
    # comments inside a RUN are dropped
    pip install --upgrade pip

COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

FROM base AS final
ARG UID=10001
RUN adduser --disabled-password --gecos "" --home "/nonexistent" --shell "/sbin/nologin" \\
    --no-create-home --uid "${UID}" appuser
COPY --from=builder /opt/venv /opt/venv
COPY --chown=appuser:appuser . .
USER appuser
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request" || exit 1
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["python", "-m"]
CMD ["app"]
"""


def test_a_real_world_dockerfile() -> None:
    d = parse(REAL_WORLD)
    assert [s.name for s in d.stages] == ["base", "builder", "final"]
    assert [type(i).__name__ for i in d.stages[2].instructions] == [
        "Arg", "Run", "Copy", "Copy", "User", "Expose", "Healthcheck", "Stopsignal", "Entrypoint", "Cmd"]
    env = expand(d.stages[0].instructions[1], {"PATH": "/usr/bin"})
    assert env.pairs[-1] == ins.KeyValue("PATH", "/opt/venv/bin:/usr/bin")
    run = d.stages[1].instructions[0]
    assert run.mounts[0].target == "/root/.cache/pip"
    assert run.command == ("python -m venv /opt/venv &&     pip install --upgrade pip",)
    assert expand(d.stages[0].from_, {"PYTHON_VERSION": "3.12"}).base == "python:3.12-slim"

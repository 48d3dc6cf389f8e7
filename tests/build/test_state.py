"""Metadata instructions applied to an image config the way Docker applies them (no I/O)."""

from __future__ import annotations

import pytest

from dockyard.build.dockerfile import expand, parse
from dockyard.build.state import apply_metadata, base_state, expose_ports, join_workdir


def run(text: str, base: dict | None = None, env: dict | None = None):
    state = base_state(base or {"config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]}}, [], "k", epoch=None)
    for instr in parse("FROM x\n" + text).stages[0].instructions:
        apply_metadata(state, expand(instr, {**state.expansion_env(), **(env or {})}))
    return state


def test_env_replaces_in_place_and_label_merges() -> None:
    s = run("ENV A=1 PATH=/usr/bin:$PATH\nENV A=2\nLABEL a=1 b=2\nLABEL a=3\n")
    assert s.cfg["Env"] == ["PATH=/usr/bin:/bin", "A=2"]
    assert s.cfg["Labels"] == {"a": "3", "b": "2"}


def test_cmd_entrypoint_shell_forms_and_inherited_cmd_reset() -> None:
    s = run('SHELL ["/bin/bash", "-c"]\nENTRYPOINT exec app\n')
    assert s.cfg["Entrypoint"] == ["/bin/bash", "-c", "exec app"] and "Cmd" not in s.cfg
    s2 = run('CMD ["a"]\nENTRYPOINT ["e"]\n')
    assert s2.cfg["Cmd"] == ["a"] and s2.cfg["Entrypoint"] == ["e"]  # a CMD of this stage stays


def test_expose_volume_user_stopsignal_healthcheck_onbuild_maintainer() -> None:
    s = run("EXPOSE 80 53/udp 8000-8001\nVOLUME /a /b\nUSER app:grp\nSTOPSIGNAL SIGQUIT\n"
            "HEALTHCHECK --interval=5s --retries=2 CMD true\nONBUILD RUN echo hi\nMAINTAINER me\n")
    assert s.cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}}
    assert s.cfg["Volumes"] == {"/a": {}, "/b": {}} and s.cfg["User"] == "app:grp"
    assert s.cfg["StopSignal"] == "SIGQUIT"
    assert s.cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000, "Retries": 2}
    assert s.cfg["OnBuild"] == ["RUN echo hi"] and s.config["author"] == "me"
    assert all(h.get("empty_layer") for h in s.config["history"])


def test_args_stay_out_of_the_image_env_and_env_wins() -> None:
    s = run("ENV A=env\n")
    s.args.update({"A": "arg", "B": "arg"})
    assert s.expansion_env()["A"] == "env" and s.expansion_env()["B"] == "arg"
    assert s.run_env({"HTTP_PROXY": "p"}) == ["PATH=/bin", "A=env", "HTTP_PROXY=p", "B=arg"]
    assert s.cfg["Env"] == ["PATH=/bin", "A=env"]


def test_helpers() -> None:
    assert join_workdir("/a", "b/../c") == "/a/c" and join_workdir("/a", "/x") == "/x"
    with pytest.raises(ValueError, match="invalid port"):
        expose_ports(("http",))

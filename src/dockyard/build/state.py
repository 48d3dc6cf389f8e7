"""A stage while it is being built: image config, layers, ARGs in scope, cache key.

Metadata instructions (ENV, LABEL, CMD, …) only change the config; this module applies them the
way Docker does -- ``WORKDIR`` relative to the previous one, ``ENTRYPOINT`` resetting a ``CMD``
inherited from the base image, shell forms wrapped in the stage's ``SHELL`` -- and records each
step in the history with ``empty_layer``.  ARGs are build-time only: they reach RUN's environment
and variable expansion but never the image's ``Env``, and ENV wins over an ARG of the same name.
"""

from __future__ import annotations

import copy
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from dockyard.base.clock import parse_rfc3339, rfc3339
from dockyard.build.dockerfile import instructions as ins
from dockyard.oci.images import LayerBlob

DEFAULT_SHELL = ["/bin/sh", "-c"]
_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?$", re.I)


@dataclass
class StageState:
    config: dict[str, Any]
    layers: list[LayerBlob]
    key: str
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False
    epoch: float | None = None
    #: time of the newest layer so far: metadata steps are stamped with it, so that a rebuild
    #: served wholly from the cache gives a byte-identical config (the same image ID), as docker's
    last_created: float = 0.0

    @property
    def cfg(self) -> dict[str, Any]:
        return self.config.setdefault("config", {})

    def env(self) -> dict[str, str]:
        out = {}
        for item in self.cfg.get("Env") or []:
            k, _, v = item.partition("=")
            out[k] = v
        return out

    def expansion_env(self) -> dict[str, str]:
        return {**self.args, **self.env()}

    def run_env(self, extra: dict[str, str]) -> list[str]:
        env = self.env()
        more = {k: v for k, v in {**extra, **self.args}.items() if k not in env}
        return [*(self.cfg.get("Env") or []), *(f"{k}={v}" for k, v in more.items())]

    def shell(self) -> list[str]:
        return list(self.cfg.get("Shell") or DEFAULT_SHELL)

    def workdir(self) -> str:
        return self.cfg.get("WorkingDir") or "/"

    def history(self, created_by: str, *, empty: bool, created: float | None = None) -> None:
        if created is not None:
            self.last_created = max(self.last_created, created)
        when = self.epoch if self.epoch is not None else (created if created is not None else self.last_created)
        entry: dict[str, Any] = {"created": rfc3339(when), "created_by": created_by,
                                 "comment": "buildkit.dockerfile.v0"}
        if empty:
            entry["empty_layer"] = True
        self.config.setdefault("history", []).append(entry)

    def add_layer(self, layer: LayerBlob) -> None:
        self.layers.append(layer)
        self.config.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(str(layer.diff_id))


def base_state(config: dict[str, Any] | None, layers: list[LayerBlob], key: str, *,
               epoch: float | None) -> StageState:
    cfg = copy.deepcopy(config) if config else {}
    cfg.setdefault("config", {})
    cfg["rootfs"] = {"type": "layers", "diff_ids": [str(layer.diff_id) for layer in layers]}
    cfg.setdefault("history", [])
    cfg["config"].pop("OnBuild", None)  # the base's triggers run in this build and are not inherited
    created = 0.0
    if cfg.get("created"):
        try:
            created = parse_rfc3339(cfg["created"])
        except ValueError:
            created = 0.0
    return StageState(cfg, list(layers), key, epoch=epoch, last_created=created)


def join_workdir(current: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(current or "/", path))


def expose_ports(ports: tuple[str, ...]) -> list[str]:
    out = []
    for p in ports:
        m = _PORT.match(p)
        if not m:
            raise ValueError(f"EXPOSE {p}: invalid port; write e.g. 80, 80/tcp or 8000-8010/udp")
        lo, hi, proto = int(m.group(1)), int(m.group(2) or m.group(1)), (m.group(3) or "tcp").lower()
        if hi < lo or hi > 65535:
            raise ValueError(f"EXPOSE {p}: invalid port range")
        out.extend(f"{n}/{proto}" for n in range(lo, hi + 1))
    return out


def command_of(state: StageState, command: tuple[str, ...], shell_form: bool) -> list[str]:
    return [*state.shell(), *command] if shell_form else list(command)


def apply_metadata(state: StageState, instr: ins.Instruction) -> str:
    """Change *state*'s config for a metadata instruction; returns its history text."""
    cfg = state.cfg
    if isinstance(instr, ins.Env):
        env = state.env()
        for kv in instr.pairs:
            env[kv.key] = kv.value or ""
        cfg["Env"] = [f"{k}={v}" for k, v in env.items()]
        return "ENV " + " ".join(f"{kv.key}={kv.value}" for kv in instr.pairs)
    if isinstance(instr, ins.Label):
        labels = cfg.get("Labels") or {}
        labels.update({kv.key: kv.value or "" for kv in instr.pairs})
        cfg["Labels"] = labels
        return "LABEL " + " ".join(f"{kv.key}={kv.value}" for kv in instr.pairs)
    if isinstance(instr, ins.Cmd):
        cfg["Cmd"] = command_of(state, instr.command, instr.shell_form)
        state.cmd_set = True
        return f"CMD {cfg['Cmd']!r}".replace("'", '"')
    if isinstance(instr, ins.Entrypoint):
        cfg["Entrypoint"] = command_of(state, instr.command, instr.shell_form)
        if not state.cmd_set:
            cfg.pop("Cmd", None)  # a CMD inherited from the base image no longer fits
        return f"ENTRYPOINT {cfg['Entrypoint']!r}".replace("'", '"')
    if isinstance(instr, ins.User):
        cfg["User"] = instr.user
        return f"USER {instr.user}"
    if isinstance(instr, ins.Expose):
        ports = cfg.get("ExposedPorts") or {}
        ports.update({p: {} for p in expose_ports(instr.ports)})
        cfg["ExposedPorts"] = ports
        return "EXPOSE " + " ".join(instr.ports)
    if isinstance(instr, ins.Volume):
        vols = cfg.get("Volumes") or {}
        vols.update({p: {} for p in instr.paths})
        cfg["Volumes"] = vols
        return "VOLUME " + str(list(instr.paths)).replace("'", '"')
    if isinstance(instr, ins.Stopsignal):
        cfg["StopSignal"] = instr.signal
        return f"STOPSIGNAL {instr.signal}"
    if isinstance(instr, ins.Shell):
        cfg["Shell"] = list(instr.shell)
        return "SHELL " + str(list(instr.shell)).replace("'", '"')
    if isinstance(instr, ins.Healthcheck):
        cfg["Healthcheck"] = _health(instr)
        return f"HEALTHCHECK {' '.join(instr.test)}"
    if isinstance(instr, ins.Onbuild):
        cfg["OnBuild"] = [*(cfg.get("OnBuild") or []), instr.expression]
        return f"ONBUILD {instr.expression}"
    if isinstance(instr, ins.Maintainer):
        state.config["author"] = instr.name
        return f"MAINTAINER {instr.name}"
    if isinstance(instr, ins.Arg):
        return "ARG " + " ".join(a.key if a.value is None else f"{a.key}={a.value}" for a in instr.args)
    raise TypeError(f"{instr.keyword} is not a metadata instruction")


def _health(h: ins.Healthcheck) -> dict[str, Any]:
    out: dict[str, Any] = {"Test": list(h.test)}
    for key, value in (("Interval", h.interval), ("Timeout", h.timeout), ("StartPeriod", h.start_period),
                       ("StartInterval", h.start_interval), ("Retries", h.retries)):
        if value:
            out[key] = value
    return out

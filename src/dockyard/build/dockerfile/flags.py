"""``--flag=value`` options of Dockerfile instructions, checked as Docker's BFlags checks them."""

from __future__ import annotations

import re

from dockyard.build.dockerfile.instructions import Mount

#: kinds: "str" (one value), "bool" (bare or =true/false), "list" (repeatable)
FLAGS: dict[str, dict[str, str]] = {
    "from": {"platform": "str"},
    "run": {"mount": "list", "network": "str", "security": "str"},
    "copy": {"from": "str", "chown": "str", "chmod": "str", "link": "bool", "parents": "bool",
             "exclude": "list"},
    "add": {"chown": "str", "chmod": "str", "link": "bool", "checksum": "str", "keep-git-dir": "bool",
            "exclude": "list", "unpack": "bool"},
    "healthcheck": {"interval": "str", "timeout": "str", "start-period": "str",
                    "start-interval": "str", "retries": "str"},
}


def parse_flags(keyword: str, words: list[str]) -> dict[str, object]:
    allowed = FLAGS.get(keyword, {})
    out: dict[str, object] = {}
    for word in words:
        name, has_value, value = word[2:].partition("=")
        kind = allowed.get(name)
        if kind is None:
            raise ValueError(f"unknown flag: --{name}")
        if kind == "bool":
            if has_value and value.lower() not in ("true", "false"):
                raise ValueError(f"expecting boolean value for flag --{name}, not: {value}")
            out[name] = value.lower() != "false" if has_value else True
        elif not has_value:
            raise ValueError(f"missing a value on flag: --{name}")
        elif kind == "list":
            out.setdefault(name, [])
            out[name].append(value)  # type: ignore[union-attr]
        else:
            if name in out:
                raise ValueError(f"duplicate flag specified: --{name}")
            out[name] = value
    return out


_MOUNT_TYPES = {"bind", "cache", "tmpfs", "secret", "ssh"}
_SIZE = re.compile(r"^(\d+)([kmg]?)b?$", re.I)


def parse_mount(value: str) -> Mount:
    """``type=cache,target=/root/.cache,sharing=locked`` → :class:`Mount` (fields as BuildKit names them)."""
    import csv  # only Dockerfiles with RUN --mount pay for it

    fields = next(csv.reader([value]))
    opts: dict[str, object] = {}
    for f in fields:
        key, eq, val = f.partition("=")
        key = key.strip().lower()
        if key in ("readonly", "ro", "rw", "readwrite", "required") and not eq:
            val = "true"
        opts[_ALIASES.get(key, key)] = (key, val)
    mtype = str(opts.pop("type", ("type", "bind"))[1]).lower()  # type: ignore[index]
    if mtype not in _MOUNT_TYPES:
        raise ValueError(f"unsupported mount type {mtype!r}; use bind, cache, tmpfs, secret or ssh")
    kw: dict[str, object] = {"type": mtype}
    for name, (key, val) in opts.items():  # type: ignore[misc]
        kw.update(_mount_field(name, key, val))
    if not kw.get("target") and mtype not in ("secret", "ssh"):
        raise ValueError(f"mount type={mtype}: target is required")
    if mtype == "secret":
        if not kw.get("id"):
            kw["id"] = str(kw.get("target", "")).rsplit("/", 1)[-1]
        if not kw.get("id"):
            raise ValueError("mount type=secret: give id= or target=")
        if not kw.get("target") and not kw.get("env"):
            kw["target"] = f"/run/secrets/{kw['id']}"
    if mtype == "cache" and not kw.get("id"):
        kw["id"] = kw["target"]
    return Mount(**kw)  # type: ignore[arg-type]


_ALIASES = {"dst": "target", "destination": "target", "src": "source", "ro": "readonly",
            "rw": "readwrite", "from": "from_"}


def _bool(key: str, val: str) -> bool:
    low = val.lower()
    if low not in ("true", "false", "1", "0"):
        raise ValueError(f"mount option {key}={val}: expected true or false")
    return low in ("true", "1")


def _mount_field(name: str, key: str, val: str) -> dict[str, object]:
    if name in ("target", "source", "from_", "id", "env"):
        return {name: val}
    if name == "readonly":
        return {"readonly": _bool(key, val)}
    if name == "readwrite":
        return {"readonly": not _bool(key, val)}
    if name == "required":
        return {"required": _bool(key, val)}
    if name == "sharing":
        if val not in ("shared", "private", "locked"):
            raise ValueError(f"mount option sharing={val}: use shared, private or locked")
        return {"sharing": val}
    if name in ("mode",):
        return {"mode": int(val, 8)}
    if name in ("uid", "gid"):
        return {name: int(val)}
    if name == "size":
        m = _SIZE.match(val)
        if not m:
            raise ValueError(f"mount option size={val}: expected a size such as 64m")
        return {"size": int(m.group(1)) * 1024 ** " kmg".index(m.group(2).lower() or " ")}
    raise ValueError(f"unexpected key '{key}' in mount option")


_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}


def parse_duration(name: str, text: str | None) -> int:
    """A Go duration (``30s``, ``1m30s``, ``500ms``) in nanoseconds, as HEALTHCHECK stores them."""
    if text is None:
        return 0
    if text == "0":
        return 0
    pos, total = 0, 0.0
    while pos < len(text):
        m = _DURATION.match(text, pos)
        if not m:
            raise ValueError(f"--{name}: invalid duration {text!r}; write e.g. 30s or 1m30s")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not text:
        raise ValueError(f"--{name}: empty duration")
    ns = int(total)
    if 0 < ns < 1_000_000:
        raise ValueError(f"--{name} cannot be less than 1ms")
    return ns

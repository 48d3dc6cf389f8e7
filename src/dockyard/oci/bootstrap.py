"""Base images from the machine itself: a busybox rootfs from the host's static busybox, a Debian
rootfs through debootstrap.

The machines dockyard is built for often reach no registry, so ``dockyard image bootstrap`` makes
its base images locally.  Each function fills a directory and returns the image config to commit
with it (``Cmd``, ``Env``, platform, ``created``, ``history``); packing the directory into a layer
is :func:`dockyard.oci.layer.write_layer_blob`'s job.

busybox must be *statically* linked: the image has no libc for a dynamic one to load.  Debian's
``busybox-static`` package installs exactly that as ``/bin/busybox``.  Applets become symlinks to
``/bin/busybox`` at the paths ``busybox --list-full`` names, as the official busybox image has them.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

from dockyard.base.clock import SystemClock, rfc3339
from dockyard.base.errors import FailedPrecondition
from dockyard.oci.manifest import Platform

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
PT_INTERP = 3

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnobody:x:65534:\n"
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"


class BootstrapError(FailedPrecondition):
    """The host lacks what a base image is made from; the message names the Debian package."""


def find_static_busybox() -> Path:
    for candidate in (*BUSYBOX_CANDIDATES, shutil.which("busybox")):
        if candidate and os.path.isfile(candidate) and is_static_elf(Path(candidate)):
            return Path(candidate)
    seen = [c for c in BUSYBOX_CANDIDATES if os.path.exists(c)]
    what = f"{seen[0]} is dynamically linked" if seen else "no busybox found"
    raise BootstrapError(f"busybox image: {what}; install a static one with `apt-get install busybox-static`")


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP): statically linked."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF":
            return False
        is64, little = head[4] == 2, head[5] == 1
        end = "<" if little else ">"
        if is64:
            phoff, = struct.unpack_from(end + "Q", head, 32)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 54)
        else:
            phoff, = struct.unpack_from(end + "I", head, 28)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 42)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from(end + "I", table, i * phentsize)[0] != PT_INTERP for i in range(phnum))


def busybox_rootfs(dest: Path, *, busybox: Path | None = None) -> dict[str, Any]:
    """Fill *dest* with a busybox root filesystem; returns its image config."""
    binary = busybox or find_static_busybox()
    if not is_static_elf(binary):
        raise BootstrapError(
            f"busybox image: {binary} is dynamically linked; install a static one with `apt-get install busybox-static`"
        )
    dest = Path(dest)
    for d, mode in (("bin", 0o755), ("sbin", 0o755), ("usr/bin", 0o755), ("usr/sbin", 0o755),
                    ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777), ("var/tmp", 0o1777),
                    ("home", 0o755), ("dev", 0o755), ("proc", 0o555), ("sys", 0o555)):
        (dest / d).mkdir(parents=True, exist_ok=True)
        os.chmod(dest / d, mode)
    shutil.copyfile(binary, dest / "bin" / "busybox")
    os.chmod(dest / "bin" / "busybox", 0o755)
    for applet in _applets(binary):
        link = dest / applet
        if applet == "bin/busybox" or link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("/bin/busybox", link)
    for name, text in (("passwd", PASSWD), ("group", GROUP), ("hosts", HOSTS)):
        (dest / "etc" / name).write_text(text)
    version = _busybox_version(binary)
    return image_config(["sh"], f"dockyard image bootstrap busybox ({version or 'busybox'})")


def _applets(binary: Path) -> list[str]:
    out = subprocess.run([str(binary), "--list-full"], check=True, capture_output=True, text=True).stdout
    return sorted({line.strip().lstrip("/") for line in out.splitlines() if line.strip()})


def _busybox_version(binary: Path) -> str | None:
    proc = subprocess.run([str(binary), "--help"], capture_output=True, text=True)
    match = re.search(r"BusyBox (v[\w.\-+:~]+)", proc.stdout + proc.stderr)
    return f"BusyBox {match.group(1)}" if match else None


def image_config(cmd: list[str], created_by: str, *, created: float | None = None) -> dict[str, Any]:
    host = Platform.host()
    when = rfc3339(created if created is not None else _created())
    config: dict[str, Any] = {
        "architecture": host.architecture,
        "os": host.os,
        "created": when,
        "config": {"Env": [DEFAULT_PATH], "Cmd": cmd},
        "history": [{"created": when, "created_by": created_by}],
    }
    if host.variant:
        config["variant"] = host.variant
    return config


def _created() -> float:
    # SOURCE_DATE_EPOCH makes bootstrapped images reproducible, as reproducible-builds.org asks.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return float(epoch) if epoch and epoch.isdigit() else SystemClock().now()


# -- Debian ---------------------------------------------------------------------------------------
def debian_rootfs(dest: Path, suite: str = "bookworm", *, mirror: str | None = None,
                  variant: str = "minbase") -> dict[str, Any]:
    """Fill *dest* with ``debootstrap --variant=minbase SUITE``; returns its image config.

    The mirror defaults to the one apt on this host uses, so a machine with a local mirror needs
    no internet.  Needs root.
    """
    tool = shutil.which("debootstrap")
    if tool is None:
        raise BootstrapError("debian image: debootstrap is not installed; run `apt-get install debootstrap`")
    if os.geteuid() != 0:
        raise BootstrapError("debian image: debootstrap needs root; run as root")
    mirror = mirror or host_mirror() or "http://deb.debian.org/debian"
    proc = subprocess.run([tool, f"--variant={variant}", suite, str(dest), mirror],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BootstrapError(f"debian image: debootstrap {suite} from {mirror} failed: {tail[0]}")
    _tidy_debian(Path(dest))
    return image_config(["bash"], f"dockyard image bootstrap debian:{suite} (debootstrap --variant={variant})")


def _tidy_debian(root: Path) -> None:
    """Drop what an image should not carry: device nodes (the runtime makes /dev), apt caches."""
    for sub in ("dev", "var/cache/apt/archives", "var/lib/apt/lists"):
        d = root / sub
        if d.is_dir():
            for child in d.iterdir():
                if child.is_dir() and not child.is_symlink():
                    if child.name != "partial":
                        shutil.rmtree(child)
                elif child.name != "lock":
                    child.unlink()


def host_mirror(sources: Path = Path("/etc/apt")) -> str | None:
    """The first Debian archive URL in the host's apt sources (one-line or deb822 format)."""
    files = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("URIs:"):
                uri = line.split()[1] if len(line.split()) > 1 else ""
            elif line.startswith("deb "):
                parts = [p for p in line.split() if not p.startswith("[")]
                uri = parts[1] if len(parts) > 1 else ""
            else:
                continue
            if uri and "security" not in uri:
                return uri.rstrip("/")
    return None

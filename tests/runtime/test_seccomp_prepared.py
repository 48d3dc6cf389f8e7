"""Seccomp filters compiled before `start` (and kept by profile) behave as ones built at load time."""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

from dockyard.runtime import libc, seccomp

CLONE_NEWUTS = 0x04000000  # os.unshare is Python 3.12+

# Deny unshare(2) with EPERM, allow the rest: easy to observe from a forked child.
PROFILE = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
           "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO"}]}


def _unshare_errno_under(install) -> int:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
            install()
            libc_ = ctypes.CDLL(None, use_errno=True)
            if libc_.unshare(CLONE_NEWUTS) != 0:
                code = ctypes.get_errno()
            os.write(w, str(code).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return int(out)


def test_a_prepared_filter_denies_like_a_freshly_built_one(tmp_path: Path) -> None:
    fresh = _unshare_errno_under(lambda: seccomp.load(dict(PROFILE)))
    profile = dict(PROFILE)
    seccomp.prepare(profile, str(tmp_path))
    prepared = _unshare_errno_under(lambda: seccomp.load(profile))
    assert fresh == prepared == errno.EPERM


def test_the_cache_serves_the_same_program_and_distrusts_tampered_files(tmp_path: Path) -> None:
    profile = dict(PROFILE)
    seccomp.prepare(profile, str(tmp_path))
    first = seccomp._prepared[1]
    (cached,) = tmp_path.iterdir()
    seccomp._prepared = None
    seccomp.prepare(profile, str(tmp_path))
    assert seccomp._prepared[1] == first
    # a file anyone may write is never used, and a key that differs is never matched
    cached.chmod(0o666)
    assert seccomp._cache_read(str(cached), cached.read_bytes().partition(b"\0")[0]) is None
    cached.chmod(0o600)
    assert seccomp._cache_read(str(cached), b"another key") is None
    # a program that no longer matches its profile is not installed for another profile
    other = {**PROFILE, "syscalls": []}
    assert _unshare_errno_under(lambda: seccomp.load(other)) in (0, errno.EPERM)  # EPERM: not root

"""linux.seccomp → a BPF filter, built and loaded through libseccomp.so.2 (ctypes).

Loaded last before exec (or before the capability drop when noNewPrivileges is off, because then
loading needs CAP_SYS_ADMIN), as runc does.  Syscall names unknown to this kernel/arch are
skipped, rules whose action equals the default are skipped, and libseccomp is told not to set
no_new_privs itself: that is process.noNewPrivileges' call.
"""

from __future__ import annotations

import ctypes
import os

from dockyard.runtime.errors import SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ACTIONS = {
    "SCMP_ACT_KILL": 0x00000000, "SCMP_ACT_KILL_THREAD": 0x00000000, "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000, "SCMP_ACT_ERRNO": 0x00050000, "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000, "SCMP_ACT_ALLOW": 0x7FFF0000,
}
OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
       "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
_FLTATR_CTL_NNP = 3
EPERM = 1


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def validate(sc: dict[str, Any]) -> None:
    def check_action(action: Any, field: str) -> None:
        if action not in ACTIONS:
            raise SpecError(f"config.json: {field} {action!r}: unknown seccomp action")

    check_action(sc.get("defaultAction"), "linux.seccomp.defaultAction")
    for i, rule in enumerate(sc.get("syscalls") or []):
        check_action(rule.get("action"), f"linux.seccomp.syscalls[{i}].action")
        if not isinstance(rule.get("names"), list):
            raise SpecError(f"config.json: linux.seccomp.syscalls[{i}].names: must be a list of names")
        for j, arg in enumerate(rule.get("args") or []):
            if arg.get("op") not in OPS:
                raise SpecError(f"config.json: linux.seccomp.syscalls[{i}].args[{j}].op "
                                f"{arg.get('op')!r}: unknown seccomp operator")


def _action(name: str, errno_ret: int | None, default_errno: int | None) -> int:
    code = ACTIONS[name]
    if name == "SCMP_ACT_ERRNO":
        e = errno_ret if errno_ret is not None else (default_errno if default_errno is not None else EPERM)
        return code | (e & 0xFFFF)
    return code


_LIB: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    """libseccomp, loaded once — before pivot_root, after which it cannot be found."""
    global _LIB
    if _LIB is not None:
        return _LIB
    lib = _LIB = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def load(sc: dict[str, Any]) -> None:
    """Load the filter described by linux.seccomp into the calling process.

    If :func:`prepare` compiled this very profile beforehand, only the kernel call is left: what
    ``start`` waits for is then ~0.1 ms instead of the ~9 ms libseccomp takes to build and compile
    Docker's 300-odd rules."""
    if _prepared is not None and _prepared[0] is sc:
        _install(_prepared[1])
        return
    ctx = _build(sc)
    try:
        rc = lib().seccomp_load(ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load failed")
    finally:
        lib().seccomp_release(ctx)


#: (profile, BPF program) compiled by prepare(), inherited by the init across fork.
_prepared: tuple[dict[str, Any], bytes] | None = None


def prepare(sc: dict[str, Any], cache_dir: str | None = None) -> None:
    """Compile linux.seccomp to a BPF program now, for :func:`load` to install later.

    With *cache_dir* (the runtime's root) programs are kept by profile: a file holds the exact
    key (profile, architecture, libseccomp version) followed by the program, and is used only if
    the key matches byte for byte and the file is ours.  Any failure just compiles afresh."""
    global _prepared
    from dockyard.runtime import jsonlite

    ver = lib().seccomp_version
    ver.restype = ctypes.POINTER(ctypes.c_uint * 3)
    key = f"{os.uname().machine} libseccomp {tuple(ver().contents)}\n{jsonlite.dumps(sc)}".encode()
    path = None
    if cache_dir:
        import zlib

        path = os.path.join(cache_dir, f"{zlib.crc32(key):08x}-{len(key)}.bpf")
        prog = _cache_read(path, key)
        if prog is not None:
            _prepared = (sc, prog)
            return
    ctx = _build(sc)
    try:
        fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
        try:
            rc = lib().seccomp_export_bpf(ctx, fd)
            if rc < 0:
                raise OSError(-rc, "seccomp_export_bpf failed")
            prog = os.pread(fd, 1 << 20, 0)
        finally:
            os.close(fd)
    finally:
        lib().seccomp_release(ctx)
    if not prog or len(prog) % 8:
        raise OSError(0, "seccomp: libseccomp exported no usable program")
    _prepared = (sc, prog)
    if path:
        _cache_write(path, key, prog)


def cache_dir() -> str | None:
    """Where compiled programs are kept: a tmpfs of our own (gone at reboot, as are the runtime's
    roots), outside any ``--root`` so that a deleted container leaves its root empty.  Under a
    dockyard state dir (``DOCKYARD_STATE``, which every test sets) it lives there instead."""
    if state := os.environ.get("DOCKYARD_STATE"):
        return os.path.join(state, "seccomp-cache")
    if os.geteuid() == 0:
        return "/run/dockyard-runc-seccomp"
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime_dir, "dockyard-runc-seccomp") if runtime_dir else None


def _cache_read(path: str, key: bytes) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            return None  # not written by us: never trust it
        data = os.pread(fd, st.st_size, 0)
    finally:
        os.close(fd)
    head, sep, prog = data.partition(b"\0")
    if not sep or head != key or not prog or len(prog) % 8:
        return None
    return prog


def _cache_write(path: str, key: bytes, prog: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, key + b"\0" + prog)
        finally:
            os.close(fd)
        os.rename(tmp, path)  # no fsync: a torn file fails the key check and is rebuilt
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


def _install(prog: bytes) -> None:
    """What seccomp_load does once it has the program (no filter flags: libseccomp's defaults)."""
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: cannot load the filter: {os.strerror(err)}")


def _build(sc: dict[str, Any]) -> int:
    """A libseccomp filter context holding linux.seccomp's rules (the caller releases it)."""
    so = lib()
    default_errno = sc.get("defaultErrnoRet")
    default = _action(sc["defaultAction"], None, default_errno)
    ctx = so.seccomp_init(default)
    if not ctx:
        raise OSError("seccomp_init failed")
    try:
        so.seccomp_attr_set(ctx, _FLTATR_CTL_NNP, 0)
        for arch in sc.get("architectures") or []:
            token = so.seccomp_arch_resolve_name(arch.removeprefix("SCMP_ARCH_").lower().encode())
            if token:
                rc = so.seccomp_arch_add(ctx, token)
                if rc < 0 and rc != -17:  # -EEXIST: the native arch is already there
                    raise OSError(-rc, f"seccomp: cannot add architecture {arch}")
        for rule in sc.get("syscalls") or []:
            action = _action(rule["action"], rule.get("errnoRet"), None)
            if action == default:
                continue
            for name in rule["names"]:
                nr = so.seccomp_syscall_resolve_name(name.encode())
                if nr < 0:
                    continue  # unknown on this kernel/arch: skipped, as runc does
                _add_rule(so, ctx, action, nr, name, rule.get("args") or [])
    except BaseException:
        so.seccomp_release(ctx)
        raise
    return ctx


def _add_rule(so: ctypes.CDLL, ctx: int, action: int, nr: int, name: str, args: list[dict]) -> None:
    cmps = [_ArgCmp(a["index"], OPS[a["op"]], a.get("value", 0), a.get("valueTwo", 0)) for a in args]
    # Several conditions on one argument cannot be ANDed by libseccomp: as runc, add one rule each.
    groups = [cmps] if len({c.arg for c in cmps}) == len(cmps) else [[c] for c in cmps]
    for group in groups:
        arr = (_ArgCmp * max(len(group), 1))(*group)
        rc = so.seccomp_rule_add_array(ctx, action, nr, len(group), arr)
        if rc < 0:
            raise OSError(-rc, f"seccomp: cannot add rule for {name}")

"""linux.seccomp → a BPF filter, built and loaded through libseccomp.so.2 (ctypes).

Loaded last before exec (or before the capability drop when noNewPrivileges is off, because then
loading needs CAP_SYS_ADMIN), as runc does.  Syscall names unknown to this kernel/arch are
skipped, rules whose action equals the default are skipped, and libseccomp is told not to set
no_new_privs itself: that is process.noNewPrivileges' call.
"""

from __future__ import annotations

import ctypes

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
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def load(sc: dict[str, Any]) -> None:
    """Build the filter described by linux.seccomp and load it into the calling process."""
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
        rc = so.seccomp_load(ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load failed")
    finally:
        so.seccomp_release(ctx)


def _add_rule(so: ctypes.CDLL, ctx: int, action: int, nr: int, name: str, args: list[dict]) -> None:
    cmps = [_ArgCmp(a["index"], OPS[a["op"]], a.get("value", 0), a.get("valueTwo", 0)) for a in args]
    # Several conditions on one argument cannot be ANDed by libseccomp: as runc, add one rule each.
    groups = [cmps] if len({c.arg for c in cmps}) == len(cmps) else [[c] for c in cmps]
    for group in groups:
        arr = (_ArgCmp * max(len(group), 1))(*group)
        rc = so.seccomp_rule_add_array(ctx, action, nr, len(group), arr)
        if rc < 0:
            raise OSError(-rc, f"seccomp: cannot add rule for {name}")

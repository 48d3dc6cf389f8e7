"""JSON for the hot path, straight from the C accelerator (``_json``).

``import json`` pulls in ``re`` and ``enum`` — about 6 ms, a fifth of runc's whole start-up —
so the runtime parses config.json and state.json with the C scanner and writes its small
documents with the C string escaper.  Behaviour matches ``json.loads``/``json.dumps`` for the
types config.json holds; a parse error falls back to ``json`` for its exact message.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WS = " \t\n\r"


class _Ctx:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


_scan = _json.make_scanner(_Ctx())


def loads(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = _scan(text, start)
    except (StopIteration, ValueError, SystemError):
        end = -1  # the bare C scanner reports some errors oddly: let json word them
    if end < 0 or text[end:].strip(_WS):
        import json

        return json.loads(text)  # raises json.JSONDecodeError with line and column
    return value


_esc = _json.encode_basestring_ascii


def dumps(obj: Any, indent: int | str | None = None) -> str:
    out: list[str] = []
    pad = " " * indent if isinstance(indent, int) else indent
    _write(obj, out, pad, 0)
    return "".join(out)


def _write(obj: Any, out: list[str], pad: str | None, depth: int) -> None:
    if isinstance(obj, str):
        out.append(_esc(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, (int, float)):
        out.append(int.__repr__(obj) if isinstance(obj, int) else float.__repr__(obj))
    elif isinstance(obj, dict):
        _container(list(obj.items()), out, pad, depth, "{", "}")
    elif isinstance(obj, (list, tuple)):
        _container(list(obj), out, pad, depth, "[", "]")
    else:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _container(items: list[Any], out: list[str], pad: str | None, depth: int, open_: str, close: str) -> None:
    if not items:
        out.append(open_ + close)
        return
    inner = "\n" + pad * (depth + 1) if pad is not None else ""
    sep = "," + inner if pad is not None else ", "
    out.append(open_ + inner)
    for i, item in enumerate(items):
        if i:
            out.append(sep)
        if open_ == "{":
            out.append(_esc(str(item[0])) + ": ")
            _write(item[1], out, pad, depth + 1)
        else:
            _write(item, out, pad, depth + 1)
    out.append(("\n" + pad * depth if pad is not None else "") + close)

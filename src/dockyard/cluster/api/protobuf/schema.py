"""Our field tables for Kubernetes' protobuf messages, and the small notation they are written in.

Each message is one string of ``;``-separated fields, ``NUMBER JSONNAME TYPE``:

* ``TYPE`` is a scalar (``string bytes bool int32 int64 double``), one of Kubernetes' special
  messages (``Quantity IntOrString Time MicroTime RawExtension``), or another message's name;
* ``[]TYPE`` is a repeated field (packed or not), ``{}TYPE`` a ``map<string, TYPE>``;
* a trailing ``?`` keeps the field's zero value: a Go pointer field (zero was set on purpose) or
  one whose JSON has no ``omitempty``; other zero scalars are Go's unset fields, which the Go
  encoder writes anyway, and are dropped as JSON's ``omitempty`` drops them;
* ``JSONNAME`` ``*`` is an embedded Go struct whose fields JSON inlines into the parent.

The field numbers are Kubernetes' wire contract, read from the API's published protobuf
definitions (k8s.io/api and k8s.io/apimachinery, kubectl 1.33's generation); the tables live in
:mod:`.messages_core` and :mod:`.messages_groups`.  A message we list answers only the field
numbers we list: anything else is reported, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "double"})
SPECIAL = frozenset({"Quantity", "IntOrString", "Time", "MicroTime", "RawExtension"})


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    name: str  # JSON name; "*" inlines the nested message's fields
    type: str  # scalar, special or message name
    repeated: bool = False
    map: bool = False
    pointer: bool = False


def parse(text: str) -> dict[int, Field]:
    out: dict[int, Field] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        number, name, typ = part.split()
        repeated, is_map = typ.startswith("[]"), typ.startswith("{}")
        typ = typ[2:] if repeated or is_map else typ
        pointer = typ.endswith("?")
        out[int(number)] = Field(int(number), name, typ.rstrip("?"), repeated, is_map, pointer)
    return out


@cache
def tables() -> dict[str, dict[int, Field]]:
    from dockyard.cluster.api.protobuf import messages_core, messages_groups

    raw = {**messages_core.MESSAGES, **messages_groups.MESSAGES}
    return {name: parse(text) for name, text in raw.items()}


@cache
def kinds() -> dict[tuple[str, str], str]:
    """``(apiVersion, kind)`` → the message name of each top-level kind we decode."""
    from dockyard.cluster.api.protobuf import messages_core, messages_groups

    return {**messages_core.KINDS, **messages_groups.KINDS}

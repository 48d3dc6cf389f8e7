"""Value classes without ``@dataclass``: equality, hash, repr and immutability from ``_fields``.

``@dataclass`` writes each class's methods as source text and compiles it when the module is
imported: ~0.4 ms a class, ~6 ms for the fifteen on the path of every ``dockyard run``.  The
classes there subclass :class:`Frozen` (or :class:`Mutable`) instead and write only their
``__init__``; everything else follows from ``_fields``, the field names in order (which the
class also makes its ``__slots__``).  They
behave as the dataclasses they replace: ``__eq__`` compares the fields named in ``_compared``
(all by default) of two objects of the same class, frozen ones hash those fields and refuse
assignment, ``repr`` shows every field, and :meth:`Frozen.replace` is ``dataclasses.replace``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Self


class FrozenError(AttributeError):
    """Assignment to a field of a frozen value (``dataclasses.FrozenInstanceError``'s role)."""


class Mutable:
    """A value class whose fields may be reassigned (a dataclass without ``frozen``): unhashable."""

    __slots__ = ()
    #: the field names, in ``__init__``'s order (subclasses: ``_fields = (…)``, ``__slots__ = _fields``)
    _fields: tuple[str, ...] = ()
    #: the fields ``==`` compares (and frozen values hash); None means all of ``_fields``
    _compared: tuple[str, ...] | None = None

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def _key(self) -> tuple[Any, ...]:
        names = self._compared
        return self._values() if names is None else tuple(getattr(self, f) for f in names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{self.__class__.__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle rebuild through __init__, which takes every field in order.
        return self.__class__, self._values()

    def replace(self, **changes: Any) -> Self:
        """A copy with *changes* (``dataclasses.replace``)."""
        return self.__class__(**{**dict(zip(self._fields, self._values(), strict=True)), **changes})


class Frozen(Mutable):
    """A value class whose fields are set once, in ``__init__`` with :meth:`_set`: hashable."""

    __slots__ = ()

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __hash__(self) -> int:
        return hash(self._key())

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenError(f"cannot assign to field {name!r} of a frozen {self.__class__.__qualname__}")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"cannot delete field {name!r} of a frozen {self.__class__.__qualname__}")

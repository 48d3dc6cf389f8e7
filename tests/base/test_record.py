"""Value classes built on dockyard.base.record behave as the dataclasses they replaced."""

from __future__ import annotations

import copy
import pickle

import pytest

from dockyard.base.digest import Digest
from dockyard.base.record import FrozenError
from dockyard.oci.manifest import Descriptor, Manifest, Platform
from dockyard.oci.snapshot.mount import Mount

A = Digest.from_bytes(b"a")
B = Digest.from_bytes(b"b")


def test_frozen_values_compare_and_hash_by_their_compared_fields() -> None:
    one = Descriptor("t", A, 1, annotations={"k": "v"})
    two = Descriptor("t", A, 1)
    assert one == two and hash(one) == hash(two)  # annotations are not compared, as before
    assert one != Descriptor("t", B, 1)
    assert Platform("linux", "amd64") == Platform("linux", "amd64", extra={"os.version": "1"})
    assert Mount("bind", "/a") != ("bind", "/a", ())  # another class is never equal
    assert len({A, Digest.parse(str(A)), B}) == 2


def test_frozen_values_refuse_assignment_and_replace_makes_a_copy() -> None:
    m = Mount("overlay", "overlay", ("ro",))
    with pytest.raises(FrozenError, match="frozen Mount"):
        m.source = "x"  # type: ignore[misc]
    assert isinstance(FrozenError("x"), AttributeError)
    changed = m.replace(options=("rw",))
    assert (changed.type, changed.source, changed.options) == ("overlay", "overlay", ("rw",))
    assert m.options == ("ro",)


def test_repr_copy_and_pickle() -> None:
    d = Descriptor("t", A, 3, platform=Platform("linux", "arm64", "v8"))
    assert repr(d).startswith("Descriptor(media_type='t', digest=Digest(algorithm='sha256', encoded=")
    assert repr(d).endswith("size=3, annotations={}, platform=Platform(os='linux', architecture='arm64', "
                            "variant='v8', extra={}), extra={})")
    assert copy.deepcopy(d) == d and pickle.loads(pickle.dumps(d)) == d


def test_digests_order_by_algorithm_then_hex() -> None:
    low, high = sorted([A, B], key=str)
    assert sorted([high, low]) == [low, high]
    assert low < high and high >= low
    assert Digest("sha256", "f" * 64) < Digest("sha512", "0" * 128)


def test_mutable_values_compare_but_do_not_hash() -> None:
    m = Manifest(Descriptor("c", A, 1), [Descriptor("l", B, 2)])
    assert m == copy.deepcopy(m)
    m.layers = []
    assert m != Manifest(Descriptor("c", A, 1), [Descriptor("l", B, 2)])
    with pytest.raises(TypeError):
        hash(m)

from dockyard.base.errors import Conflict, NotFound, from_wire


def test_errors_cross_the_wire_as_their_category():
    err = NotFound('image "x": not found', hint="run `dockyard pull x`")
    back = from_wire(err.to_wire())
    assert isinstance(back, NotFound)
    assert str(back) == 'image "x": not found; run `dockyard pull x`'
    assert isinstance(from_wire(Conflict("c").to_wire()), Conflict)

import io

import pytest

from dockyard.base.digest import Digest, is_digest, sha256_hex
from dockyard.base.errors import InvalidArgument

EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_digest_of_bytes_and_stream_agree():
    assert str(Digest.from_bytes(b"")) == EMPTY
    assert Digest.from_stream(io.BytesIO(b"x" * 3_000_000)) == Digest.from_bytes(b"x" * 3_000_000)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("e3b0c442", "missing algorithm"),
        ("md5:abcd", "unsupported algorithm"),
        ("sha256:../../etc/passwd", "hex digits"),
        ("sha256:" + "A" * 64, "hex digits"),
    ],
)
def test_bad_digests_say_what_is_wrong(text, fragment):
    with pytest.raises(InvalidArgument, match=fragment):
        Digest.parse(text)
    assert not is_digest(text)


def test_sha512_accepted():
    d = Digest.from_bytes(b"a", "sha512")
    assert Digest.parse(str(d)) == d


def test_sha256_hex_matches_the_digest_of_the_same_bytes():
    assert "sha256:" + sha256_hex(b"") == EMPTY
    assert sha256_hex(b"a b") == Digest.from_bytes(b"a b").encoded

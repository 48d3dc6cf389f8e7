"""Pure pieces of the API server: durations, content negotiation, the stored-bytes codec, encryption."""

from __future__ import annotations

import json

import pytest

from dockyard.base.errors import Internal
from dockyard.cluster.api.kinds import Registry
from dockyard.cluster.apiserver import discovery, tables
from dockyard.cluster.apiserver.codec import Codec
from dockyard.cluster.apiserver.encryption import Encryptor
from dockyard.cluster.store import KeyValue


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (59, "59s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600 + 60, "3h1m"),
    (10 * 3600, "10h"), (3 * 86400 + 3600, "3d1h"), (40 * 86400, "40d"), (-5, "<invalid>"),
])
def test_human_duration_matches_kubectl(seconds: int, text: str) -> None:
    assert tables.human_duration(seconds) == text


def test_aggregated_discovery_negotiation() -> None:
    v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    beta = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    assert discovery.wants_aggregated(v2) == "v2"
    assert discovery.wants_aggregated(beta) == "v2beta1"
    assert discovery.wants_aggregated("application/json, */*") is None
    doc = discovery.aggregated(Registry(), legacy=True)
    assert [i["metadata"]["name"] for i in doc["items"]] == [""]


def test_codec_splices_the_resource_version_without_decoding(tmp_path) -> None:
    codec = Codec(Encryptor.from_file(tmp_path / "key"))
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "9"}, "data": {}}
    stored = codec.encode("/registry/core/configmaps/ns/a", obj)
    assert b"resourceVersion" not in stored and stored.startswith(b'{"metadata":{')
    raw = codec.raw(KeyValue("/registry/core/configmaps/ns/a", stored, 3, 7))
    assert json.loads(raw)["metadata"] == {"resourceVersion": "7", "name": "a"}


def test_secrets_are_encrypted_and_bound_to_their_key(tmp_path) -> None:
    key_file = tmp_path / "cluster" / "encryption.key"
    codec = Codec(Encryptor.from_file(key_file))
    assert key_file.stat().st_mode & 0o777 == 0o600
    secret = {"metadata": {"name": "s"}, "data": {"p": "aHVudGVyMjI="}}
    stored = codec.encode("/registry/core/secrets/ns/s", secret)
    assert stored.startswith(b"k8s:enc:aesgcm:v1:key1:") and b"aHVudGVyMjI=" not in stored
    assert codec.decode(KeyValue("/registry/core/secrets/ns/s", stored, 1, 1))["data"] == secret["data"]
    with pytest.raises(Internal):  # copied under another name: the associated data no longer matches
        codec.decode(KeyValue("/registry/core/secrets/ns/other", stored, 1, 1))

"""Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``) decoded to JSON objects.

kubectl ≥ 1.32 sends its typed commands' objects (``create deployment``, ``create secret`` …) as
protobuf.  :func:`decode_object` turns such a body into the same JSON dict the handlers take:
:mod:`.wire` reads proto wire format, :mod:`.schema` holds our field tables (field number → JSON
name and type, written from the Kubernetes API's published definitions), :mod:`.decode` walks them.
"""

from dockyard.cluster.api.protobuf.decode import MAGIC, decode_object

__all__ = ["MAGIC", "decode_object"]

"""Kubernetes patch semantics as kube-apiserver implements them, as pure functions on JSON objects.

The four ways to change an object in place, one module each:

* :mod:`.json_patch` — RFC 6902 JSON Patch (``application/json-patch+json``);
* :mod:`.merge_patch` — RFC 7386 JSON Merge Patch (``application/merge-patch+json``);
* :mod:`.strategic` — strategic merge patch for built-in kinds (415 for custom resources);
* :mod:`.apply` — server-side apply (``application/apply-patch+yaml``) and managed-fields
  bookkeeping for every other write.

Supporting modules: :mod:`.schema` (patch metadata from the upstream OpenAPI schemas),
:mod:`.fieldpath` (field sets and their ``FieldsV1`` encoding), :mod:`.typed` (schema-aware merge,
compare and removal), :mod:`.managed` (managedFields entries).  Nothing here does I/O except
reading the schema file once; the API server owns storage, defaulting and validation.
"""

from dockyard.cluster.api.patch.apply import server_side_apply, update_managed_fields
from dockyard.cluster.api.patch.errors import ApplyConflict, PatchError, UnsupportedPatch
from dockyard.cluster.api.patch.json_patch import apply_json_patch
from dockyard.cluster.api.patch.merge_patch import apply_merge_patch, create_merge_patch
from dockyard.cluster.api.patch.strategic import apply_strategic_merge_patch

__all__ = [
    "ApplyConflict",
    "PatchError",
    "UnsupportedPatch",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "create_merge_patch",
    "server_side_apply",
    "update_managed_fields",
]

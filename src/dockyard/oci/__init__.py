"""The images layer: content store, OCI manifests and indexes, image names, layouts, layers, snapshots.

Public entry points (import the submodule, not this package):

* :mod:`dockyard.oci.content` -- blobs by digest, resumable streaming ingest;
  :mod:`~dockyard.oci.lease` -- protection from GC for blobs not yet referenced.
* :mod:`dockyard.oci.images` -- ``ImageStore`` (names/tags in SQLite) and ``commit_image``.
* :mod:`dockyard.oci.manifest` / :mod:`~dockyard.oci.mediatypes` -- typed OCI and Docker documents.
* :mod:`dockyard.oci.archive` -- ``save``/``load``/``import_rootfs``, over
  :mod:`~dockyard.oci.layout` (OCI layout, oci-archive) and :mod:`~dockyard.oci.dockerarchive`.
* :mod:`dockyard.oci.gc` -- mark and sweep of unreferenced blobs.
* :mod:`dockyard.oci.layer`, :mod:`~dockyard.oci.unpack`, :mod:`~dockyard.oci.snapshot` -- layer tars
  and root filesystems.

This package imports only :mod:`dockyard.base`; see docs/oci.md.
"""

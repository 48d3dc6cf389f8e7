"""The image builder: Dockerfile → OCI image, multi-stage, cached, no daemon.

``dockerfile/`` parses the Dockerfile reference into typed instructions (pure, no I/O);
``dockerignore`` and ``context`` decide which files of the build context a build may see and hash
them for the cache; ``graph`` orders stages; ``cache`` remembers layers by Docker's cache key;
``executor`` turns instructions into layers and an image in the local store.
"""

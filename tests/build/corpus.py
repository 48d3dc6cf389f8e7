"""Dockerfiles users already have, each built by dockyard and by buildah and compared."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field


def _tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("pkg/README", b"readme\n"), ("pkg/bin/tool", b"#!/bin/sh\necho tool\n")):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755 if "bin" in name else 0o644, 1_600_000_000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class Case:
    name: str
    files: dict[str, str | bytes]
    build_args: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # id → file in the context dir's parent
    target: str | None = None
    symlinks: dict[str, str] = field(default_factory=dict)  # path in the context → link target
    #: paths where buildah knowingly differs from docker (it creates VOLUME directories)
    ignore: tuple[str, ...] = ()


CASES = [
    Case("multistage", {
        "Dockerfile": """\
FROM busybox AS builder
WORKDIR /src
COPY main.sh .
RUN mkdir -p /out && sed 's/NAME/dockyard/' main.sh > /out/app && chmod 755 /out/app
RUN echo unused > /out/scratchpad

FROM busybox AS docs
RUN mkdir /doc && echo "manual" > /doc/README

FROM busybox
COPY --from=builder /out/app /usr/local/bin/app
COPY --from=docs /doc /usr/share/doc/app
COPY --from=0 /src/main.sh /opt/
ENTRYPOINT ["/usr/local/bin/app"]
CMD ["--help"]
""",
        "main.sh": "#!/bin/sh\necho hello NAME\n"}),
    Case("arg_scoping", {
        "Dockerfile": """\
ARG BASE=busybox
ARG VERSION=1.0
ARG GLOBAL_ONLY=global
FROM ${BASE}
ARG VERSION
ARG FLAVOR=plain
ARG UNSET
ENV APP_VERSION=$VERSION APP_FLAVOR=${FLAVOR} GLOBAL="${GLOBAL_ONLY:-not-in-scope}" U=${UNSET:-dflt}
LABEL version=$VERSION flavor="$FLAVOR"
RUN echo "$VERSION $FLAVOR $GLOBAL_ONLY" > /args.txt
""",
    }, build_args={"FLAVOR": "spicy"}),
    Case("env_expansion", {
        "Dockerfile": """\
FROM busybox
ENV DIR=/srv/app NAME=demo
ENV FULL=${DIR}/${NAME} ALT=${NAME:+set} DEF=${NOPE:-fallback} LITERAL='$DIR' ESC=\\$DIR
ENV PATH=$PATH:/srv/app/bin
WORKDIR $DIR
COPY ${NAME}.txt ./
COPY ["${NAME}.txt", "$DIR/copy2.txt"]
RUN echo "$FULL $ALT $DEF $LITERAL $ESC" > env.txt
EXPOSE 8080 9000/udp
VOLUME ["/data"]
STOPSIGNAL SIGINT
USER nobody
""",
        "demo.txt": "demo\n"}),
    Case("dockerignore", {
        "Dockerfile": "FROM busybox\nCOPY . /ctx/\n",
        ".dockerignore": "# ignore build output but keep one file\nbuild\n!build/keep.txt\n*.log\n**/*.tmp\nsecret*\n",
        "a.txt": "a\n", "build/out.bin": "bin", "build/keep.txt": "keep\n", "debug.log": "x",
        "src/deep/file.tmp": "tmp", "src/deep/file.c": "int main;\n", "secret.key": "k"}),
    Case("chown_chmod", {
        "Dockerfile": """\
FROM busybox
RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group
COPY --chown=1000:1000 a.txt /owned/a.txt
COPY --chown=app:app dir/ /owned/dir/
COPY --chmod=0750 run.sh /usr/local/bin/
COPY --chown=123 --chmod=600 a.txt /only-uid
COPY dir /plain/
""",
        "a.txt": "a\n", "run.sh": "#!/bin/sh\n", "dir/x": "x\n", "dir/sub/y": "y\n"}),
    Case("workdir_user", {
        "Dockerfile": """\
FROM busybox
WORKDIR /a/b
WORKDIR c
RUN pwd > /where && touch here
USER 65534:65534
RUN id -u > /tmp/uid
WORKDIR /var/owned/by/nobody
USER root
RUN mkdir -p /home/me && chown 65534:65534 /home/me
LABEL org.example.name="workdir test" multi="a b"
ENTRYPOINT echo entry
""",
    }),
    Case("add_and_globs", {
        "Dockerfile": """\
FROM busybox
ADD pkg.tar.gz /opt/
COPY *.conf /etc/app/
COPY s?c/*.py /py/
ADD local.txt /added.txt
""",
        "pkg.tar.gz": _tarball(), "a.conf": "a=1\n", "b.conf": "b=2\n", "c.txt": "no\n",
        "src/one.py": "1\n", "src/two.py": "2\n", "src/three.txt": "3\n", "local.txt": "l\n"}),
    Case("cache_and_secret_mounts", {
        "Dockerfile": """\
FROM busybox
RUN --mount=type=cache,target=/var/cache/app echo cached > /var/cache/app/f && ls /var/cache/app > /listing
RUN --mount=type=secret,id=token wc -c < /run/secrets/token > /token-length
RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/in > /copied
RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && ls /scratch > /tmpfs-listing
""",
        "data/in": "bound\n"}, secrets={"token": "s3cr3t-value\n"}),
    Case("rm_and_overwrite", {
        "Dockerfile": """\
FROM busybox
RUN mkdir -p /d/sub /e && echo 1 > /d/sub/f && echo keep > /d/k && ln -s /d/k /d/link && touch /e/gone
RUN rm -rf /d/sub && rm /e/gone /etc/group && echo 2 > /d/k
COPY f.txt /d/k
RUN rm -rf /d && mkdir /d && echo fresh > /d/new
""",
        "f.txt": "copied\n"}),
    Case("shell_entrypoint_metadata", {
        "Dockerfile": """\
FROM busybox
RUN echo "shell is $0" > /shell.txt
ENTRYPOINT exec echo from-entrypoint
CMD ["ignored-by-shell-form"]
USER 65534
EXPOSE 80/tcp 443
VOLUME /var/lib/data
""",
    }, ignore=("var/lib",)),
    Case("copy_semantics", {
        "Dockerfile": """\
FROM busybox
RUN mkdir -p /existing && echo old > /existing/old.txt
COPY tree/ /existing/
COPY one.txt /existing
COPY one.txt two.txt /many/
COPY link-to-one /followed.txt
COPY tree /tree-copy
COPY .hidden /
""",
        "tree/a/b/c.txt": "c\n", "tree/top.txt": "top\n", "tree/.dot": "dot\n", "one.txt": "1\n",
        "two.txt": "2\n", ".hidden": "h\n"}, symlinks={"link-to-one": "one.txt", "tree/a/rel-link": "b/c.txt",
                                                   "tree/abs-link": "/etc/passwd"}),
]

#!/bin/sh
# Build the OCI image of PilotGate without running a container (README "Production").
#
# Usage: deploy/image/build.sh [ARCHIVE]      (default: pilotgate-VERSION.oci.tar)
#   PILOTGATE_IMAGE_ROOTFS=DIR  also leave the image's file system in DIR (a new directory)
#   PILOTGATE_IMAGE_CACHE=DIR   keep the Debian base in DIR/base-HASH.tar, HASH being this
#                               script's: the next build only installs the wheel
#   PILOTGATE_IMAGE_MIRROR=URL  the Debian mirror (default: deb.debian.org's)
#
# Two stages. The base is Debian bookworm from mmdebstrap (minbase: no init, no apt in use
# at run time) with python3, espeak-ng and the user `pilotgate` (uid 10001). The project
# is its wheel and its pinned dependencies, built here with pip into a wheelhouse and
# installed offline, inside the base by chroot, into the venv /opt/pilotgate. podman then
# imports the file system as one layer, sets the command, user, ports, volume and
# environment, and saves an OCI archive that `podman load` and `docker load` take.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/pilotgate/__init__.py")
ARCHIVE=$(realpath -m "${1:-pilotgate-$VERSION.oci.tar}")
MIRROR=${PILOTGATE_IMAGE_MIRROR:-http://deb.debian.org/debian}
TAG="localhost/pilotgate:$VERSION"
PYTHON=${PYTHON:-python3}
for tool in mmdebstrap podman; do
    command -v $tool >/dev/null || {
        echo "build.sh: needs $tool (apt-get install mmdebstrap podman)" >&2; exit 1; }
done

WORK=$(mktemp -d /var/tmp/pilotgate-image.XXXXXX)
ROOTFS=$WORK/rootfs
# podman keeps its own store in WORK: the build leaves nothing in the machine's store.
PODMAN="podman --root $WORK/store --runroot $WORK/run --storage-driver vfs"
cleanup() {
    # mmdebstrap unmounts what it mounted; `chroot` below mounts nothing. The store's
    # layers may be read-only copies: make them removable first.
    chmod -R u+w "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The Debian part: what it installs and how are all in this script, hence the cache key.
HASH=$(sha256sum "$0" | cut -c1-16)
BASE=${PILOTGATE_IMAGE_CACHE:+$PILOTGATE_IMAGE_CACHE/base-$HASH.tar}
if [ -n "$BASE" ] && [ -f "$BASE" ]; then
    echo "build.sh: Debian base from $BASE"
else
    echo "build.sh: Debian bookworm base with mmdebstrap (a minute or two)"
    [ -z "$BASE" ] || mkdir -p "$PILOTGATE_IMAGE_CACHE"
    # Manuals, docs and message catalogues are of no use in the image (espeak-ng's voices
    # are elsewhere); the licences stay.
    mmdebstrap --variant=minbase --quiet \
        --include=python3,python3-venv,espeak-ng,ca-certificates,tzdata \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --customize-hook='chroot "$1" groupadd --gid 10001 pilotgate' \
        --customize-hook='chroot "$1" useradd --uid 10001 --gid pilotgate --no-create-home \
            --home-dir /var/lib/pilotgate --shell /usr/sbin/nologin pilotgate' \
        --customize-hook='install -d -o 10001 -g 10001 -m 0750 "$1/var/lib/pilotgate"' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
        bookworm "$WORK/base.tar" "$MIRROR"
    if [ -n "$BASE" ]; then
        # Bases of earlier versions of this script are of no further use.
        rm -f "$PILOTGATE_IMAGE_CACHE"/base-*.tar
        mv "$WORK/base.tar" "$BASE.partial" && mv "$BASE.partial" "$BASE"
    else
        BASE=$WORK/base.tar
    fi
fi
mkdir "$ROOTFS"
tar -C "$ROOTFS" --numeric-owner -xpf "$BASE"

# pip on the build machine, its messages kept to show on failure only.
pip() { "$WORK/pip/bin/python" -m pip --disable-pip-version-check "$@" >"$WORK/pip.log" 2>&1 ||
    { cat "$WORK/pip.log" >&2; exit 1; }; }
# The image's own programs, with none of this machine's environment (pip's settings…).
inside() { chroot "$ROOTFS" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

echo "build.sh: the wheel of PilotGate $VERSION and its dependencies"
"$PYTHON" -m venv "$WORK/pip"
pip install --upgrade pip
# Built from a copy of the source (git's files plus uncommitted changes), so the
# checkout gets no build/ folder.
mkdir "$WORK/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf -) | tar -C "$WORK/src" -xf -
pip wheel --wheel-dir "$ROOTFS/tmp/wheels" "$WORK/src"

echo "build.sh: installing into /opt/pilotgate (chroot)"
inside python3 -m venv /opt/pilotgate
inside /opt/pilotgate/bin/python -m pip install --quiet --no-index \
    --disable-pip-version-check --no-compile --find-links /tmp/wheels pilotgate
# The versions the image runs, direct and indirect, for whoever audits it.
inside /opt/pilotgate/bin/python -m pip freeze --all \
    >"$ROOTFS/opt/pilotgate/requirements.lock"
# Compiled once here: the user cannot write /opt, so each start would compile again.
inside /opt/pilotgate/bin/python -m compileall -q /opt/pilotgate/lib >/dev/null
inside /opt/pilotgate/bin/pilotgate --version
rm -rf "$ROOTFS/tmp/wheels" "$ROOTFS/root/.cache"

echo "build.sh: the OCI archive"
# /dev is the runtime's to fill: device nodes in a layer stop a rootless `podman load`.
tar -C "$ROOTFS" --numeric-owner --exclude='./dev/*' -cf "$WORK/layer.tar" .
if [ -n "${PILOTGATE_IMAGE_ROOTFS:-}" ]; then
    mkdir "$PILOTGATE_IMAGE_ROOTFS"
    tar -C "$PILOTGATE_IMAGE_ROOTFS" --numeric-owner -xpf "$WORK/layer.tar"
fi
$PODMAN import --quiet \
    --change 'CMD ["pilotgate", "serve"]' \
    --change 'USER 10001:10001' \
    --change 'WORKDIR /var/lib/pilotgate' \
    --change 'EXPOSE 8000/tcp' \
    --change 'VOLUME /var/lib/pilotgate' \
    --change 'STOPSIGNAL SIGTERM' \
    --change 'ENV PATH=/opt/pilotgate/bin:/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV PILOTGATE_HOST=0.0.0.0' \
    --change 'ENV PILOTGATE_DATABASE_URL=sqlite:////var/lib/pilotgate/pilotgate.db' \
    --change 'ENV PILOTGATE_SPEECH_CACHE_DIR=/var/lib/pilotgate/speech' \
    --change "LABEL org.opencontainers.image.version=$VERSION" \
    --change 'LABEL org.opencontainers.image.title=PilotGate' \
    "$WORK/layer.tar" "$TAG" >/dev/null
$PODMAN save --quiet --format oci-archive --output "$WORK/image.tar" "$TAG"
# Docker before 25 loads only its own format, whose manifest.json names the config and
# layers: added beside index.json, pointing at the same blobs (docker save writes both).
"$PYTHON" - "$WORK/image.tar" "$TAG" <<'PY'
import io, json, sys, tarfile
archive, tag = sys.argv[1:]
blob = lambda d: "blobs/" + d["digest"].replace(":", "/")
with tarfile.open(archive) as tar:
    (entry,) = json.load(tar.extractfile("index.json"))["manifests"]
    manifest = json.load(tar.extractfile(blob(entry)))
legacy = [{"Config": blob(manifest["config"]), "RepoTags": [tag],
           "Layers": [blob(layer) for layer in manifest["layers"]]}]
data = json.dumps(legacy).encode()
info = tarfile.TarInfo("manifest.json")
info.size, info.mode = len(data), 0o644
with tarfile.open(archive, "a") as tar:
    tar.addfile(info, io.BytesIO(data))
PY
mv "$WORK/image.tar" "$ARCHIVE"
echo "build.sh: $ARCHIVE ($TAG, $(du -m "$ARCHIVE" | cut -f1) MB)"

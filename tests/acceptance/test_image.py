"""The OCI image (issue 18, item 1), built by deploy/image/build.sh and tried without a
container runtime, which these machines cannot run: its configuration is read from the
archive and `podman load` takes it; then its file system is entered with chroot, as the
image's user, with the image's environment, working directory and command, the way a
runtime would start it. There `pilotgate db upgrade` makes an empty database in the volume,
and `pilotgate serve` answers an API-1 send and a check over loopback.

The build needs root, mmdebstrap, podman and Debian's mirror, and takes a minute or two
(the Debian base is cached under PILOTGATE_IMAGE_CACHE, default /var/cache/pilotgate-image,
keyed by the script's hash: later builds only install the wheel). Without root or those
tools the tests skip with the reason; PILOTGATE_SKIP_IMAGE=1 skips them on purpose."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from .support import TELE2, TELE2_PRICE, Api, stop_process

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "deploy" / "image" / "build.sh"
VOLUME = "/var/lib/pilotgate"
BANNER = re.compile(r"^PilotGate listening on (http://127\.0\.0\.1:\d+)$")
#: What a runtime gives a container's /dev (the image ships it empty).
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9)}


@dataclass(frozen=True)
class Image:
    archive: Path
    rootfs: Path
    config: dict[str, Any]  #: the OCI image config's `config` object (Cmd, User, Env…)


def _oci_config(archive: Path) -> dict[str, Any]:
    """The image config of the one image in an OCI archive, found as a loader finds it:
    index.json → manifest → config, each by its digest."""
    with tarfile.open(archive) as tar:

        def blob(digest: str) -> Any:
            member = tar.extractfile("blobs/" + digest.replace(":", "/"))
            assert member is not None, digest
            return json.load(member)

        index_file = tar.extractfile("index.json")
        assert index_file is not None
        (entry,) = json.load(index_file)["manifests"]
        assert entry["annotations"]["org.opencontainers.image.ref.name"].startswith(
            "localhost/pilotgate:"
        )
        manifest = blob(entry["digest"])
        return dict(blob(manifest["config"]["digest"]))


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    if os.environ.get("PILOTGATE_SKIP_IMAGE") == "1":
        pytest.skip("PILOTGATE_SKIP_IMAGE=1")
    if os.geteuid() != 0:
        pytest.skip("building the image and chroot need root")
    for tool in ("mmdebstrap", "podman", "chroot"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed on this machine")
    folder = tmp_path_factory.mktemp("image")
    archive, rootfs = folder / "pilotgate.oci.tar", folder / "rootfs"
    env = {
        **os.environ,
        "PILOTGATE_IMAGE_ROOTFS": str(rootfs),
        "PILOTGATE_IMAGE_CACHE": os.environ.get(
            "PILOTGATE_IMAGE_CACHE", "/var/cache/pilotgate-image"
        ),
    }
    done = subprocess.run(
        [str(BUILD), str(archive)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"build.sh: {archive} (localhost/pilotgate:" in done.stdout
    yield Image(archive, rootfs, _oci_config(archive)["config"])
    # 350 MB a build: not left for pytest's last-three-runs folders (never while anything
    # is still mounted in it).
    assert not any(os.path.ismount(rootfs / name) for name in ("proc", "dev"))
    shutil.rmtree(rootfs)


@contextlib.contextmanager
def container_mounts(rootfs: Path) -> Iterator[None]:
    """/proc and a /dev of its own (a tmpfs with the usual devices), unmounted whatever
    happens. A tmpfs rather than a bind of the host's /dev: removing the file system
    later can then never reach the host's devices."""
    mounted: list[Path] = []
    try:
        for target, args in (
            (rootfs / "proc", ["-t", "proc", "proc"]),
            (rootfs / "dev", ["-t", "tmpfs", "-o", "mode=755,size=64k", "tmpfs"]),
        ):
            subprocess.run(["mount", *args, str(target)], check=True, timeout=30)
            mounted.append(target)
        for name, (major, minor) in DEVICES.items():
            os.mknod(rootfs / "dev" / name, 0o20666, os.makedev(major, minor))
            os.chmod(rootfs / "dev" / name, 0o666)  # mknod's mode goes through the umask
        yield
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", str(target)], check=True, timeout=30)
        assert not any(os.path.ismount(target) for target in mounted)


class Container:
    """A process of the image as a runtime starts it: chrooted into its file system, as its
    User, in its WorkingDir, with its Env (plus `-e` style overrides) and nothing else."""

    def __init__(self, image: Image, overrides: Mapping[str, str]) -> None:
        self.image = image
        self.env = dict(item.split("=", 1) for item in image.config["Env"])
        self.env.update(overrides)

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        # chroot(8), then env and sh inside the image, each exec'ing the next: the command
        # keeps the process that the test signals. (Not preexec_fn: unsafe with threads.)
        user = self.image.config["User"]  # uid:gid
        chroot = shutil.which("chroot") or "chroot"  # found here: the child has no PATH
        enter = [chroot, f"--userspec={user}", f"--groups={user.split(':')[1]}"]
        inside = ["/usr/bin/env", "-i", *(f"{name}={value}" for name, value in self.env.items())]
        into_workdir = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', self.image.config["WorkingDir"]]
        return subprocess.Popen(
            [*enter, str(self.image.rootfs), *inside, *into_workdir, *argv],
            env={},
            text=True,
            encoding="utf-8",
            **kwargs,
        )

    def run(self, *argv: str) -> str:
        process = self.popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = process.communicate(timeout=120)
        finally:
            stop_process(process)
        assert process.returncode == 0, (argv, out)
        return out


def test_the_image_runs_pilotgate_serve_as_pilotgate_with_its_data_in_one_volume(
    image: Image,
) -> None:
    config = image.config
    assert config["Cmd"] == ["pilotgate", "serve"]
    assert config["ExposedPorts"] == {"8000/tcp": {}}
    assert config["Volumes"] == {VOLUME: {}}
    assert config["WorkingDir"] == VOLUME
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PILOTGATE_HOST"] == "0.0.0.0"  # a container's port is published
    assert env["PILOTGATE_DATABASE_URL"] == f"sqlite:///{VOLUME}/pilotgate.db"
    assert env["PILOTGATE_SPEECH_CACHE_DIR"].startswith(VOLUME + "/")
    assert env["PATH"].startswith("/opt/pilotgate/bin:")
    # The user is pilotgate, by number (so an orchestrator can tell it is not root).
    assert config["User"] == "10001:10001"
    passwd = (image.rootfs / "etc" / "passwd").read_text(encoding="utf-8")
    assert f"pilotgate:x:10001:10001::{VOLUME}:/usr/sbin/nologin" in passwd.splitlines()
    volume = (image.rootfs / VOLUME.lstrip("/")).stat()
    assert (volume.st_uid, volume.st_gid) == (10001, 10001)
    # Voice calls' speech synthesis is inside, and the wheel's pinned versions are recorded.
    assert (image.rootfs / "usr" / "bin" / "espeak-ng").exists()
    lock = (image.rootfs / "opt" / "pilotgate" / "requirements.lock").read_text("utf-8")
    assert "aiohttp==3.14.5" in lock.splitlines()
    assert re.search(r"^pilotgate[ =@]", lock, re.M), lock
    assert list((image.rootfs / "dev").iterdir()) == []


def test_the_archive_also_names_the_image_as_docker_before_25_reads_it(
    image: Image, tmp_path: Path
) -> None:
    with tarfile.open(image.archive) as tar:
        names = set(tar.getnames())
        listed = tar.extractfile("manifest.json")
        assert listed is not None
        (entry,) = json.load(listed)
        config = tar.extractfile(entry["Config"])
        assert config is not None
        assert json.load(config)["config"] == image.config
    assert re.fullmatch(r"localhost/pilotgate:\d+\.\d+\.\d+(\.dev\d+)?", entry["RepoTags"][0])
    assert entry["Layers"] and set(entry["Layers"]) <= names
    # A reader of Docker's format (skopeo's docker-archive, not its OCI one) copies it whole.
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed on this machine")
    copied = subprocess.run(
        ["skopeo", "copy", "--quiet", f"docker-archive:{image.archive}", f"dir:{tmp_path}/copy"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert copied.returncode == 0, copied.stderr
    assert len(list((tmp_path / "copy").iterdir())) == 4  # config, layer, manifest, version


def test_podman_loads_the_archive(image: Image) -> None:
    # A store of its own, removed after; podman wants its runroot path short.
    folder = Path(tempfile.mkdtemp(prefix="pgimg-", dir="/tmp"))
    store = ["--root", str(folder / "store"), "--runroot", str(folder / "run")]
    podman = ["podman", *store, "--storage-driver", "vfs"]
    try:
        loaded = subprocess.run(
            [*podman, "load", "--input", str(image.archive)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert loaded.returncode == 0, loaded.stderr
        assert re.search(r"^Loaded image: localhost/pilotgate:\S+$", loaded.stdout, re.M)
        name = loaded.stdout.strip().rsplit(" ", 1)[1]
        shown = subprocess.run(
            [*podman, "image", "inspect", "--format", "{{.Config.User}} {{.Config.Cmd}}", name],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert shown.stdout.strip() == "10001:10001 [pilotgate serve]"
    finally:
        # vfs layers may hold read-only folders: make them removable first.
        subprocess.run(["chmod", "-R", "u+w", str(folder)], check=False, timeout=120)
        shutil.rmtree(folder)


class Output(threading.Thread):
    """Drains a process's output, so that waiting for a line can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()

    def run(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def banner(self) -> str:
        """The URL `pilotgate serve` says it listens on."""
        seen = []
        while (line := self.lines.get(timeout=60)) is not None:
            seen.append(line)
            if match := BANNER.match(line):
                return match.group(1)
        raise AssertionError(f"pilotgate serve ended before listening:\n{seen}")


def test_in_the_image_an_empty_database_is_upgraded_and_serve_answers_send_and_check(
    image: Image,
) -> None:
    database = image.rootfs / VOLUME.lstrip("/") / "pilotgate.db"
    assert not database.exists()
    # As `docker run -e …`: loopback and a free port for this machine, a quick emulator.
    container = Container(
        image,
        {"PILOTGATE_HOST": "127.0.0.1", "PILOTGATE_PORT": "0", "PILOTGATE_EMULATOR_DELAY": "0.2"},
    )
    with container_mounts(image.rootfs):
        assert "schema is up to date" in container.run("pilotgate", "db", "upgrade")
        assert (database.stat().st_uid, database.exists()) == (10001, True)
        created = container.run(
            "pilotgate", "account", "create", "--email", "shop@example.com",
            "--password", "Tr4vel-Light-Moon", "--balance", "100",
        )  # fmt: skip
        key = re.search(r"^apikey ([A-Za-z0-9]{64})$", created, re.M)
        assert key, created
        server = container.popen(
            container.image.config["Cmd"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = Output(server)
        output.start()
        try:
            url = output.banner()
            with httpx.Client(timeout=30.0) as http:
                api = Api(http, url, key.group(1))
                sent = api.json(send="Hello", to=TELE2)
                item = sent["send"][0]
                assert (item["phone"], item["status"], Decimal(item["price"])) == (
                    TELE2, "0", TELE2_PRICE,
                )  # fmt: skip
                assert Decimal(sent["balance"]) == Decimal("100") - TELE2_PRICE
                assert api.wait_status(item["server_id"])["status"] == "2"
        finally:
            code = stop_process(server)
            output.join(30)
            assert server.stdout is not None
            server.stdout.close()
        assert code == 0

"""`scripts/install` says which Debian packages it installs, and why, before it installs them
(issue 12). Run against a stand-in `apt-get` on a PATH where none of the programs exist."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "debian-packages"
#: A module, not a program: found by its path, which hiding programs does not hide.
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")
BEARERBOX = Path("/usr/sbin/bearerbox")  # Kannel's, checked by path: /usr/sbin may not be on PATH


def _path_without_the_programs(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    bin_dir.mkdir()
    for tool in ("env", "id"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    stubs = {
        # apt-get records what it was asked, and when: after the announcement or not.
        "apt-get": f'#!/bin/sh\necho "apt-get $*" >> {log}\n',
        "sudo": '#!/bin/sh\nexec "$@"\n',
    }
    for name, text in stubs.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir, log


def test_it_says_what_it_installs_and_why_before_installing(tmp_path: Path) -> None:
    bin_dir, log = _path_without_the_programs(tmp_path)
    done = subprocess.run(
        [str(SCRIPT), "--dev"],
        env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    why = {
        "espeak-ng": "speech synthesis for voice calls (from=GOLOS)",
        "sip-tester": "SIPp, the SIP peer of the tests",
        "chromium": "the browser of the dashboard's tests",
        "nginx-light": "the TLS proxy of the production tests (deploy/nginx)",
        "prometheus": "promtool, which checks the shipped alert rules (deploy/prometheus)",
        "systemd": "systemd-analyze, which verifies the shipped units (deploy/systemd)",
        "mmdebstrap": "the Debian file system of the OCI image (deploy/image)",
        "podman": "packs and loads the OCI image (deploy/image), running no container",
        "skopeo": "reads the OCI image's archive as Docker's format (deploy/image)",
        "libnginx-mod-stream": "nginx's TCP proxy, in front of SMPP (deploy/nginx)",
        "pgbouncer": "PgBouncer, the transaction pooler of the scaling tests",
        "kannel": "Kannel, an SMS gateway binding to PilotGate's SMPP server in the tests",
    }
    if STREAM_MODULE.exists():
        del why["libnginx-mod-stream"]
    if BEARERBOX.exists():
        del why["kannel"]
    assert done.stdout.splitlines() == [
        "scripts/install: installing Debian packages with apt-get:",
        *(f"  {package}: {reason}" for package, reason in why.items()),
    ]
    # It waits for another install's dpkg lock rather than fail.
    assert log.read_text().splitlines() == [
        f"apt-get -y -q -o DPkg::Lock::Timeout=600 install {' '.join(why)}"
    ]


def test_it_says_nothing_when_nothing_is_missing(tmp_path: Path) -> None:
    bin_dir, log = _path_without_the_programs(tmp_path)
    (bin_dir / "espeak-ng").write_text("#!/bin/sh\n")
    (bin_dir / "espeak-ng").chmod(0o755)
    done = subprocess.run(
        [str(SCRIPT)],
        env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, log.exists()) == (0, "", False)

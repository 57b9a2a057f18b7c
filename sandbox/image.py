"""The sandbox image: its name, and how to build it with or without a container registry.

The image is ``sandbox/container/Dockerfile`` (a python3, the runner, the
zygote, the judge, the program's side of a test run and their wire format)
built on a base image. Its tag is a hash of the files it is
made of, so a change to the runner makes a new tag and building is cached:
``build_image`` returns at once when the tag exists.

The base comes from one of two places:

* online: ``python:3.11-slim-bookworm`` from Docker Hub;
* offline (no registry reachable): a minimal Debian root file system with
  python3 made by ``debootstrap`` from Debian's package mirror, then
  ``docker import``-ed as ``rlvr-sandbox-base:bookworm``. Needs root and the
  debootstrap program (``apt-get install debootstrap``); about a minute.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlvr.sandbox.errors import SandboxUnavailable

__all__ = ["BASE_IMAGE", "CONTEXT", "ONLINE_BASE", "build_base_offline", "build_image", "image_exists", "image_tag"]

CONTEXT = Path(__file__).parent / "container"
"""The build context: the Dockerfile and the container's Python files."""
REPOSITORY = "rlvr-sandbox"
ONLINE_BASE = "python:3.11-slim-bookworm"
BASE_IMAGE = "rlvr-sandbox-base:bookworm"
"""The offline base, made by ``build_base_offline``."""
DEBIAN_MIRROR = "http://deb.debian.org/debian"
TRIM = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists")


def image_tag() -> str:
    """``rlvr-sandbox:<hash of the build context>``, the image this version of the package runs."""
    digest = hashlib.sha256()
    for path in sorted(CONTEXT.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{REPOSITORY}:{digest.hexdigest()[:12]}"


def image_exists(client: Any, name: str) -> bool:
    """True when the engine has an image called ``name``."""
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def build_image(client: Any, *, offline: bool | None = None, log: Callable[[str], None] = print) -> str:
    """Build the sandbox image unless it exists; return its tag.

    Args:
        client: a ``docker.DockerClient``.
        offline: True to use the debootstrap base, False to pull
            ``python:3.11-slim-bookworm``; None (default) uses the offline base
            if it exists, else tries the pull, else builds the offline base.
        log: where progress lines go.

    Raises:
        SandboxUnavailable: the image could not be built; the message says why and what to do.
    """
    import docker.errors

    tag = image_tag()
    if image_exists(client, tag):
        return tag
    base = _choose_base(client, offline, log)
    log(f"sandbox: building {tag} on {base}")
    try:
        client.images.build(path=str(CONTEXT), tag=tag, buildargs={"BASE": base}, pull=False, rm=True, forcerm=True)
    except (docker.errors.BuildError, docker.errors.APIError) as error:
        raise SandboxUnavailable(f"building the sandbox image {tag} on {base} failed: {error}") from None
    log(f"sandbox: {tag} ready")
    _remove_older_tags(client, tag)
    return tag


def _remove_older_tags(client: Any, keep: str) -> None:
    """Remove images of earlier versions of the sandbox (other ``rlvr-sandbox:*`` tags) that no container uses."""
    import docker.errors

    for image in client.images.list(name=REPOSITORY):
        for tag in image.tags:
            if tag != keep and tag.startswith(REPOSITORY + ":"):
                with contextlib.suppress(docker.errors.APIError):  # in use by a container: kept
                    client.images.remove(tag)


def _choose_base(client: Any, offline: bool | None, log: Callable[[str], None]) -> str:
    import docker.errors

    if offline is not False and image_exists(client, BASE_IMAGE):
        return BASE_IMAGE
    if offline is not True:
        if image_exists(client, ONLINE_BASE):
            return ONLINE_BASE
        log(f"sandbox: pulling {ONLINE_BASE}")
        try:
            client.images.pull(ONLINE_BASE)
            return ONLINE_BASE
        except docker.errors.APIError as error:
            if offline is False:
                raise SandboxUnavailable(
                    f"could not pull {ONLINE_BASE} ({error}); build offline instead: rlvr sandbox build --offline"
                ) from None
            log(f"sandbox: no registry reachable ({str(error).splitlines()[0][:120]}); building the base offline")
    return build_base_offline(client, log=log)


def build_base_offline(
    client: Any, *, suite: str = "bookworm", mirror: str = DEBIAN_MIRROR, log: Callable[[str], None] = print
) -> str:
    """Make ``rlvr-sandbox-base:<suite>`` from Debian packages: debootstrap a minimal system with python3, import it.

    Raises:
        SandboxUnavailable: no debootstrap, not root, or the mirror unreachable.
    """
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if debootstrap is None:
        raise SandboxUnavailable("building the sandbox base offline needs debootstrap: apt-get install debootstrap")
    name = f"{BASE_IMAGE.split(':')[0]}:{suite}"
    with tempfile.TemporaryDirectory(prefix="rlvr-sandbox-base-") as scratch:
        root = Path(scratch) / "root"
        log(f"sandbox: debootstrap {suite} with python3 from {mirror} (about a minute)")
        command = [debootstrap, "--variant=minbase", "--include=python3", suite, str(root), mirror]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise SandboxUnavailable(
                f"debootstrap failed (exit {done.returncode}; it needs root and the Debian mirror):\n"
                + (done.stderr or done.stdout)[-2000:]
            )
        for part in TRIM:
            shutil.rmtree(root / part, ignore_errors=True)
        archive = Path(scratch) / "root.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(archive), "."], check=True)
        log(f"sandbox: importing the root file system as {name}")
        repository, tag = name.split(":")
        client.api.import_image(src=str(archive), repository=repository, tag=tag)
    return name

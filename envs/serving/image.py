"""A container image that serves envs (``rlvr serve --build-image``), built offline like the sandbox's.

The image is the sandbox's offline base (a minimal Debian with its python3,
made by ``debootstrap`` and ``docker import``: ``rlvr.sandbox.image``) with
rlvr-gym and the extras it serves installed by this machine's pip into
``/opt/rlvr-serve/lib`` (``pip install --target``, from the package index this
machine uses), so building it needs no container registry. Its entry point is
``python3 -m rlvr serve --host 0.0.0.0``; the arguments of ``docker run`` are
``rlvr serve``'s:

    docker run -d --network host rlvr-serve:0.1.0 --env rlvr/Math-v0 --port 8001

The image has no Docker engine of its own: a code env served from it runs its
sandbox on the host's engine (``-v /var/run/docker.sock:/var/run/docker.sock``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_EXTRAS", "DOCKERFILE", "REPOSITORY", "build_serving_image"]

REPOSITORY = "rlvr-serve"
DEFAULT_EXTRAS = ("math", "tools", "code")
"""What the image can serve besides Arithmetic: math, function calling and the code envs."""
DOCKERFILE = """\
ARG BASE
FROM ${BASE}
COPY lib /opt/rlvr-serve/lib
ENV PYTHONPATH=/opt/rlvr-serve/lib PYTHONDONTWRITEBYTECODE=1
EXPOSE 8000
ENTRYPOINT ["python3", "-m", "rlvr", "serve", "--host", "0.0.0.0"]
"""


def build_serving_image(
    client: Any, extras: Sequence[str] = DEFAULT_EXTRAS, *, log: Callable[[str], None] = print
) -> str:
    """Build ``rlvr-serve:<version>`` with rlvr-gym and ``extras``; its tag.

    Args:
        client: a ``docker.DockerClient``.
        extras: rlvr-gym's extras to install besides ``serve`` (the envs the image can serve need theirs).
        log: where progress lines go.

    Raises:
        RuntimeError: this Python is not the base image's (3.11), pip failed, or the build failed.
        SandboxUnavailable: the offline base could not be made.
    """
    import docker.errors

    from rlvr.sandbox.image import BASE_IMAGE, build_base_offline, image_exists

    if sys.version_info[:2] != (3, 11):
        raise RuntimeError(f"the image runs Debian 12's Python 3.11; build it with Python 3.11, not {sys.version}")
    if not image_exists(client, BASE_IMAGE):
        build_base_offline(client, log=log)
    tag = f"{REPOSITORY}:{_version()}"
    requirement = f"{_project()}[{','.join(['serve', *extras])}]"
    with tempfile.TemporaryDirectory(prefix="rlvr-serve-image-") as context:
        log(f"serve image: installing {requirement} into the image's library (pip install --target)")
        command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target"]
        done = subprocess.run([*command, str(Path(context) / "lib"), requirement], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"pip could not install {requirement}:\n{(done.stderr or done.stdout)[-2000:]}")
        (Path(context) / "Dockerfile").write_text(DOCKERFILE)
        log(f"serve image: building {tag} on {BASE_IMAGE}")
        try:
            client.images.build(path=context, tag=tag, buildargs={"BASE": BASE_IMAGE}, pull=False, rm=True)
        except (docker.errors.BuildError, docker.errors.APIError) as error:
            raise RuntimeError(f"building {tag} failed: {error}") from None
    log(f"serve image: {tag} ready; run it with: docker run -d --network host {tag} --env ID --port PORT")
    return tag


def _project() -> str:
    """What pip installs: this checkout when rlvr-gym runs from one, else the released version by name."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "rlvr").is_dir():
        return str(root)
    return f"rlvr-gym=={_version()}"


def _version() -> str:
    """The installed rlvr-gym's version."""
    from importlib.metadata import version

    return version("rlvr-gym")

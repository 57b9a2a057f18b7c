"""``rlvr sandbox``: build the image, check the confinement, show the state.

rlvr sandbox build [--offline]   build the image unless it exists (offline: debootstrap + docker import)
rlvr sandbox check               fire the attack suite; exit 1 if any attack is not contained
rlvr sandbox status              the engine, the image, and sandbox containers alive
"""

from __future__ import annotations

import argparse
import sys
import time

from rlvr.sandbox.errors import SandboxUnavailable

__all__ = ["add_sandbox_arguments", "run_sandbox"]


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``rlvr sandbox`` sub-commands and their options."""
    actions = parser.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="build the sandbox image unless it exists")
    where = build.add_mutually_exclusive_group()
    where.add_argument("--offline", action="store_true", help="build the base from Debian packages (debootstrap)")
    where.add_argument("--online", action="store_true", help="pull python:3.11-slim-bookworm as the base")
    check = actions.add_parser("check", help="fire the attack suite; exit 1 if any limit does not hold")
    check.add_argument("--only", nargs="+", metavar="ATTACK", help="run only these attacks")
    actions.add_parser("status", help="show the engine, the image and live sandbox containers")


def run_sandbox(args: argparse.Namespace) -> int:
    """Run one ``rlvr sandbox`` action; the exit code (1: an attack was not contained; 2: no sandbox)."""
    try:
        return {"build": _build, "check": _check, "status": _status}[args.action](args)
    except SandboxUnavailable as error:
        print(f"rlvr sandbox {args.action}: {error}", file=sys.stderr)
        return 2


def _build(args: argparse.Namespace) -> int:
    from rlvr.sandbox.image import build_image
    from rlvr.sandbox.pool import connect

    offline = True if args.offline else False if args.online else None
    print(build_image(connect(), offline=offline))
    return 0


def _check(args: argparse.Namespace) -> int:
    from rlvr.sandbox.attacks import ATTACKS, run_attack
    from rlvr.sandbox.config import SandboxConfig
    from rlvr.sandbox.pool import SandboxPool

    attacks = [attack for attack in ATTACKS if not args.only or attack.name in args.only]
    unknown = set(args.only or ()) - {attack.name for attack in ATTACKS}
    if unknown:
        print(f"unknown attack(s) {sorted(unknown)}; choose from {[a.name for a in ATTACKS]}", file=sys.stderr)
        return 2
    failed = []
    with SandboxPool(SandboxConfig(pool_size=1)) as pool:  # one container: every attack hits the one after it
        print(f"image {pool.image}; {len(attacks)} attacks, each followed by honest programs on the same container")
        for attack in attacks:
            start = time.monotonic()
            held, detail = run_attack(pool, attack)
            mark = "contained" if held else "NOT CONTAINED"
            seconds = time.monotonic() - start
            print(f"{mark:>14}  {attack.kind:<9} {attack.name:<20} {seconds:5.1f} s  {attack.what}: {detail}")
            if not held:
                failed.append(attack.name)
    if failed:
        print(f"FAIL: {len(failed)} attack(s) not contained: {', '.join(failed)}. Do not run untrusted code here.")
        return 1
    print(f"ok: all {len(attacks)} attacks contained")
    return 0


def _status(args: argparse.Namespace) -> int:
    from rlvr.sandbox.image import image_exists, image_tag
    from rlvr.sandbox.pool import LABEL, connect

    client = connect()
    version = client.version()
    tag = image_tag()
    print(f"engine: Docker {version.get('Version')} ({version.get('Os')}/{version.get('Arch')})")
    print(f"image: {tag} {'present' if image_exists(client, tag) else 'MISSING (rlvr sandbox build)'}")
    alive = client.containers.list(filters={"label": LABEL})
    print(f"sandbox containers alive: {len(alive)}")
    return 0

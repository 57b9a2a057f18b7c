"""``rlvr serve``: serve a registered env over the network, as an OpenEnv environment."""

from __future__ import annotations

import argparse

from rlvr.envs.cli.arguments import add_env_options_argument, add_import_argument, env_options
from rlvr.envs.core.errors import ConfigError
from rlvr.envs.core.plugins import import_modules
from rlvr.envs.serving.image import DEFAULT_EXTRAS

__all__ = ["add_serve_arguments", "run_serve"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``rlvr serve``: ``--env``, ``--env-options``, ``--host``, ``--port``, ``--max-sessions``."""
    parser.add_argument("--env", help="the env id to serve (see `rlvr envs`)")
    add_env_options_argument(parser, "the env's options as JSON; clients must name the same")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--max-sessions", type=int, default=256, help="sessions (WebSocket connections, each its own env) at once"
    )
    add_import_argument(parser)
    parser.add_argument(
        "--build-image",
        action="store_true",
        help="build the serving container image (rlvr-serve:<version>, offline) instead of serving",
    )
    parser.add_argument(
        "--extras",
        default=",".join(DEFAULT_EXTRAS),
        help="with --build-image: rlvr-gym's extras to install in it, comma-separated (the envs it can serve)",
    )


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; a wrong env id or option is refused before anything is served. With
    ``--build-image``, build the serving image instead."""
    if args.build_image:
        from rlvr.envs.serving.image import build_serving_image
        from rlvr.sandbox.pool import connect

        build_serving_image(connect(), [extra for extra in args.extras.split(",") if extra])
        return 0
    if not args.env:
        raise ConfigError("name the env to serve with --env ID (see `rlvr envs`)")
    from rlvr.envs.serving.server import serve

    import_modules(args.imports)
    options = env_options(args.env_options)
    print(f"rlvr serve: {args.env} on http://{args.host}:{args.port} (OpenEnv: /ws, /reset, /step, /health)")
    serve(args.env, options, host=args.host, port=args.port, max_sessions=args.max_sessions)
    return 0

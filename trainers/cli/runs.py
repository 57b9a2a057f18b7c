"""``rlvr runs PATH...``: a table of training runs and one figure overlaying their curves."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

__all__ = ["add_runs_arguments", "run_runs"]


def add_runs_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``rlvr runs``."""
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="run directories (an output_dir), or directories whose subdirectories are runs",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE",
        default=None,
        help="where to write the figure (default: runs.png in the runs' common parent directory)",
    )
    parser.add_argument("--no-plot", action="store_true", help="print the table only")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run instead of the table")


def run_runs(args: argparse.Namespace) -> int:
    """Print the table (or JSON lines) of the runs under ``args.paths`` and write the figure. Returns 0.

    Raises:
        SystemExit: a path that holds no run, or a corrupt metrics file (one line naming it).
    """
    from rlvr.trainers.run.report import NotARunError, find_runs, format_table, plot_runs, summarize_run

    try:
        summaries = [summarize_run(path) for path in find_runs(args.paths)]
    except (NotARunError, ValueError) as error:
        raise SystemExit(f"rlvr runs: {error}") from None
    if args.json:
        for s in summaries:
            fields = {k: v for k, v in vars(s).items() if k != "records"}
            print(json.dumps({**fields, "path": str(s.path)}))
    else:
        print(format_table(summaries))
    if not args.no_plot:
        out = Path(args.plot) if args.plot else _common_parent([s.path for s in summaries]) / "runs.png"
        print(f"curves of {len(summaries)} run{'s' if len(summaries) != 1 else ''}: {plot_runs(summaries, out)}")
    return 0


def _common_parent(paths: list[Path]) -> Path:
    """The deepest directory holding every run directory (the current directory if they share none)."""
    try:
        return Path(os.path.commonpath([p.resolve().parent for p in paths]))
    except ValueError:
        return Path.cwd()

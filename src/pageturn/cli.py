"""Command line: `pageturn serve` and its settings."""
from __future__ import annotations

import argparse
import os
import sys

from . import __version__, logs, memtrace
from .config import Settings, env_name, load_settings


def _serve_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "serve", help="start the server",
        description="Start the pageturn server. Every setting below can also come from the environment "
                    "variable shown, or from a TOML file given with --config (keys are the setting names with "
                    "underscores). Flags win over the environment, which wins over the file.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", help="TOML settings file (also PAGETURN_CONFIG)")
    defaults = Settings()
    for f in Settings.fields():
        flag = "--" + f.name.replace("_", "-")
        kind = f.metadata["kind"]
        default = getattr(defaults, f.name)
        text = f"{f.metadata['help']} [{env_name(f.name)}]"
        if kind == "bool":
            parser.add_argument(flag, dest=f.name, default=None, action=argparse.BooleanOptionalAction,
                                help=text + f" (default: {default})")
        else:
            parser.add_argument(flag, dest=f.name, default=None, metavar=kind.upper(),
                                help=text + f" (default: {default})")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pageturn", description="pageturn: self-hosted document viewing server (PrizmDoc Server REST API "
                                     "and Zoho Office Integrator Writer API compatible).")
    parser.add_argument("--version", action="version", version=f"pageturn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


def serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from .app import build_app

    overrides = {f.name: getattr(args, f.name) for f in Settings.fields()}
    try:
        settings = load_settings(args.config, overrides)
    except (ValueError, OSError) as exc:
        print(f"pageturn: {exc}", file=sys.stderr)
        return 2
    # documents, records and cached pages are private to the server's user: files 0600, directories 0700
    os.umask(0o077)
    try:
        logs.configure(settings.log_level, settings.log_format)
    except ValueError as exc:
        print(f"pageturn: {exc}", file=sys.stderr)
        return 2
    memtrace.install()  # only with PAGETURN_TRACEMALLOC set (a debugging aid)
    try:
        app = build_app(settings)
    except ValueError as exc:  # a setting that only shows its problem when used, such as a bad metadata URL
        print(f"pageturn: {exc}", file=sys.stderr)
        return 2
    print(f"pageturn {__version__} listening on http://{settings.host}:{settings.port}/ "
          f"(data in {settings.data_dir.resolve()})", flush=True)
    # run_app handles SIGINT and SIGTERM: it stops accepting, lets in-flight requests finish, then cleans up
    web.run_app(app, host=settings.host, port=settings.port, print=None, shutdown_timeout=30,
                access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())

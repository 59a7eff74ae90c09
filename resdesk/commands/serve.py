"""``resdesk serve``: the workspace for the business unit and auditors, under waitress."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the workspace (web app) for the business unit and auditors",
        description="Serve the workspace on the case file the settings name. Put a reverse proxy with TLS "
        "in front (set web.proxy_hops); sign-in needs a user made with `resdesk users add`.",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--host", help="address to listen on (default web.host)")
    parser.add_argument("--port", type=int, help="port to listen on (default web.port)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from resdesk.counting import share_counters
    from resdesk.settings import load_settings

    settings = load_settings(args.config)
    share_counters(settings)  # before the workspace is imported: it makes the counters

    import waitress

    from resdesk.wiring import open_store_for

    store = open_store_for(settings)
    host, port = args.host or settings.web.host, args.port or settings.web.port
    try:
        app = workspace_app(settings, store)
        print(f"resdesk: serving the workspace on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
        waitress.serve(app, host=host, port=port, threads=settings.web.threads, ident="resdesk")
    finally:
        store.close()
    return 0


def workspace_app(settings, store):
    """The WSGI app ``resdesk serve`` runs: the workspace, with ``/healthz`` and ``/metrics`` in front."""
    from resdesk.monitoring import with_monitoring
    from resdesk.protocols import default_registry
    from resdesk.web import create_app
    from resdesk.wiring import build_processor, configure_rendering

    configure_rendering(settings)  # the record and report PDFs it makes render under limits.render_*
    app = create_app(settings, store, processor=build_processor(settings, store))
    return with_monitoring(app, store, settings, default_registry(settings.partnership.protocols_dir))

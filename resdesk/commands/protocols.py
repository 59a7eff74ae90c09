"""``resdesk protocols`` and ``resdesk protocols show ID``."""

from __future__ import annotations

import argparse

_FROM = {"stage-start": "the stage's start", "stage-due": "the stage's due time", "resolution": "the resolution"}


def register(subparsers) -> None:
    parser = subparsers.add_parser("protocols", help="list the protocols, or show one")
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run_list)
    inner = parser.add_subparsers(dest="protocols_command", metavar="show", parser_class=type(parser))
    show = inner.add_parser("show", help="a protocol's stages, timescales, notices and forms")
    show.add_argument("protocol", metavar="ID")
    show.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    show.set_defaults(handler=run_show)


def registry_for(args: argparse.Namespace):
    """The shipped protocols plus the partnership's own folder, if the settings name one."""
    from resdesk.protocols import default_registry
    from resdesk.settings import load_settings

    from resdesk.wiring import configure_rendering

    settings = load_settings(getattr(args, "config", None))
    configure_rendering(settings)
    return default_registry(settings.partnership.protocols_dir), settings


def run_list(args: argparse.Namespace) -> int:
    from resdesk.output import print_json, print_table

    registry, _ = registry_for(args)
    summary = [
        {
            "id": p.id,
            "name": p.name,
            "title": p.title,
            "version": p.version,
            "nation": p.nation.value,
            "stages": [s.label for s in p.stages],
        }
        for p in registry
    ]
    if args.json:
        print_json(summary)
        return 0
    print_table(
        ["ID", "PARTNERSHIP", "STAGES", "VERSION"],
        [[p["id"], p["name"], ", ".join(p["stages"]), p["version"]] for p in summary],
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from resdesk.output import print_json

    registry, _ = registry_for(args)
    protocol = registry.get(args.protocol)
    if args.json:
        document = protocol.model_dump(mode="json")
        for stage, dumped in zip(protocol.stages, document["stages"]):
            dumped["basis"] = stage.timescale.basis
        print_json(document)
        return 0
    print(f"{protocol.name} — {protocol.title} ({protocol.version})")
    print(f"Nation for bank holidays: {protocol.nation.value}. Source: {protocol.source_document}.")
    print(f"Cumulative targets count from: {protocol.case_start}")
    for stage in protocol.stages:
        print()
        print(f"Stage {stage.label}: {stage.name}")
        print(f"  Involved:        {'; '.join(stage.involved)}")
        print(f"  Timescale:       {stage.timescale.basis}"
              + (f" ({stage.timescale.no_fixed_timescale})" if stage.timescale.no_fixed_timescale else ""))
        print(f"                   [{stage.sources['timescale']}]")
        if stage.cumulative_working_days is not None:
            print(f"  Cumulative:      by working day {stage.cumulative_working_days}  [{stage.sources['cumulative']}]")
        if stage.summary_subject:
            print(f"  Summary subject: {stage.summary_subject}")
        if stage.forms:
            print(f"  Forms:           {', '.join(stage.forms)}")
        for notification in stage.notify:
            condition = f", if {notification.condition.value}" if notification.condition else ""
            condition += f", unless {notification.unless.value}" if notification.unless else ""
            print(f"  Notify {notification.when}: {notification.recipient} [contact: {notification.contact}]"
                  f" — {notification.notice.value}{condition}")
            if notification.published_address:
                print(f"                   the partnership's own published address: {notification.published_address}"
                      " (mailed only when the settings name it)")
            print(f"                   [{notification.source}]")
        for deadline in stage.deadlines:
            condition = f", if {deadline.condition.value}" if deadline.condition else ""
            print(f"  Deadline:        {deadline.what}: {deadline.timescale.basis} from {_FROM[deadline.counts_from]}"
                  f"{condition}")
            print(f"                   [{deadline.source}]")
        if stage.if_unresolved:
            print(f"  If unresolved:   {stage.if_unresolved}")
    return 0

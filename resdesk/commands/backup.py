"""``resdesk backup DIR`` and ``resdesk restore DIR``: the case file and its archive, with a manifest."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="copy the case file and the archive into an empty folder, with a manifest of SHA-256 hashes",
        description="Copy the case file (SQLite's online backup, or pg_dump for PostgreSQL) and the archive into "
        "DIR, which must be empty or new, with manifest.json listing every file's SHA-256. Safe while the "
        "watcher runs.",
    )
    backup.add_argument("directory", metavar="DIR")
    backup.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    backup.add_argument("--json", action="store_true", help="print the manifest as one JSON document")
    backup.set_defaults(handler=run_backup)

    restore = subparsers.add_parser(
        "restore",
        help="restore a backup into an empty case file and archive folder, then verify it",
        description="Check every file of the backup in DIR against its manifest, restore it into the case file "
        "and archive folder the settings name (both must be empty), and verify the audit chain and every "
        "archived file. Exit 1 when anything does not verify.",
    )
    restore.add_argument("directory", metavar="DIR")
    restore.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    restore.add_argument("--json", action="store_true", help="print one JSON document")
    restore.set_defaults(handler=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    from resdesk.cases.backup import backup
    from resdesk.output import print_json
    from resdesk.settings import load_settings

    settings = load_settings(args.config)
    manifest = backup(settings.storage.database, settings.storage.archive, args.directory)
    if args.json:
        print_json(manifest)
    else:
        print(f"Backed up the case file (schema {manifest['schema']}) and {len(manifest['files']) - 1} archived "
              f"file(s) into {args.directory}.")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from resdesk.cases.backup import restore
    from resdesk.output import print_json
    from resdesk.settings import load_settings

    settings = load_settings(args.config)
    report = restore(args.directory, settings.storage.database, settings.storage.archive)
    ok = report.chain_ok and not report.missing_or_changed
    if args.json:
        print_json(report.as_json())
    else:
        print(f"Restored {report.cases} case(s), {report.audit_entries} audit entries and {report.files} archived "
              f"file(s); the audit chain {'verifies' if report.chain_ok else 'does NOT verify'}.")
        for path in report.missing_or_changed:
            print(f"  missing or changed: {path}")
    return 0 if ok else 1

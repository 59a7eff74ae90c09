"""``resdesk case REF --pdf FILE``: the auditor's record, archived as PDF/A-3 with the case's JSON."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from resdesk.cases import Document, open_store, verify_chain
from resdesk.outbox.dispatch import run_tick
from resdesk.cli import main
from tests.render.casefile import REGISTRY, local, oldham_stage2_escalated, sender_for, settings_for, write_config
from tests.render.tools import pdf_text, qpdf_check


def test_case_pdf_writes_and_files_a_pdfa3_record_with_the_case_json(tmp_path, smtp_server, capsys):
    """GIVEN an Oldham case escalated to stage 3 whose acknowledgement and notice were sent
    WHEN `resdesk case REF --pdf FILE --json` runs THEN FILE passes qpdf, declares PDF/A-3B, embeds the
    case's JSON (the same document the command prints), shows the case's values, every message's and
    document's SHA-256 and the missed deadline; and the record is filed on the case, its hash in the audit chain."""
    config = write_config(tmp_path, smtp_server)
    settings = settings_for(tmp_path, smtp_server)
    store = open_store(settings.storage.database, settings.storage.archive)
    ref = oldham_stage2_escalated(store)
    run_tick(store, settings, REGISTRY, local(2026, 12, 23, 10, 0, 5), sender_for(smtp_server))
    store.close()

    target = tmp_path / "out" / "record.pdf"
    status = main(["case", ref, "--config", str(config), "--now", "2026-12-30T12:00", "--pdf", str(target), "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert status == 0
    pdf = target.read_bytes()
    qpdf_check(pdf, tmp_path)
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata.stream.get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    (embedded,) = reader.attachments[f"case-{ref}.json"]
    record = json.loads(embedded)
    assert record == printed
    assert record["ref"] == ref and record["child"]["name"] == "Zoë Adeyemi"
    assert len(record["outbound"]) == 2 and len(record["documents"]) == 2

    text = pdf_text(pdf, tmp_path).replace(" ", "")
    for value in (ref, "ZoëAdeyemi", "9434765919", "missed", "overdue", "NotificationofEscalationprogressing"):
        assert value in text
    for document in record["documents"]:
        assert document["sha256"] in text
    for message in record["messages"]:
        assert message["sha256"] in text

    store = open_store(settings.storage.database, settings.storage.archive)
    try:
        with store.transaction() as tx:
            filed = tx.session.execute(select(Document).where(Document.kind == "case-record")).scalars().all()
            assert [d.sha256 for d in filed] == [hashlib.sha256(pdf).hexdigest()]
            assert filed[0].case.ref == ref
        assert verify_chain(store) == (True, None)
    finally:
        store.close()


def test_case_pdf_for_an_unknown_case_is_a_usage_error(tmp_path, smtp_server, capsys):
    """GIVEN an empty case file WHEN `resdesk case OLD-2026-9999 --pdf FILE` runs
    THEN it exits 2 with one sentence naming the case, and writes no file."""
    config = write_config(tmp_path, smtp_server)
    target = tmp_path / "record.pdf"
    assert main(["case", "OLD-2026-9999", "--config", str(config), "--pdf", str(target)]) == 2
    assert "OLD-2026-9999" in capsys.readouterr().err
    assert not target.exists()

"""`resdesk forms parse` and `resdesk forms blank` as a person uses them."""

from __future__ import annotations

import json

import pytest

from resdesk.cli import main


def test_parse_prints_kind_and_fields_as_json(samples, capsys):
    """GIVEN a filled Resolution Notice WHEN `resdesk forms parse FILE --json` THEN one JSON document, exit 0."""
    status = main(["forms", "parse", str(samples / "resolution-notice" / "seed-table.docx"), "--json"])
    out = capsys.readouterr().out
    assert status == 0
    document = json.loads(out)
    assert document == json.loads((samples / "resolution-notice" / "expected.json").read_text())


def test_parse_without_json_prints_a_table(samples, capsys):
    status = main(["forms", "parse", str(samples / "summary-log" / "ours.pdf")])
    out = capsys.readouterr().out
    assert status == 0
    assert "summary-log" in out and "Westfield Academy" in out and "entries 2" in out


def test_bad_input_exits_2_with_one_sentence_naming_file_field_and_reason(tmp_path, samples, capsys):
    """GIVEN a form with an impossible NHS number WHEN parsed THEN exit 2 and one line naming file, field, reason."""
    bad = tmp_path / "notice.txt"
    bad.write_text(
        (samples / "resolution-notice" / "email.txt").read_text().replace("943-476-5919", "943-476-5918")
    )
    status = main(["forms", "parse", str(bad), "--json"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "notice.txt" in lines[0] and "child_identifier" in lines[0] and "not a valid NHS number" in lines[0]


def test_hostile_file_exits_2(tmp_path, capsys):
    """GIVEN a macro-enabled file named .docx WHEN parsed THEN exit 2 with the reason, nothing on stdout."""
    from hostile_corpus import hostile_files

    case = next(c for c in hostile_files() if c.name == "macro-renamed.docx")
    path = tmp_path / case.name
    path.write_bytes(case.data)
    assert main(["forms", "parse", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "macro" in captured.err


def test_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["forms", "parse", str(tmp_path / "nothing.docx")]) == 2
    assert "Cannot read" in capsys.readouterr().err


def test_unknown_kind_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["forms", "blank", "letter", "-o", str(tmp_path / "x.docx")])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err

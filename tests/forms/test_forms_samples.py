"""Every sample in samples/forms/ reads to its expected JSON, field by field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resdesk.forms import read_form

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "forms"
KINDS = ("resolution-notice", "escalation-concern", "summary-log", "stage-summary")
FORMATS = ("ours.docx", "seed-table.docx", "ours.pdf", "email.txt")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sample", FORMATS)
def test_sample_reads_to_expected_record(kind, sample):
    """GIVEN a filled form of every kind in every form it arrives in
    WHEN it is read by content (whatever its name)
    THEN its kind and every field equal the expected JSON beside it."""
    folder = SAMPLES / kind
    expected = json.loads((folder / "expected.json").read_text())
    result = read_form((folder / sample).read_bytes(), sample).as_json()
    assert result["kind"] == expected["kind"]
    assert set(result["fields"]) == set(expected["fields"])
    for name, value in expected["fields"].items():
        assert result["fields"][name] == value, f"{kind}/{sample}: {name}"


def test_every_kind_has_every_sample():
    """GIVEN the samples folder THEN no kind is missing a format or its expected JSON."""
    for kind in KINDS:
        present = {p.name for p in (SAMPLES / kind).iterdir()}
        assert present >= {*FORMATS, "expected.json"}, kind

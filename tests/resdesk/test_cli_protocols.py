"""The protocols and deadline commands, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def resdesk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "resdesk", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_oldham_stage_2_over_christmas():
    """GIVEN Oldham stage 2 entered on 23 Dec 2026 WHEN asked for the deadline THEN Christmas and the Boxing Day
    substitute are skipped."""
    result = resdesk("deadline", "oldham", "2", "--from", "2026-12-23T10:00", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["due"] == "2026-12-29T23:59:59+00:00"
    assert document["from"] == "2026-12-23T10:00:00+00:00"
    assert document["basis"] == "2 working days"
    assert document["cumulative_due"] is None
    assert document["protocol"] == "oldham" and document["stage"] == 2


def test_gloucestershire_stage_1_is_24_hours():
    """GIVEN Gloucestershire stage 1 on a Friday afternoon THEN it is due 24 hours later, on the Saturday."""
    result = resdesk("deadline", "gloucestershire", "1", "--from", "2026-11-27T16:00", "--json")
    assert json.loads(result.stdout)["due"] == "2026-11-28T16:00:00+00:00"


def test_haringey_has_no_fixed_timescale():
    """GIVEN Haringey stage 2 THEN due is null and the basis says there is no fixed timescale."""
    document = json.loads(resdesk("deadline", "haringey", "2", "--from", "2026-11-27T16:00", "--json").stdout)
    assert document["due"] is None
    assert document["basis"] == "no fixed timescale"


def test_cumulative_due_with_case_start():
    """GIVEN --case-start THEN the cumulative target is counted from it."""
    document = json.loads(
        resdesk("deadline", "sandwell", "2", "--from", "2026-12-01", "--case-start", "2026-11-26", "--json").stdout
    )
    assert document["cumulative_due"] == "2026-12-08T23:59:59+00:00"  # day 8 from Thu 26 Nov


@pytest.mark.parametrize(
    "args, message",
    [
        (["deadline", "leeds", "1", "--from", "2026-12-01"], "There is no protocol 'leeds'"),
        (["deadline", "oldham", "9", "--from", "2026-12-01"], "The oldham protocol has no stage 9"),
        (["deadline", "oldham", "two", "--from", "2026-12-01"], "The stage must be a number"),
        (["deadline", "oldham", "2", "--from", "next tuesday"], "Cannot read the --from time 'next tuesday'"),
        (["deadline", "lscp-lsab", "4", "--variant", "soon", "--from", "2026-12-01"], "no stage 4 (soon)"),
        (["deadline", "oldham", "2"], "The following arguments are required: --from"),
        (["protocols", "show", "leeds"], "There is no protocol 'leeds'"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(args, message):
    """GIVEN bad input THEN stderr holds one sentence naming the problem, stdout is empty, and the status is 2."""
    result = resdesk(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_protocols_lists_all_five_as_json():
    """GIVEN the shipped definitions THEN `protocols --json` lists the five partnerships."""
    document = json.loads(resdesk("protocols", "--json").stdout)
    assert [p["id"] for p in document] == ["gloucestershire", "haringey", "lscp-lsab", "oldham", "sandwell"]


def test_protocols_show_explains_stages_with_sources():
    """GIVEN `protocols show oldham` THEN stages, timescales, notices and their seed sections are shown."""
    text = resdesk("protocols", "show", "oldham").stdout
    assert "Stage 3: Director/Assistant Director" in text
    assert "OSCP.group@oldham.gov.uk" in text
    assert "§1.6" in text
    document = json.loads(resdesk("protocols", "show", "sandwell", "--json").stdout)
    assert [s["basis"] for s in document["stages"]] == ["24 hours", "3 working days", "5 working days", "5 working days", "7 working days"]


def test_a_partnership_closure_day_from_the_environment(tmp_path):
    """GIVEN a closure day set through the environment THEN the deadline counts past it."""
    import os

    env = dict(os.environ, RESDESK_PARTNERSHIP__EXTRA_CLOSURE_DAYS="2026-12-24")
    result = resdesk("deadline", "oldham", "2", "--from", "2026-12-23T10:00", "--json", env=env)
    assert json.loads(result.stdout)["due"] == "2026-12-30T23:59:59+00:00"


def test_help_imports_no_heavy_library():
    """GIVEN `resdesk --help` WHEN the parser is built THEN no heavy library has been imported."""
    probe = (
        "import sys, resdesk.cli; resdesk.cli.build_parser(); "
        "heavy = [m for m in ('pydantic', 'weasyprint', 'sqlalchemy', 'docxtpl', 'pypdf', 'imapclient', 'holidays', 'jinja2') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""

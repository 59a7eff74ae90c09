"""The workspace settings ``resdesk demo`` writes (``var/demo/resdesk.toml``) run intake as the demo did: the
workspace reads mail again ('Accept this message'), so those settings decide who becomes a party and whom the
case's notices go to."""

from __future__ import annotations

import tomllib
from pathlib import Path

from resdesk.demo import _write_workspace_settings
from resdesk.settings import load_settings
from resdesk.wiring import our_addresses

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "demo" / "oldham.toml"


def test_the_demo_workspace_settings_know_the_demo_inbox_as_ours(tmp_path):
    """GIVEN the settings ``resdesk demo`` writes for browsing its case file, and the Oldham settings the demo
    drained the Oldham inbox with WHEN a message is accepted in that workspace (read again under the written
    settings) THEN the demo inbox's own address (the Oldham smtp.sender) is one of ours, and the business unit
    and allowed sender domains are the demo's: otherwise accepting a message there makes
    escalations@oldham.example a party of the case (its notices and overdue alerts then go to our own
    inbox) and the acknowledgement goes out from escalations@partnership.example."""
    written = load_settings(_write_workspace_settings(tmp_path))
    demo = tomllib.loads(SAMPLES.read_text())
    assert "escalations@oldham.example" in our_addresses(written)
    assert written.partnership.business_unit == demo["partnership"]["business_unit"]
    assert list(written.partnership.allowed_sender_domains) == demo["partnership"]["allowed_sender_domains"]

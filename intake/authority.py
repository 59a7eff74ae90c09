"""Who may change a case (pure): the rule that keeps a guessed reference or a forged sender
from moving, resolving or rewriting someone else's case.

A message filed on an existing case may change it — its stage, outcome, resolution, facts,
details or parties — only when all of these hold:

* the sender is **verified** (``intake.senders``: our receiving server's Authentication-Results
  show DMARC, or SPF/DKIM aligned with the From domain, passed), or the partnership configured
  no ``partnership.authserv_id``, so nothing can be checked (*not-checked*: the From address is
  taken as it stands, as the product did before it could verify, and ``resdesk check`` warns);
* the sender is **on the case**: one of its parties; or someone the case's own mail was sent or
  copied to, or a colleague at an agency already on the case (a configured agency or allowed
  domain that a party's address is also in, or the partnership's own domain) — these two only
  when the message shows it belongs to the case by more than a guessable reference: the case
  token's right check code, a reply to a message filed on the case, or the child's identifier
  with the name or date of birth. Escalation climbs each agency's own ladder (Oldham 2025, stage
  table: stage 1 to "line/team managers", stage 2 "to the relevant Senior Manager/Head of
  Service"), so the manager who sends the stage 2 summary is seldom a party yet;
* the case token, if the subject carries a check code, carries the **right** one
  (``cases.tokens``); a reference typed without its code (from memory) is trusted only from a
  party, a wrong code never.

A message a person releases from quarantine is vouched for by them and is not held to this rule.
Anything else naming the case is still filed on it — "from someone not on the case" — changes
nothing, is not acknowledged, and puts the case on the business unit's review list.
Correlation only ever looks among the cases of the partnership whose inbox received the
message (``StoreKnownCases(protocol=…)``), so one partnership's mail cannot reach another's case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from resdesk.intake.senders import Verification

__all__ = ["Authority", "CodeState", "Standing", "authority_over_case"]

Standing = Literal["party", "recipient", "colleague", "stranger"]
CodeState = Literal["right", "missing", "wrong"]


@dataclass(frozen=True)
class Authority:
    """Whether the message may change its case; ``reason`` says why not, as a sentence."""

    may_change: bool
    reason: str | None = None


def authority_over_case(
    *, sender: str | None, standing: Standing, verification: Verification, code: CodeState, evidence: bool
) -> Authority:
    """Decide (see the module docstring). ``evidence``: the message answers a message filed on the
    case, or its form names the case's child (identifier with name or date of birth)."""
    who = sender or "an unknown sender"
    if verification == "unverified":
        return Authority(False, f"our mail server could not verify the sender {who} (no DMARC or aligned SPF/DKIM pass)")
    if code == "wrong":
        return Authority(False, f"the case token's check code is not the one the product wrote (a guessed reference), from {who}")
    if standing == "party":
        return Authority(True)
    if standing in ("recipient", "colleague") and (code == "right" or evidence):
        return Authority(True)
    if standing == "recipient":
        return Authority(False, f"{who} received the case's mail but named the case only by its reference, without its check code")
    if standing == "colleague":
        return Authority(False, f"{who} is at an agency on the case but named it only by its reference, without its check code")
    return Authority(False, f"{who} is not one of the case's parties, nor at an agency on the case, and was never sent its mail")

"""Areas of disagreement and the agencies on each side, as a mail states them (pure).

The seeds list the areas professionals disagree about: Sandwell §6 ("Examples,
where the concerns about the child should prompt action"), Haringey §4 ("most
likely to arise around thresholds, roles and responsibilities, the need for
action and communication") and Gloucestershire's "Potential Areas of
Disagreement and Escalation". One vocabulary covers all five protocols, so a
partnership's returns count the same things.

The area and the agencies are case facts (``protocols.facts``): a value is read
only from an explicit labelled line (``Area of disagreement: Thresholds``,
``Raising agency: Oldham MBC``) or a form field, or set by a person; an area
merely mentioned in prose is never recorded.
"""

from __future__ import annotations

import re

# Slug -> the wording shown in returns (sources in AREA_SOURCES).
AREAS: dict[str, str] = {
    "thresholds": "Thresholds",
    "roles-and-responsibilities": "Roles and responsibilities",
    "action-or-inaction": "Action or inaction",
    "plans": "Plans",
    "information-sharing": "Information sharing",
    "provision-of-services": "Provision of services",
    "drift-and-delay": "Drift and delay",
    "child-protection-conference": "Child-protection conference decisions",
}
NOT_RECORDED = "not-recorded"

# Where each area comes from: (seed file in protocols/seeds/, section, the seed's words).
AREA_SOURCES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "thresholds": (("sandwell.txt", "§6", "opinions about thresholds/eligibility for services"),
                   ("haringey-2017.txt", "§4", "most likely to arise around thresholds")),
    "roles-and-responsibilities": (("sandwell.txt", "§6", "lack of understanding of roles and responsibilities"),
                                   ("haringey-2017.txt", "§4", "thresholds, roles and responsibilities")),
    "action-or-inaction": (("sandwell.txt", "§6", "Concern about the action/inaction of another professional"),
                           ("haringey-2017.txt", "§4", "a particular course of action or inaction")),
    "plans": (("sandwell.txt", "§6", "Dissent arising from the implementation of a child’s plan"),
              ("gloucestershire-2025.txt", "Potential Areas of Disagreement", "whether appropriate plans are in place")),
    "information-sharing": (("sandwell.txt", "§6", "Disagreement over information sharing"),
                            ("gloucestershire-2025.txt", "Potential Areas of Disagreement", "the sharing of information")),
    "provision-of-services": (("sandwell.txt", "§6", "Disagreement over the provision of services"),
                              ("gloucestershire-2025.txt", "Potential Areas of Disagreement", "the provision of services")),
    "drift-and-delay": (("sandwell.txt", "§6", "Concern that there is drift or unreasonable delay in progressing a case"),),
    "child-protection-conference": (("sandwell.txt", "§6", "Disagreement about the outcome of a Child Protection Conference"),
                                    ("haringey-2017.txt", "§4", "requested that a Child Protection Conference be convened")),
}

# The ways people write each area (normalised: lower case, words only).
_VARIANTS: dict[str, tuple[str, ...]] = {
    "thresholds": ("threshold", "thresholds", "threshold dispute", "thresholds eligibility",
                   "threshold for assessment", "eligibility", "thresholds for services"),
    "roles-and-responsibilities": ("roles and responsibilities", "role and responsibilities", "roles",
                                   "roles responsibilities", "responsibilities"),
    "action-or-inaction": ("action or inaction", "action inaction", "inaction", "action", "need for action",
                           "agreed action not completed", "course of action"),
    "plans": ("plans", "plan", "child s plan", "childs plan", "care plan", "multi agency plan",
              "implementation of plan", "planning"),
    "information-sharing": ("information sharing", "sharing of information", "info sharing", "sharing information"),
    "provision-of-services": ("provision of services", "service provision", "services", "provision of service"),
    "drift-and-delay": ("drift and delay", "drift delay", "drift", "delay", "drift or delay",
                        "drift or unreasonable delay", "unreasonable delay"),
    "child-protection-conference": ("child protection conference", "child protection conference decisions",
                                    "child protection conference decision", "cp conference", "icpc",
                                    "conference decision", "conference decisions", "conference"),
}
_BY_WORDS = {variant: slug for slug, variants in _VARIANTS.items() for variant in variants}
_BY_WORDS.update({" ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split()): slug for slug, text in AREAS.items()})
_BY_WORDS.update({slug.replace("-", " "): slug for slug in AREAS})

# The labels a person types before each value (``Area of disagreement: Thresholds``); the case facts
# vocabulary (``protocols.facts``) reads them like any other fact's labels.
AREA_LABELS = (
    "Area of disagreement", "Areas of disagreement", "Area(s) of disagreement",
    "Area of professional disagreement", "Areas of professional disagreement",
    "Disagreement area", "Type of disagreement",
)
RAISING_AGENCY_LABELS = ("Raising agency", "Agency raising", "Agency raising the concern", "Raised by agency")
RESPONDING_AGENCY_LABELS = (
    "Responding agency", "Receiving agency", "Agency responding", "Agency receiving", "Agency receiving the concern",
)


def normalise_area(value: str | None) -> str | None:
    """The area's slug (``thresholds``, ``drift-and-delay``…) for the ways people write it; else None.

    "Thresholds/eligibility", "Drift & delay" and "CP conference" are understood;
    two areas on one line ("thresholds and plans") are not guessed between.
    """
    if value is None:
        return None
    words = " ".join(re.sub(r"[^a-z0-9]+", " ", str(value).lower().replace("&", " and ")).split())
    return _BY_WORDS.get(words)

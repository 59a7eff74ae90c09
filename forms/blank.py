"""Blank fillable templates, and the same templates filled with a record.

``blank_docx`` / ``blank_pdf`` give what ``resdesk forms blank`` writes;
``fill_docx`` / ``fill_pdf`` fill one in as a person would (render code may use
``fill_docx`` for a pre-filled Resolution Notice). Every form box is named by
its field (see ``forms.word_template`` and ``forms.pdf_template``).
"""

from __future__ import annotations

from resdesk.forms.pdf_template import blank_pdf, fill_pdf
from resdesk.forms.word_template import blank_docx, fill_docx

__all__ = ["blank_docx", "blank_pdf", "fill_docx", "fill_pdf"]

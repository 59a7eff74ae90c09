"""The demo's data, installed with the product as ``resdesk.samples``.

``maildir/<protocol>/`` is each sample partnership's shared inbox, ``demo/<protocol>.toml``
its settings and ``mail/expected.json`` what the product should make of every message.
They are written by ``samples/mail/generate.py`` in a checkout; ``resdesk demo`` reads them
from the installed package, so the demo runs from a wheel as it does from a checkout.
"""

"""Fixtures for render tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.render.tools import CountingListener


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    server = CountingListener()
    yield server
    server.close()

"""Fixtures shared by the intake tests."""

from __future__ import annotations

import pytest

from resdesk.intake.readers import ReaderPool
from tests.intake.test_batches import POLICY, _desk


@pytest.fixture
def staging_desk(tmp_path):
    """A Maildir desk (``tests.intake.test_process.Desk``) whose watcher reads in a real reader
    process from batches of two, staging each archived copy there."""
    desk = _desk(tmp_path / "desk")
    pool = ReaderPool(POLICY, pool_from=2, archive_root=str(desk.store.archive.root))
    desk.processor.readers = pool
    yield desk
    pool.close()

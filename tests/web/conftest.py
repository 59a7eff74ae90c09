"""The workspace on a small real case file (see casefile.py), and the browser its e2e tests drive.

``case_file`` is fresh for each test that changes cases; ``shared_case_file`` is built once
per module for tests that only read (and sign in: the sign-in counts live in the case file, so each
test's app starts by clearing them).
"""

from __future__ import annotations

import pytest

from resdesk.web import create_app
from resdesk.wiring import build_processor
from tests.web.casefile import NOW, build_case_file


def _app(case_file):
    app = create_app(case_file.settings, case_file.store,
                     processor=build_processor(case_file.settings, case_file.store), clock=lambda: NOW)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def case_file(tmp_path):
    built = build_case_file(tmp_path)
    yield built
    built.store.close()


@pytest.fixture(scope="module")
def shared_case_file(tmp_path_factory):
    built = build_case_file(tmp_path_factory.mktemp("workspace"))
    yield built
    built.store.close()


@pytest.fixture
def app(case_file):
    """The workspace on a fresh case file."""
    return _app(case_file)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def shared_app(shared_case_file):
    """A new workspace app on the module's case file, its sign-in counts cleared."""
    app = _app(shared_case_file)
    for limiter in app.extensions["limiter"]:
        limiter.reset()
    return app


@pytest.fixture
def shared_client(shared_app):
    return shared_app.test_client()


@pytest.fixture
def driver(tmp_path):
    """Debian's chromium (tests/web/browser.py), saving downloads into its own folder (``driver.downloads``)."""
    from tests.web import browser

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    chromium = browser.chromium(tmp_path / "profile", downloads)
    chromium.downloads = downloads
    yield chromium
    chromium.quit()

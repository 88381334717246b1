"""Schemathesis against the served OpenAPI document (a short run; ``make fuzz``: >= 10,000
requests over two nodes): no answer is a 5xx, and the public API's answers conform to it."""
from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error,
                                 response_schema_conformance, status_code_conformance)

from kb_server import create_app, openapi
from tests.conftest import app_config

FUZZ = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
STAFF = {"Authorization": "Bearer test-token"}




class ServedApp:
    """The WSGI app the cases are sent to: schemathesis binds an app to the operations when the
    tests are collected, before the module fixture makes the real one."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


SERVED = ServedApp()
schema = schemathesis.openapi.from_dict(openapi.document())
schema.app = SERVED


@pytest.fixture(scope="module", autouse=True)
def fuzz_app(tmp_path_factory, template):
    """One app on a copy of the template, shared by the module, that the cases are sent to."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(template / "index", root / "index")
    shutil.copytree(template / "articles", root / "articles")
    shutil.copy2(template / "test.db", root / "test.db")
    app = create_app(app_config(root))
    app.config["PROPAGATE_EXCEPTIONS"] = False      # a bug is a 500 the check reports
    assert app.test_client().get("/api/v1/openapi.json").get_json() == openapi.document()
    SERVED.app = app
    yield app
    SERVED.app = None


@schema.include(tag="public").parametrize()
@FUZZ
def test_public_api_answers_conform_and_never_fail(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                   content_type_conformance, response_schema_conformance])


@schema.exclude(tag="public").parametrize()
@settings(FUZZ, max_examples=3)
def test_staff_api_never_fails(case):
    case.call_and_validate(headers=STAFF, checks=[not_a_server_error])

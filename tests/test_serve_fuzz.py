"""Requests generated from the service's own OpenAPI schema (schemathesis): no answer is a
server error, and every answer has a status and content type the schema lists and matches its
response schema."""

from __future__ import annotations

import io

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chiprules.serve import Logs, Served, Settings, create_app
from chiprules.serve.openapi import openapi_document

from .conftest import ROOT
from .serving import running

SETTINGS = Settings(max_records=20, time_limit=60)
schema = schemathesis.openapi.from_dict(openapi_document(SETTINGS))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url():
    app = create_app(Served(ROOT / "rules" / "ear", interval=0), SETTINGS, Logs(io.StringIO()))
    with running(app) as url:
        yield url


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_from_the_schema_fails_the_service(case, base_url):
    case.call_and_validate(base_url=base_url, checks=[not_a_server_error, status_code_conformance,
                                                      content_type_conformance, response_schema_conformance])

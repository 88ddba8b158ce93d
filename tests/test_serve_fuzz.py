"""Property-based fuzz of ``mecsim serve`` from its own OpenAPI schema (schemathesis): whatever a client sends that
the schema allows, the service answers without a server error and every response matches the schema."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from simulator.serve import create_app, parse_config

CONFIG = """
devices:
  pi4: {device-time: 13s, device-power: 6.4W, radio-power: 3.4W}
targets:
  edge: {edge-time: 9ms, uplink: 5Mbps, rtt: 20ms}
"""
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(parse_config(CONFIG)))


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_and_responses_match_the_schema(case):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance, status_code_conformance,
                                   content_type_conformance])

"""No 500 for any input: schemathesis drives every JSON route from /openapi.json.

Each demo has its own documented path with its real parameter schema, so generated
requests are both valid runs and near-misses. Runs are kept short by the runner's
limits (few frames, short budget) so the whole sweep stays bounded.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from app.config import Settings
from app.main import create_app

app = create_app(Settings(max_jobs=2, max_queue=64, job_seconds=2, max_frames=4, cache_mb=16))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

# Two checks do not fit, on purpose:
# - positive_data_acceptance: some rules span fields (k ≤ number of points, "custom" data
#   needs points); JSON Schema cannot say so, and a clear 422 is the right answer.
# - allow_header_conformance: GET and POST share /stream; Starlette's 405 names the
#   methods of one route only. A 405 is still a 4xx, never a 500.
EXCLUDED = [positive_data_acceptance, allow_header_conformance]


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_responses_match_the_schema(case):
    response = case.call(headers={"accept": "application/json, text/event-stream"})
    assert response.status_code < 500, response.text[:500]
    case.validate_response(response, excluded_checks=EXCLUDED)

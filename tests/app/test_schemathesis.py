"""The OpenAPI document tells the truth: schemathesis, all checks, finds nothing with any credential."""

from pathlib import Path

import pytest

from bench.schemathesis_run import run
from tests.conftest import Service


def test_the_documented_error_bodies_are_the_rendered_ones(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    queue = schema["paths"]["/v1/review/cases"]["get"]["responses"]
    assert queue["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorBody")
    assert {"401", "403", "422", "429", "503"} <= set(queue)
    assert components["Shipment"]["properties"]["item_id"]["pattern"]
    rendered = service.client.get("/v1/review/cases?limit=0", headers=service.as_officer()).json()
    assert set(rendered) == set(components["ValidationErrorBody"]["properties"])
    assert set(rendered["detail"][0]) == set(components["FieldError"]["properties"])
    supervisor = service.as_officer(service.supervisor_token)
    not_allowed = service.client.request("PATCH", "/v1/policy/capacity/global", headers=supervisor)
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"] == "DELETE, PUT"


@pytest.mark.postgres
def test_schemathesis_finds_no_failure_with_any_credential(model_dir: Path, tmp_path: Path) -> None:
    """On PostgreSQL, the stricter store (NUL, integer ranges); `bench/schemathesis_run.py` runs longer."""
    results = run(
        model_dir,
        max_examples=4,
        seed=1,
        phases="examples,fuzzing",
        use_pg=True,
        out=tmp_path,
    )
    assert [r.credential for r in results] == ["partner", "officer", "supervisor"]
    for result in results:
        assert result.cases > 50, result.report
        assert (result.failures, result.errors) == (0, 0), result.report

"""Liveness and readiness probes; each resource's own probe is tested with its resource."""

from {{ cookiecutter.package_name }}.health import probes_key

from .helpers import Client


async def test_livez_answers_ok(client: Client) -> None:
    response = await client.get("/livez")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_reports_every_dependency(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    probes = client.app.get(probes_key, {})
    checks = dict.fromkeys(probes, "ok")
    assert await response.json() == {"status": "ok", "checks": checks}

"""
The OpenAPI document describes exactly the routes the router serves.
"""

from __future__ import annotations

from aiohttp import web

from storemon_server.app import create_app
from storemon_server.config import Settings
from storemon_server.openapi import OPENAPI
from tests.server.conftest import MakeClient


def router_routes(app: web.Application) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        routes.add((route.method.lower(), str(path)))
    return routes


def test_openapi_matches_the_router() -> None:
    """Every route is in the OpenAPI paths with its method, and nothing else is."""
    app = create_app(Settings(db_url="memory://"))
    documented = {(method, path) for path, item in OPENAPI["paths"].items() for method in item}
    assert router_routes(app) == documented


def test_openapi_is_well_formed() -> None:
    """The document is OpenAPI 3 and every operation has a summary and a success response."""
    assert OPENAPI["openapi"].startswith("3.")
    for item in OPENAPI["paths"].values():
        for operation in item.values():
            assert operation["summary"]
            assert {"200", "204"} & set(operation["responses"])


async def test_openapi_is_served(make_client: MakeClient) -> None:
    """GET /api/openapi.json returns the document."""
    client = await make_client()
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    assert await response.json() == OPENAPI

"""The schema, its docs pages and the committed contract, through HTTP (lab08's public tests).

Like every test in this folder it reaches the project only through URLs and files, so in an
unfinished project each test fails on its own, naming what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/"
CONTRACT = Path(__file__).resolve().parents[1] / "openapi.yaml"


def _served(api_client: APIClient) -> dict[str, object]:
    response = api_client.get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    document: dict[str, object] = response.json()
    return document


def test_the_schema_is_openapi_3_as_yaml_and_json(api_client: APIClient) -> None:
    as_yaml = api_client.get(SCHEMA)

    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(as_yaml.content) == _served(api_client)
    assert str(_served(api_client)["openapi"]).startswith("3.")


def test_the_committed_contract_is_the_served_schema(api_client: APIClient) -> None:
    assert CONTRACT.is_file(), "commit it: python manage.py spectacular --file openapi.yaml"

    assert yaml.safe_load(CONTRACT.read_text(encoding="utf-8")) == _served(api_client)


def test_every_4xx_response_is_the_error_component(api_client: APIClient) -> None:
    paths = _served(api_client)["paths"]
    assert isinstance(paths, dict)
    for item in paths.values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, status


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_serve_their_own_assets(api_client: APIClient, page: str) -> None:
    response = api_client.get(page)
    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.content.decode())

    assert assets
    for url in assets:
        assert url.startswith("/static/"), url
        assert api_client.get(url).status_code == 200, url

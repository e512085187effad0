"""The OpenAPI documents in docs/ describe what the code speaks: every field of the wire models is in
the schema and nothing else, real answers of the simulator validate against the schemas, and every
status it answers with is documented for that operation."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from devices.captures import wire
from devices.captures.barcode import parse_cloud_code
from devices.captures.simulator import CloudVariant, RunningSimulator, Variant

if TYPE_CHECKING:
    from pydantic import BaseModel

DOCS = Path(__file__).resolve().parents[3] / "docs"
TERMINAL = yaml.safe_load((DOCS / "capture-terminal.openapi.yaml").read_text(encoding="utf-8"))
CLOUD = yaml.safe_load((DOCS / "photo-cloud.openapi.yaml").read_text(encoding="utf-8"))


def validator(document: dict[str, Any], schema_name: str) -> Draft202012Validator:
    uri = f"urn:tresen:{document['info']['title']}"
    registry: Registry[Any] = Registry().with_resource(uri, DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": f"{uri}#/components/schemas/{schema_name}"}, registry=registry)


def assert_valid(document: dict[str, Any], schema_name: str, instance: object) -> None:
    errors = [e.message for e in validator(document, schema_name).iter_errors(instance)]
    assert errors == [], f"{schema_name}: {errors[:3]}"


@pytest.mark.parametrize(
    ("document", "schema_name", "model"),
    [
        (TERMINAL, "RetrieveRequest", wire.RetrieveRequest),
        (TERMINAL, "AcknowledgeRequest", wire.AcknowledgeRequest),
        (TERMINAL, "Bundle", wire.TerminalBundleAnswer),
        (TERMINAL, "Manifest", wire.TerminalManifest),
        (TERMINAL, "ManifestItem", wire.ManifestItem),
        (TERMINAL, "QualityFlag", wire.QualityFlagModel),
        (TERMINAL, "Error", wire.ErrorAnswer),
        (CLOUD, "PhotoAnswer", wire.CloudPhotoAnswer),
    ],
)
def test_schema_fields_are_the_model_fields(
    document: dict[str, Any], schema_name: str, model: type[BaseModel]
) -> None:
    schema = document["components"]["schemas"][schema_name]
    assert set(schema["properties"]) == set(model.model_fields)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert set(schema.get("required", [])) == required
    assert schema["additionalProperties"] is False


def test_the_validator_refuses_what_the_schema_forbids() -> None:
    assert list(validator(TERMINAL, "Bundle").iter_errors({}))
    assert list(validator(CLOUD, "PhotoAnswer").iter_errors({"photo_id": "x", "extra": 1}))


def test_real_terminal_answers_validate(simulator: RunningSimulator) -> None:
    with simulator.state.lock:
        captures = list(simulator.state.captures.values())
    for capture in captures:
        answer = json.loads(capture.answer)
        assert_valid(TERMINAL, "Bundle", answer)
        assert_valid(TERMINAL, "Manifest", json.loads(base64.b64decode(answer["manifest"])))


def test_real_cloud_answers_validate(simulator: RunningSimulator) -> None:
    with simulator.state.lock:
        photos = list(simulator.state.photos.values())
    for photo in photos:
        assert_valid(CLOUD, "PhotoAnswer", json.loads(photo.answer))


def documented(document: dict[str, Any], path: str, method: str) -> set[int]:
    return {int(status) for status in document["paths"][path][method]["responses"]}


OTHER_TRANSFER = {"transfer_id": "00000000-0000-4000-8000-000000000000", "manifest_sha256": "0" * 64}


def test_every_terminal_status_is_documented(simulator: RunningSimulator) -> None:
    retrieve, ack = "/api/v1/captures/retrieve", "/api/v1/captures/acknowledge"
    good = simulator.state.terminal_code(Variant.GOOD)
    cases = [
        (retrieve, {"capture_code": good}),
        (retrieve, {"capture_code": "ZZZZZZZZ0101"}),
        (retrieve, {"capture_code": simulator.state.terminal_code(Variant.EXPIRED)}),
        (retrieve, {"nonsense": 1}),
        (ack, {"capture_code": good, **OTHER_TRANSFER}),
        (ack, {"capture_code": "ZZZZZZZZ0101", **OTHER_TRANSFER}),
        (ack, {"capture_code": good}),
    ]  # fmt: skip
    seen: set[tuple[str, int]] = set()
    with httpx.Client(base_url=simulator.url) as client:
        for path, body in cases:
            response = client.post(path, json=body)
            assert response.status_code in documented(TERMINAL, path, "post"), (path, response.status_code)
            if response.status_code >= 400:
                assert_valid(TERMINAL, "Error", response.json())
            seen.add((path, response.status_code))
    assert {status for _, status in seen} >= {200, 400, 404, 409, 410}


def test_every_cloud_status_is_documented(simulator: RunningSimulator) -> None:
    path = "/api/v1/photos/{photo_id}"
    good = parse_cloud_code(simulator.state.cloud_code(CloudVariant.GOOD)).photo_id
    expired = parse_cloud_code(simulator.state.cloud_code(CloudVariant.EXPIRED)).photo_id
    header = {"X-Organisation-Key": "org-docs"}
    with httpx.Client(base_url=simulator.url) as client:
        cases = [
            client.get(f"/api/v1/photos/{good}", headers=header),
            client.get(f"/api/v1/photos/{expired}", headers=header),
            client.get("/api/v1/photos/00000000-0000-4000-8000-000000000000", headers=header),
            client.get(f"/api/v1/photos/{good}"),
            client.delete("/api/v1/photos/00000000-0000-4000-8000-000000000000", headers=header),
        ]
    statuses = [(r.request.method.lower(), r.status_code) for r in cases]
    for method, status in statuses:
        assert status in documented(CLOUD, path, method), (method, status)
    assert {s for _, s in statuses} == {200, 401, 404, 410}

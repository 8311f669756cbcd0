"""The SDK wheel the controller serves installs and imports; the OpenAPI document covers every endpoint."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from io import BytesIO
from pathlib import Path

from controller.app import create_app
from controller.core.settings import Settings
from controller.docs.downloads import sdk_package
from controller.docs.openapi import openapi
from controller.docs.routes import ENDPOINTS
from controller.docs.sdk_wheel import EXTRAS, REQUIRES, wheel_name

SDK = Path(__file__).resolve().parents[3] / "sdk"


async def test_the_served_wheel_installs_and_its_cli_runs(aiohttp_client, tmp_path: Path):
    # Given the controller, and the SDK installed next to it
    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path / "data"), background=False))
    _, version = sdk_package()
    # When the wheel is downloaded without a token
    response = await client.get(f"/docs/downloads/{wheel_name(version)}")
    assert response.status == 200
    wheel = tmp_path / wheel_name(version)
    wheel.write_bytes(await response.read())
    # Then pip installs it and the package and its console script work
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True
    )
    out = subprocess.run(
        [sys.executable, "-c", "import computalot; print(computalot.__version__, computalot.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(target)},
        cwd=tmp_path,
    )
    assert out.stdout.split()[0] == version and str(target) in out.stdout
    names = zipfile.ZipFile(BytesIO(wheel.read_bytes())).namelist()
    assert "computalot/py.typed" in names and f"computalot-{version}.dist-info/entry_points.txt" in names


async def test_a_wrong_wheel_name_answers_404_naming_the_right_one(aiohttp_client, tmp_path: Path):
    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path / "data"), background=False))
    response = await client.get("/docs/downloads/computalot-0.0.1-py3-none-any.whl")
    body = await response.json()
    assert response.status == 404 and wheel_name(sdk_package()[1]) in body["error"]["recommended_action"]


def test_the_wheel_declares_the_same_dependencies_as_the_sdk_project():
    project = tomllib.loads((SDK / "pyproject.toml").read_text())["project"]
    assert list(REQUIRES) == project["dependencies"]
    assert {k: list(v) for k, v in EXTRAS.items()} == project["optional-dependencies"]


def test_the_openapi_document_has_every_endpoint_with_its_auth():
    document = openapi()
    assert document["openapi"].startswith("3.1")
    for method, path, auth, _ in ENDPOINTS:
        operation = document["paths"][path][method.lower()]
        assert (operation["security"] == [{"bearer": []}]) == auth
    assert document["paths"]["/api/v1/jobs/{job_id}"]["get"]["parameters"][0]["name"] == "job_id"

from pathlib import Path

import pytest
from computalot import ComputalotClient

from tests.conftest_platform import make_project, process_manifest

SCRIPT = (Path(__file__).parent / "runner_script.py").read_text()


@pytest.fixture
def project(client: ComputalotClient) -> str:
    """A pushed project whose entrypoint is runner_script.py."""
    return make_project(client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT})

"""The agent's HTTP calls to the controller: stream endpoints, claims, project code, artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx


class ControllerClient:
    """Thread-safe (httpx.Client is) client of the controller's agent routes."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
        )

    def config(self) -> dict[str, str]:
        """The ZeroMQ endpoints to stream to and to listen on."""
        response = self._http.get("/api/v1/agent/config")
        response.raise_for_status()
        return response.json()

    def claim(self, task_id: str, attempt: int, agent_id: str) -> tuple[bool, str]:
        """Ask to start an attempt; (run, reason). Raises httpx errors when the controller is unreachable."""
        response = self._http.post(
            "/api/v1/agent/claim", json={"task_id": task_id, "attempt": attempt, "agent_id": agent_id}
        )
        response.raise_for_status()
        body = response.json()
        return bool(body["run"]), body.get("reason", "")

    def download_revision(self, digest: str, dest: Path) -> None:
        """Stream a revision's tarball to `dest`."""
        with self._http.stream("GET", f"/api/v1/agent/revisions/{digest}") as response:
            response.raise_for_status()
            with dest.open("wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)

    def artifact_sha256(self, artifact_id: str) -> tuple[str, int]:
        """(sha256, size) of an artifact, from a HEAD request."""
        response = self._http.head(f"/api/v1/agent/artifacts/{quote(artifact_id, safe='')}")
        response.raise_for_status()
        return response.headers["X-Artifact-Sha256"], int(response.headers["X-Artifact-Size"])

    def download_artifact(self, artifact_id: str, dest: Path) -> None:
        """Stream an artifact's bytes to `dest`."""
        with self._http.stream("GET", f"/api/v1/agent/artifacts/{quote(artifact_id, safe='')}") as response:
            response.raise_for_status()
            with dest.open("wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)

    def upload_artifact(self, path: Path, filename: str, job_id: str, task_id: str) -> dict[str, Any]:
        """Stream a file to the controller as an artifact of the job's account; answers the artifact."""
        size = path.stat().st_size
        with path.open("rb") as source:
            response = self._http.post(
                "/api/v1/agent/artifacts",
                params={"job_id": job_id, "task_id": task_id, "filename": filename},
                content=iter(lambda: source.read(1 << 20), b""),
                headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            )
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()

"""The agent's HTTP calls to the controller: stream endpoints, claims, project code."""

from __future__ import annotations

from pathlib import Path

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

    def close(self) -> None:
        self._http.close()

"""Artifacts: content-addressed files owned by accounts, their storage, uploads and task inputs/outputs.

- `store`: the `ArtifactStore` interface and the local-directory implementation.
- `signing`: HMAC-signed, expiring upload URLs.
- `service`: ingesting streams (hash, limit, verify, deduplicate) and deleting.
- `multipart`: resumable uploads in parts.
- `refs`: artifact references in job payloads, checked at submit.
- `outputs`: the artifacts task attempts produced.
- `lifecycle`: the app's cleanup context (store, signer, expiry of abandoned uploads).
- `models`: the artifact tables.
- `routes`, `multipart_routes`, `signed_routes`, `agent_routes`: the HTTP routes (files, multipart uploads,
  signed upload URLs, and the agent's task inputs and outputs).
"""

__all__ = [
    "agent_routes",
    "download",
    "lifecycle",
    "models",
    "multipart",
    "multipart_routes",
    "outputs",
    "ranges",
    "refs",
    "routes",
    "service",
    "signed_routes",
    "signing",
    "store",
    "streams",
]

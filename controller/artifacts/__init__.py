"""Artifacts: content-addressed files owned by accounts, their storage, uploads and task inputs/outputs.

- `store`: the `ArtifactStore` interface and the local-directory implementation.
- `signing`: HMAC-signed, expiring upload URLs.
- `service`: ingesting streams (hash, limit, verify, deduplicate) and deleting.
- `multipart`: resumable uploads in parts.
- `refs`: artifact references in job payloads, checked at submit.
- `outputs`: the artifacts task attempts produced.
- `lifecycle`: the app's cleanup context (store, signer, expiry of abandoned uploads).
"""

__all__ = ["download", "lifecycle", "multipart", "outputs", "ranges", "refs", "service", "signing", "store", "streams"]

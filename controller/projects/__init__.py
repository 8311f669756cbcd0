"""Projects: pushed code as content-addressed revisions, their manifests and tarballs, and the project routes."""

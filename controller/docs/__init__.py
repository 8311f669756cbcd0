"""Documentation served by the controller: the guides in this folder, the endpoint table, OpenAPI and the SDK wheel."""

"""User feedback: stored from a public route, listed by admins (`models`, `routes`)."""

__all__ = ["models", "routes"]

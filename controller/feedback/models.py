"""Feedback sent by anyone through POST /api/v1/feedback, read by admins."""

from __future__ import annotations

import peewee as pw

from controller.core.models import BaseModel


class Feedback(BaseModel):
    #: also the listing order and the `before` cursor of GET /api/v1/admin/feedback
    id = pw.BigAutoField()
    #: bug | feature_request | provisioning | job_type_request
    type = pw.CharField(max_length=32)
    title = pw.CharField(max_length=200)
    description = pw.TextField()
    created_at = pw.DoubleField(index=True)


#: Part of `controller.schema.MODELS`.
FEEDBACK_MODELS: list[type[BaseModel]] = [Feedback]

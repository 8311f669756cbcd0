"""Tests of controller.projects."""

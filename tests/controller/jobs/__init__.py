"""Tests of controller.jobs."""

"""Tests of controller.agents."""

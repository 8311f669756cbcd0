"""Tests of controller.core."""

"""Tests of controller.admin."""

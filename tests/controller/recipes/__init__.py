"""Tests of controller.recipes."""

"""Tests of controller.live."""

"""Tests of controller.docs."""

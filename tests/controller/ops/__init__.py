"""Tests of controller.ops."""

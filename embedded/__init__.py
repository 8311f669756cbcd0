"""The one-command platform: controller, in-process broker and one agent in one process.

The only package that imports both `controller` and `agent`; nothing imports it.
"""

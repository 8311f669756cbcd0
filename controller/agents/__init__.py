"""Agents as the controller sees them: the live roster, the ZeroMQ hub, the lost-agent reaper and the agent routes."""

"""Sealed recipes as the controller sees them: discovery routes and checks of recipe submissions."""

"""Basalt."""

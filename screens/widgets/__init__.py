"""Widgets of the counter screens."""

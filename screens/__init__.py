"""Tresen: screens."""

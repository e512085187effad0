"""Tresen: forms."""

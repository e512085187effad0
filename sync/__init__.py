"""Tresen: sync."""

"""Tresen: devices."""

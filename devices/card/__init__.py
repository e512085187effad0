"""Tresen: devices/card."""

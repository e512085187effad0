"""Tresen: workstation."""

"""Tresen: sync/central."""

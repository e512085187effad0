"""Tresen: devices/captures — photo, signature and fingerprints from the office's capture terminal
or a photographer's TR-03170 cloud, fetched by code, verified and checked (see docs/captures.md)."""

"""Reads for the editors' desk, by capability: expectations.py, home.py."""

"""Semantic checks, one module per API (`oneroster.py`, ...), each registering rules."""

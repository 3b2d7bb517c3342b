"""The `stack` fixture lives in tests/conftest.py, shared with the browser tests."""

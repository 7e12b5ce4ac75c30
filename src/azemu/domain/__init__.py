"""The rules of the system: pure Python, no HTTP."""

"""The conformance suite that the pytest plugin collects (one test function per layer)."""

"""tbconform's conformance harness and command line."""
__version__ = "0.1.0"

"""tbconform's conformance harness and command line."""

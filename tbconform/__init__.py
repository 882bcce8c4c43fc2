"""tbconform: conformance harness and stateful sandbox for Timeback's education APIs.

The one top-level import package of the distribution. Its subpackages live in the repository's
top-level folders (`harness/`, `mocks/`, `fixtures/`, `reports/`, `specs/`) and are mapped under
this name by `pyproject.toml`'s package-dir table, so that installing tbconform never claims
common names such as `mocks` or `fixtures` in a user's environment.
"""

__version__ = "0.1.0"

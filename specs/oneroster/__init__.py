"""OneRoster 1.2 (Timeback flavour) specs: rostering, gradebook and resources, built by `_generate`."""

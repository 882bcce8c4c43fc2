"""API plug-ins: one module per API with `BEHAVIOURS`, optional `WRITE_HOOKS` and `ERROR_STYLES`."""

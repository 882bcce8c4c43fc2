"""The project's OpenAPI specs and the small loader that finds them."""

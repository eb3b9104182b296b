"""Repository-wide pytest setup: the repository root is importable (``localtap.sample``)."""

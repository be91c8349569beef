"""The documentation site's sources; ``hooks.py`` generates its code reference (see mkdocs.yml)."""

"""A Segmind-compatible simulator server (the embedded default and the tests' Segmind)."""

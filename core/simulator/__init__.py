"""A Segmind-compatible simulator server (the embedded default and the tests' Segmind).

state (jobs, files, credits: the model) ← routes (the endpoint shapes) ← server (aiohttp, faults).
"""

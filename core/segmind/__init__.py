"""Talking to Segmind: the async client, response parsing and the transport-neutral remote calls."""

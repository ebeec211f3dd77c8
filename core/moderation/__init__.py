"""Moderation: what a community's admins (and the operator) see and decide about what castbot posts."""

"""Persistence: tables, engine and session handling, history store and migrations."""

"""Starlette routes of the web app, one module per concern."""

"""`python -m app`: the service's administration commands."""

from app.cli import cli

cli()

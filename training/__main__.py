"""`python -m training`: the offline learning commands."""

from training.cli import cli

cli()

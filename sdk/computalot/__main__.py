"""`python -m computalot` runs the CLI."""

from .cli import main

main()

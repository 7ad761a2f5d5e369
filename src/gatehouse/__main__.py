"""`python -m gatehouse` runs the CLI."""

from gatehouse.cli.main import main

main()

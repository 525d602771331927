"""Allow `python -m perfgate`, which is how perfgate starts its own child processes."""

from perfgate.cli import main

main()

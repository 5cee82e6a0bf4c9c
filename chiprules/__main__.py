"""`python -m chiprules`: the command line."""

from chiprules.cli import main

main()

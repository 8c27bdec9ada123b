"""`python -m personascope.cli`: the same CLI as the `personascope` command."""

from personascope.cli import main

main()

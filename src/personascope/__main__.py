"""`python -m personascope`: the same CLI as the `personascope` command."""

from personascope.cli import main

main()

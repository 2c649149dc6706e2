"""`python -m curate ...` is the `curate` command."""
from curate.pipelines.cli import main

main()

"""Keep/drop decisions, each with a named reason."""

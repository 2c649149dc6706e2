"""`MixError`: the one error a mix build raises for a recipe its data cannot serve."""
from curate.errors import ConfigError


class MixError(ConfigError):
    """A mix that cannot be built as asked (a short source, no data); the message says which."""

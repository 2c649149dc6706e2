"""One error tree. Each error carries the exit code the CLI ends with: 2 for what the user must fix
before running (a spec, a recipe, a missing input, a folder that holds another run), 1 for a run
that started and failed. The CLI catches `CurateError` once; Python users catch it too."""


class CurateError(Exception):
    exit_code = 1


class ConfigError(CurateError):
    """A spec, recipe, option or input a user must fix; the message says where and how."""

    exit_code = 2


class RunError(CurateError):
    """A run that started and failed; finished work is kept and the same command resumes."""

    exit_code = 1

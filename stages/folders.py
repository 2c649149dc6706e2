"""Where a stage's files lie in a run folder, so that a stage folder is a dataset and nothing else.

    <run>/<stage>/part-<rank>.parquet             kept documents, alone: any Parquet reader gets exactly them
    <run>/rejected/<stage>/part-<rank>.parquet    rejected documents (reason, detail, stage)
    <run>/work/<stage>/                           what one pass of a stage hands the next, resume ledgers
    <run>/logs/<stage>/                           datatrove logs, stats, completion markers

Every tree is derived from the stage folder, so a stage told only its output folder finds the rest.
`RESERVED` names cannot be stage names: those folders are taken.
"""

REJECTED, WORK, LOGS = "rejected", "work", "logs"
RESERVED = frozenset({REJECTED, WORK, LOGS})


def join(folder: str, *parts: str) -> str:
    """A path under a local folder or an fsspec URL (always `/`)."""
    return "/".join([folder.rstrip("/"), *parts]) if folder else "/".join(parts)


def _sibling(stage_folder: str, tree: str) -> str:
    run, _, name = stage_folder.rstrip("/").rpartition("/")
    return join(run, tree, name)


def rejected_folder(stage_folder: str) -> str:
    """`<run>/rejected/<stage>` for the stage folder `<run>/<stage>`."""
    return _sibling(stage_folder, REJECTED)


def work_folder(stage_folder: str) -> str:
    """`<run>/work/<stage>`."""
    return _sibling(stage_folder, WORK)


def logs_folder(stage_folder: str) -> str:
    """`<run>/logs/<stage>`."""
    return _sibling(stage_folder, LOGS)

"""Readers of sources other than the web: Wikipedia dumps (`wikipedia`), books (`epub`: EPUB and plain-text
books such as Project Gutenberg's) and arXiv LaTeX sources (`arxiv`). Each is a reader (`from_input`)
registered in `curate.pipelines.registry.INPUT_FORMATS`; each turns a file it cannot use into a
rejected row whose reason says why."""


class Unusable(ValueError):
    """A source file (or a part of one) that gives no document: the `reason` and `detail` of its rejected row."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail

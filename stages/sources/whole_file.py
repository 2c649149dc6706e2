"""A reader whose files are each read whole (at most `max_bytes`) and parsed into one document: books, papers."""
from curate.stages.readers import _FileReader, read_at_most
from curate.stages.sources import Unusable


class WholeFileReader(_FileReader):
    def parsed(self, path: str, doc_id: str, parse):
        """`parse(path, data)`'s (text, metadata) for the file's bytes, or a rejected document saying why not:
        `too_large` past `max_bytes` (never read further), or the `Unusable` reason the parser gave."""
        with self.folder.open(path, "rb") as f:
            data = read_at_most(f, self.max_bytes)
        if len(data) > self.max_bytes:
            return self.rejected(doc_id, "too_large", f"more than {self.max_bytes} bytes", path=path)
        try:
            return parse(path, data)
        except Unusable as e:
            return self.rejected(doc_id, e.reason, e.detail, path=path)

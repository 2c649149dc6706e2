"""A document stage that works on batches, for steps whose library call is batched.

fastText predicts a list of lines in one native call, much faster than one Python
call per document. Documents still leave in the order they came in, rejected
upstream ones pass through untouched, and if a batch fails each of its documents
is retried alone so one bad document is rejected, not the batch.
"""
from datatrove.data import Document, DocumentsPipeline

from curate.stages.base import DocumentStage
from curate.stages.schema import is_rejected, reject


class BatchedStage(DocumentStage):
    batch_size: int = 256

    def process_batch(self, docs: list[Document]) -> None:
        """Set values on (or reject) each document of the batch, in place."""
        raise NotImplementedError

    def process(self, doc: Document) -> Document:
        self.process_batch([doc])
        return doc

    def _flush(self, batch: list[Document]):
        todo = [d for d in batch if not is_rejected(d)]
        if todo:
            try:
                self.process_batch(todo)
            except Exception:
                for doc in todo:
                    try:
                        self.process_batch([doc])
                    except Exception as e:  # one bad document must not stop the run
                        reject(doc, "error", f"{type(e).__name__}: {e}"[:500])
            rejected = sum(1 for doc in todo if is_rejected(doc))
            if rejected:  # once a batch: datatrove's stat_update costs a sixth of a fast model's scoring
                self.stat_update("rejected", value=rejected)
            if len(todo) > rejected:
                self.stat_update("kept", value=len(todo) - rejected)
        yield from batch

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self.setup()
        batch: list[Document] = []
        for doc in data or ():
            batch.append(doc)
            if len(batch) >= self.batch_size:
                yield from self._flush(batch)
                batch = []
        yield from self._flush(batch)

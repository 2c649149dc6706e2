"""`MixBuilder`: one recipe built into an output folder, by the other modules of this package in turn.

tokenize every leaf once into spills -> allocate -> select -> shuffle -> write the formats (packed
into windows for midtrain) -> `documents.parquet` -> `mix_manifest.json`, last, so a folder with a
manifest holds a finished mix.

The output goes through fsspec (a datatrove `DataFolder`): a local path or a URL such as
`memory://mix` or `s3://bucket/mix`. The spills are read at random, so they stay local scratch
files: under `<output>/.work` when the output is local (the same disk as the mix), else in a
temporary local folder; both are removed when the build ends.
"""
import json
import os
import shutil
import tempfile
import time

from datatrove.io import DataFolder, get_datafolder
from fsspec.implementations.local import LocalFileSystem

from curate.stages.mix.allocation import allocate, shortfalls
from curate.stages.mix.errors import MixError
from curate.stages.mix.packing import WindowPacker
from curate.stages.mix.selection import select, shuffled
from curate.stages.mix.tokenizing import tokenize_leaves
from curate.stages.mix.writers import DatatroveWriter, MegatronWriter, sha256_file, write_documents_table

MANIFEST = "mix_manifest.json"
WORK = ".work"


class MixBuilder:
    """Build one recipe into `output`: tokenized files, `mix_manifest.json`, `documents.parquet`."""

    def __init__(self, recipe, leaves, tokenizer, info, output, workers: int = 1, say=None):
        self.recipe, self.leaves, self.tok, self.info = recipe, leaves, tokenizer, info
        self.folder = get_datafolder(output if isinstance(output, DataFolder) else str(output))
        self.workers = max(1, workers)
        self.say = say or (lambda *_: None)

    def build(self) -> dict:
        t0 = time.time()
        recipe, leaves, folder = self.recipe, self.leaves, self.folder
        empty = [lf.name for lf in leaves if not lf.files]
        if empty:  # refuse before any heavy work
            raise MixError("; ".join(f"source '{n}' has no input: its glob/run matches no part-*.parquet shard"
                                     for n in empty))
        work = self._scratch()
        spills = []
        try:
            self.say("tokenizing sources")
            spills, counts = tokenize_leaves(leaves, self.tok, self.info, work, self.workers)
            rows = allocate(recipe.total_tokens, leaves, [s.total for s in spills])
            problems = shortfalls(rows, recipe.total_tokens)
            if problems:
                raise MixError("; ".join(problems))
            uses = select(recipe, leaves, spills, rows)
            order = shuffled(recipe.seed, leaves, spills, uses)
            self.say(f"writing {len(order):,} documents")
            if folder.exists(MANIFEST):  # the files are about to change: no manifest until they are complete
                folder.rm(MANIFEST)
            writers = self._writers()
            realized = [0] * len(leaves)
            packing = self._write(order, spills, writers, realized)
            files = [name for w in writers for name in w.close()]
            files.append(write_documents_table(folder, leaves, spills, uses))
        finally:
            for spill in spills:
                spill.close()
            shutil.rmtree(work, ignore_errors=True)
        manifest = self._manifest(rows, spills, counts, uses, realized, packing, files)
        manifest["seconds"] = round(time.time() - t0, 3)
        with folder.open(f".tmp-{MANIFEST}", "wb") as f:
            f.write((json.dumps(manifest, indent=2) + "\n").encode())
        folder.mv(f".tmp-{MANIFEST}", MANIFEST)
        return manifest

    def _scratch(self) -> str:
        """An empty local folder for the spills (see the module docstring)."""
        if not isinstance(self.folder.fs, LocalFileSystem):
            return tempfile.mkdtemp(prefix="curate-mix-")
        work = self.folder.resolve_paths(WORK)
        shutil.rmtree(work, ignore_errors=True)  # left by a killed build
        os.makedirs(work)
        return work

    def _writers(self):
        name, writers = self.recipe.name, []
        if "megatron" in self.recipe.formats:
            writers.append(MegatronWriter(self.folder, f"megatron/{name}_text_document", self.info.dtype))
        if "datatrove" in self.recipe.formats:
            writers.append(DatatroveWriter(self.folder, f"datatrove/{name}.ds", self.info.dtype, self.info.name))
        return writers

    def _write(self, order, spills, writers, realized) -> dict:
        """Documents one by one (pretrain) or packed into windows (midtrain); returns the packing stats."""
        if self.recipe.phase == "midtrain":
            packer = WindowPacker(spills, self.recipe.seq_len, self.recipe.midtrain, self.info.pad_id, self.info.dtype)
            for window, ends in packer.windows(order, realized):
                for w in writers:
                    w.add(window, ends)
            return packer.stats
        for _, li, d in order:
            tokens = spills[li].read(d)
            realized[li] += len(tokens)
            for w in writers:
                w.add(tokens)
        return {}

    def _manifest(self, rows, spills, counts, uses, realized, packing, files) -> dict:
        recipe, total = self.recipe, sum(realized)
        leaves = {}
        for lf, row, spill, count, used, got in zip(self.leaves, rows, spills, counts, uses, realized):
            planned_share = row["planned_tokens"] / recipe.total_tokens
            share = got / total if total else 0.0
            leaves[lf.name] = {
                **lf.describe(), "available_tokens": spill.total, "documents": len(spill.ids),
                "rows_read": count["rows"], "filtered_out": count["filtered"] + count["filtered_late"],
                "skipped_empty": count["empty"], "planned_tokens": row["planned_tokens"],
                "planned_share": planned_share, "realized_tokens": got, "realized_share": share,
                "share_deviation_pp": round(100 * (share - planned_share), 4),
                "epochs": got / spill.total if spill.total else 0.0,
                "documents_used": sum(1 for t in used if t), "max_times_used": max(used, default=0),
                "input_files": [{"path": p, "sha256": sha256_file(p)} for p in lf.files],
            }
        return {
            "name": recipe.name, "phase": recipe.phase, "recipe": recipe.model_dump(mode="json"),
            "recipe_sha256": recipe.hash(), "tokenizer": self.info.describe(), "seq_len": recipe.seq_len,
            "seed": recipe.seed, "formats": recipe.formats,
            "total_tokens": {"requested": recipe.total_tokens, "realized": total,
                             "difference": total - recipe.total_tokens},
            "max_share_deviation_pp": max((abs(v["share_deviation_pp"]) for v in leaves.values()), default=0.0),
            "leaves": leaves, "packing": packing or None, "workers": self.workers,
            "files": [{"path": name, "bytes": self.folder.size(name), "sha256": sha256_file(name, self.folder)}
                      for name in files],
        }

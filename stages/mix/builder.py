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
from array import array

import numpy as np
from datatrove.io import DataFolder, get_datafolder
from fsspec.implementations.local import LocalFileSystem

from curate.stages.mix.allocation import allocate, shortfalls
from curate.stages.mix.composing import adjacency, compose_order
from curate.stages.mix.errors import MixError
from curate.stages.mix.lengths import histogram
from curate.stages.mix.packing import CUT_NAMES, pack, summarize
from curate.stages.mix.selection import select, shuffled
from curate.stages.mix.tokenizing import tokenize_leaves
from curate.stages.mix.writers import DatatroveWriter, MegatronWriter, PackingTable, sha256_file, write_documents_table

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
            packing, extra = self._write(order, spills, uses, writers, realized)
            files = [name for w in writers for name in w.close()] + extra
            files.append(write_documents_table(folder, leaves, spills, uses))
            lengths = self._length_histogram(spills, uses)
        finally:
            for spill in spills:
                spill.close()
            shutil.rmtree(work, ignore_errors=True)
        manifest = self._manifest(rows, spills, counts, uses, realized, packing, files)
        manifest["length_histogram"] = lengths
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

    def _write(self, order, spills, uses, writers, realized) -> tuple[dict, list[str]]:
        """Documents one by one (pretrain) or packed into windows (midtrain); returns the packing
        stats and the files written besides the formats'."""
        if self.recipe.phase == "midtrain":
            return self._write_packed(order, spills, uses, writers, realized)
        for _, li, d in order:
            tokens = spills[li].read(d)
            realized[li] += len(tokens)
            for w in writers:
                w.add(tokens)
        return {}, []

    def _items(self, order, spills, uses):
        """The copies to pack: the shuffled order of plain leaves (`loose`), then one chain per composed
        leaf ((items, lookahead, groups) as `pack` takes them); the TF-IDF rows of composed leaves."""
        opts = self.recipe.midtrain
        item_leaf, item_doc, loose, chains, rows_of = array("q"), array("q"), [], [], {}
        for _, li, d in order:
            if self.leaves[li].compose == "shuffle":
                loose.append(len(item_leaf))
                item_leaf.append(li), item_doc.append(d)
        for li, lf in enumerate(self.leaves):
            if lf.compose == "shuffle":
                continue
            self.say(f"composing {lf.name} ({lf.compose})")
            seq, docs, X = compose_order(lf, spills[li], uses[li], self.recipe.seed,
                                         {self.info.eos_id, self.info.pad_id})
            rows_of[li] = ({int(d): r for r, d in enumerate(docs)}, X)
            first = len(item_leaf)
            groups = {first + k: spills[li].groups[d] for k, d in enumerate(seq)} if lf.compose == "same_source" \
                else None
            chains.append((range(first, first + len(seq)), opts.lookahead if lf.compose == "related" else 0, groups))
            for d in seq:
                item_leaf.append(li), item_doc.append(d)
        return item_leaf, item_doc, loose, chains, rows_of

    def _write_packed(self, order, spills, uses, writers, realized) -> tuple[dict, list[str]]:
        """Lay the chosen copies out in windows (`packing`), write them and `packing.parquet`;
        returns the packing stats (waste per leaf, adjacency of composed leaves) and file names."""
        recipe, opts, size = self.recipe, self.recipe.midtrain, self.recipe.seq_len + 1
        item_leaf, item_doc, loose, chains, rows_of = self._items(order, spills, uses)
        lengths = array("q", (spills[li].lengths[d] for li, d in zip(item_leaf, item_doc)))
        layout = pack(lengths, size, opts.packing, opts.long_docs, loose, chains, opts.open_windows, recipe.seed)
        pieces, starts = layout.in_order()
        pad = np.full(size, self.info.pad_id, dtype=self.info.dtype)
        table = PackingTable(self.folder)
        pairs: dict[int, list] = {li: [] for li in rows_of}
        for w in range(layout.windows):
            parts, ends, fill, prev = [], [], 0, None
            for p in pieces[starts[w]:starts[w + 1]]:
                item, a, b = layout.item[p], layout.start[p], layout.end[p]
                li, d = item_leaf[item], item_doc[item]
                parts.append(spills[li].read(d, a, b))
                table.add(w, fill, b - a, self.leaves[li].name, spills[li].ids[d], a, lengths[item],
                          CUT_NAMES[layout.cut[item]])
                fill += b - a
                ends.append(fill)
                realized[li] += b - a
                if prev is not None and prev[0] == li and li in pairs and prev[1] != d:
                    pairs[li].append((rows_of[li][0][prev[1]], rows_of[li][0][d]))
                prev = (li, d)
            if fill < size:
                parts.append(pad[: size - fill])
                ends.append(size)
            window = np.concatenate(parts)
            for wr in writers:
                wr.add(window, ends)
        stats = {"method": opts.packing, **summarize(layout, item_leaf, [lf.name for lf in self.leaves])}
        stats["read_with"] = {  # one sample = one window, positions and attention restart at each document
            "megatron": {"GPTDatasetConfig": {"sequence_length": size, "add_extra_token_to_sequence": False,
                                              "reset_position_ids": True, "reset_attention_mask": True},
                         "eod": self.info.eos_id, "pad": self.info.pad_id},
            "datatrove": {"DatatroveFolderDataset": {"seq_len": recipe.seq_len, "token_size": self.info.token_size,
                                                     "return_positions": True}}}
        stats["adjacency"] = {
            self.leaves[li].name: {"compose": self.leaves[li].compose, **adjacency(
                rows_of[li][1], np.array(pairs[li], dtype=np.int64).reshape(-1, 2), rows_of[li][1].shape[0],
                recipe.seed)} for li in rows_of}
        return stats, table.close()

    @staticmethod
    def _length_histogram(spills, uses) -> list[dict]:
        """Tokens the mix takes by document length (every copy counted)."""
        n = [np.frombuffer(s.lengths, np.int64) for s in spills if len(s.lengths)]
        times = [np.frombuffer(u, np.int32) for s, u in zip(spills, uses) if len(s.lengths)]
        n, times = (np.concatenate(x) if x else np.zeros(0) for x in (n, times))
        return histogram(n - 1, n * times, times)

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

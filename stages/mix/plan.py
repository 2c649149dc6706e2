"""`plan_mix`: tokens available per leaf and the allocation, before any heavy work.

Leaves whose rows carry `n_tokens` are counted exactly from that column; the others are
estimated by tokenizing a sample of rows chosen by a seeded hash (all of them when few).

The same lengths give the tokens the mix will take by document length (`length_histogram`) and,
for midtraining, a packing estimate: the recipe's packer run on up to `PACK_SIM_DOCS` document
lengths drawn in proportion to what each leaf will give (padding, documents cut, per leaf).
"""
import heapq
from array import array

import numpy as np

from curate.stages.mix.allocation import allocate, max_total_tokens, shortfalls
from curate.stages.mix.lengths import histogram
from curate.stages.mix.packing import pack, summarize
from curate.stages.mix.rows import iter_rows, n_tokens_ok
from curate.stages.mix.selection import doc_hash
from curate.stages.tokenize import encode_with_eos

SAMPLE_DOCS = 256
PACK_SIM_DOCS = 20000


def plan_mix(recipe, leaves, tok, info, sample_docs: int = SAMPLE_DOCS) -> dict:
    """Tokens available per leaf (exact from n_tokens when set, else from a hashed sample) and the allocation."""
    available, details, lengths = [], [], []
    for lf in leaves:
        exact_lengths, kept = array("q"), []
        exact_tokens = exact_docs = 0
        unknown = 0
        heap: list[tuple[int, int]] = []  # the sample: the unknown rows with the smallest hashes
        for i, (doc_id, _, ntok) in enumerate(iter_rows(lf, with_text=False)):
            if ntok is not None:
                if n_tokens_ok(lf, 0, ntok):
                    exact_tokens += ntok + 1
                    exact_docs += 1
                    exact_lengths.append(ntok + 1)
                continue
            unknown += 1
            item = (-doc_hash(recipe.seed, "sample", lf.name, doc_id, i), i)
            if len(heap) < sample_docs:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
        est_tokens = est_docs = 0.0
        sampled, scale = 0, 1.0
        if unknown:
            wanted = {i for _, i in heap}
            texts = [t for i, (_, t, _) in enumerate(iter_rows(lf)) if i in wanted]
            sampled = len(wanted)
            texts = [t for t in texts if t and t.strip()]  # empty documents are skipped by the build
            if texts:
                arrays = encode_with_eos(tok, texts, info.eos_id, info.dtype)
                kept = [len(a) for a in arrays if n_tokens_ok(lf, len(a) - 1, None)]
                scale = unknown / len(wanted)
                est_tokens, est_docs = sum(kept) * scale, len(kept) * scale
        exact = unknown == 0 or sampled == unknown
        tokens = exact_tokens + int(round(est_tokens))
        available.append(tokens)
        lengths.append((np.asarray(exact_lengths, np.int64), np.asarray(kept, np.int64), scale))
        details.append({"documents": exact_docs + int(round(est_docs)),
                        "counted": "exact" if exact else "estimated",
                        "how": ("no rows pass the filters" if unknown == exact_docs == 0 else
                                "n_tokens column" if unknown == 0 else
                                f"tokenized {'all' if exact else f'a sample of {sampled} of'} {unknown} rows"
                                + (f"; n_tokens column for {exact_docs}" if exact_docs else ""))})
    rows = allocate(recipe.total_tokens, leaves, available)
    for r, d, lf in zip(rows, details, leaves):
        r.update(d, filter=lf.node.filter)
        if lf.bucket is not None:
            r["n_tokens"] = list(lf.bucket)
        if lf.compose != "shuffle":
            r["compose"] = lf.compose
    plan = {"name": recipe.name, "phase": recipe.phase, "total_tokens": recipe.total_tokens,
            "tokenizer": info.name, "leaves": rows, "problems": shortfalls(rows, recipe.total_tokens)}
    plan["max_total_tokens"] = max_total_tokens(rows) if all(r["available_tokens"] for r in rows) else 0
    plan["ok"] = not plan["problems"]
    plan["length_histogram"] = _planned_histogram(rows, lengths)
    if recipe.phase == "midtrain":
        plan["packing_estimate"] = _packing_estimate(recipe, leaves, rows, lengths)
    return plan


def _epochs(row) -> float:
    return row["planned_tokens"] / row["available_tokens"] if row["available_tokens"] else 0.0


def _planned_histogram(rows, lengths) -> list[dict]:
    """Tokens the mix takes by document length: each leaf's lengths (sampled ones scaled) times its epochs."""
    n, w = [], []
    for row, (exact, sample, scale) in zip(rows, lengths):
        for lens, k in ((exact, 1.0), (sample, scale)):
            n.append(lens - 1)
            w.append(lens * k * _epochs(row))
    out = histogram(np.concatenate(n), np.concatenate(w))
    for r in out:
        del r["documents"]  # copies of sampled documents are not whole numbers
    return out


def _packing_estimate(recipe, leaves, rows, lengths) -> dict:
    """The recipe's packer on document lengths drawn in proportion to each leaf's planned copies."""
    counts, pools = [], []
    opts, rng = recipe.midtrain, np.random.default_rng(recipe.seed)
    for row, (exact, sample, scale) in zip(rows, lengths):
        pool = np.concatenate([exact, np.repeat(sample, max(1, int(round(scale))))])
        counts.append((len(exact) + len(sample) * scale) * _epochs(row))
        pools.append(rng.permutation(pool))
    factor = min(1.0, PACK_SIM_DOCS / max(1.0, sum(counts)))
    item_len, item_leaf, loose, chains = [], [], [], []
    for li, (pool, count) in enumerate(zip(pools, counts)):
        k = int(round(count * factor))
        if not k or not len(pool):
            continue
        drawn = np.resize(pool, k).tolist()
        ids = range(len(item_len), len(item_len) + k)
        item_len += drawn
        item_leaf += [li] * k
        if leaves[li].compose == "shuffle":
            loose += list(ids)
        else:
            chains.append((ids, opts.lookahead if leaves[li].compose == "related" else 0, None))
    loose = [loose[i] for i in rng.permutation(len(loose))]
    layout = pack(item_len, recipe.seq_len + 1, opts.packing, opts.long_docs, loose, chains, opts.open_windows,
                  recipe.seed)
    stats = summarize(layout, item_leaf, [lf.name for lf in leaves])
    stats.update(method=opts.packing, simulated_documents=len(item_len), scale=round(1 / factor, 3))
    return stats


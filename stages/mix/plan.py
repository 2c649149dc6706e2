"""`plan_mix`: tokens available per leaf and the allocation, before any heavy work.

Leaves whose rows carry `n_tokens` are counted exactly from that column; the others are
estimated by tokenizing a sample of rows chosen by a seeded hash (all of them when few).
"""
import heapq

from curate.stages.mix.allocation import allocate, max_total_tokens, shortfalls
from curate.stages.mix.rows import iter_rows, n_tokens_ok
from curate.stages.mix.selection import doc_hash
from curate.stages.tokenize import encode_with_eos

SAMPLE_DOCS = 256


def plan_mix(recipe, leaves, tok, info, sample_docs: int = SAMPLE_DOCS) -> dict:
    """Tokens available per leaf (exact from n_tokens when set, else from a hashed sample) and the allocation."""
    available, details = [], []
    for lf in leaves:
        exact_tokens = exact_docs = 0
        unknown = 0
        heap: list[tuple[int, int]] = []  # the sample: the unknown rows with the smallest hashes
        for i, (doc_id, _, ntok) in enumerate(iter_rows(lf, with_text=False)):
            if ntok is not None:
                if n_tokens_ok(lf, 0, ntok):
                    exact_tokens += ntok + 1
                    exact_docs += 1
                continue
            unknown += 1
            item = (-doc_hash(recipe.seed, "sample", lf.name, doc_id, i), i)
            if len(heap) < sample_docs:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
        est_tokens = est_docs = 0.0
        sampled = 0
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
        details.append({"documents": exact_docs + int(round(est_docs)),
                        "counted": "exact" if exact else "estimated",
                        "how": ("no rows pass the filters" if unknown == exact_docs == 0 else
                                "n_tokens column" if unknown == 0 else
                                f"tokenized {'all' if exact else f'a sample of {sampled} of'} {unknown} rows"
                                + (f"; n_tokens column for {exact_docs}" if exact_docs else ""))})
    rows = allocate(recipe.total_tokens, leaves, available)
    for r, d, lf in zip(rows, details, leaves):
        r.update(d, filter=lf.node.filter)
    plan = {"name": recipe.name, "phase": recipe.phase, "total_tokens": recipe.total_tokens,
            "tokenizer": info.name, "leaves": rows, "problems": shortfalls(rows, recipe.total_tokens)}
    plan["max_total_tokens"] = max_total_tokens(rows) if all(r["available_tokens"] for r in rows) else 0
    plan["ok"] = not plan["problems"]
    return plan

"""Allocation: how many tokens each leaf gives, as pure functions of the weights and what is available.

Kept free of I/O so that `plan` (from counts and samples) and `build` (from exact spills) share it.
"""
import math


def allocate(total_tokens: int, leaves, available: list[int]) -> list[dict]:
    """Tokens to take per leaf (Hamilton rounding of total * weight) and the epochs that needs."""
    raw = [total_tokens * lf.weight for lf in leaves]
    base = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (base[i] - raw[i], i))[: total_tokens - sum(base)]:
        base[i] += 1
    rows = []
    for lf, target, avail in zip(leaves, base, available):
        epochs = target / avail if avail else (0.0 if target == 0 else None)  # None: nothing to repeat
        rows.append({"leaf": lf.name, "weight": lf.weight, "files": len(lf.files), "planned_tokens": target,
                     "available_tokens": avail, "epochs": epochs, "max_epochs": lf.max_epochs,
                     "ok": epochs is not None and epochs <= lf.max_epochs + 1e-9})
    return rows


def shortfalls(rows: list[dict], total_tokens: int) -> list[str]:
    """What to fix, one message per leaf that cannot give its share within its max_epochs."""
    msgs = []
    for r in rows:
        if not r["ok"] and not r["files"]:
            msgs.append(f"source '{r['leaf']}' has no input: its glob/run matches no part-*.parquet shard")
        elif not r["ok"]:
            cap = int(r["available_tokens"] * r["max_epochs"])
            msgs.append(f"source '{r['leaf']}' is short: it must give {r['planned_tokens']:,} tokens "
                        f"(weight {r['weight']:.4g} of {total_tokens:,}) but has {r['available_tokens']:,} "
                        f"x max_epochs {r['max_epochs']:g} = {cap:,}; lower its weight or total_tokens, "
                        f"raise its max_epochs, or add data")
    return msgs


def max_total_tokens(rows: list[dict]) -> int:
    """The largest total_tokens every leaf can serve within its max_epochs."""
    return int(min(r["available_tokens"] * r["max_epochs"] / r["weight"] for r in rows))

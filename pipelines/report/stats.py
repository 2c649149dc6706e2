"""Summary figures of value lists, as data-juicer's analyzer shows them: count, mean and percentiles."""
import numpy as np

PERCENTILES = (5, 25, 50, 75, 95)


def summary(values: list[float]) -> dict:
    """{n, mean, min, p5, p25, p50, p75, p95, max} (linear interpolation); {"n": 0} for no values."""
    if not values:
        return {"n": 0}
    arr = np.asarray(values, dtype=np.float64)
    out = {"n": int(arr.size), "mean": float(arr.mean()), "min": float(arr.min())}
    out.update({f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(arr, PERCENTILES))})
    out["max"] = float(arr.max())
    return out


SUMMARY_COLUMNS = ["n", "mean", "min", *(f"p{p}" for p in PERCENTILES), "max"]

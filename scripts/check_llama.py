"""Exit 0 when the installed llama.cpp build can generate with the bundled model, else non-zero.

llama-cpp-python builds from source with `-march=native`. On a virtual machine whose CPU lists AMX
(`amx_tile`) but does not let a guest use it, that build dies with a general protection fault at its
first matrix product (`ldtilecfg` in libggml-cpu). The check generates in a child process, so a
crash is an exit code here; setup.sh then rebuilds llama.cpp for a portable CPU baseline.
"""
import subprocess
import sys

GENERATE = """
from llama_cpp import Llama
from curate.synth.server import model_path
out = Llama(model_path=str(model_path()), n_ctx=256, n_threads=1, verbose=False)("The sky is", max_tokens=2)
assert out["choices"][0]["text"] is not None
"""

proc = subprocess.run([sys.executable, "-c", GENERATE], capture_output=True, text=True, timeout=300)
if proc.returncode != 0:
    print(f"llama.cpp cannot generate (exit {proc.returncode}): {proc.stderr.strip()[-500:]}", file=sys.stderr)
sys.exit(1 if proc.returncode else 0)

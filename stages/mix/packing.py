"""Midtraining packing: where each document goes in windows of seq_len + 1 tokens (a `Layout`).

A trainer reads a window as seq_len inputs plus their shifted targets, so a document is only cut
when it is longer than a window: into window-sized pieces and a rest (`long_docs: split`), or to
one window (`truncate`, the cut tokens counted as waste). Everything else stays whole, and the
room a window has left is padding. Two ways to fill windows:

- `best_fit` (default): best-fit decreasing, as in Ding et al. 2024, "Fewer Truncations Improve
  Language Modeling": all pieces, longest first, each into the open window with the least room
  that still holds it (`FreeRoom`, a segment tree over room sizes, finds it in O(log window)); a
  new window only when none does. Windows are then shuffled by the seed. With many more documents
  than windows the small ones fill the gaps and padding falls well under 1%.
- `first_fit`: the earlier streaming packer, kept for comparison: documents in the shuffled order
  into the first of at most `open_windows` open windows; when a new one is needed the fullest is
  closed. Its windows come out in the order they close.

Composed leaves (`compose: related/same_source`) arrive as chains, packed first: next fit in chain
order, so neighbours share a window. When the next piece does not fit, `related` looks `lookahead`
pieces ahead for one that does; then the rest of the window takes the longest later pieces of the
chain that fit (`LengthIndex`; for `same_source` never one of the group just placed, so each group
stays in order). What room is still left is open to the best-fit pieces of the other leaves.

Everything here works on lengths only, so `plan` runs the same code on counted or sampled lengths.
"""
from array import array
from collections import deque

import numpy as np

WHOLE, SPLIT, TRUNCATED = 0, 1, 2
CUT_NAMES = ("whole", "split", "truncated")


class Layout:
    """Pieces (item, start, end) and the window each is in, as parallel arrays; items are the
    caller's document copies, numbered 0..n-1, with `lengths[item]` tokens."""

    def __init__(self, lengths, size: int):
        self.lengths, self.size = lengths, size
        self.item, self.start, self.end, self.window = (array("q") for _ in range(4))
        self.windows = 0
        self.cut = bytearray(len(lengths))  # WHOLE, SPLIT or TRUNCATED per item
        self.order: np.ndarray | None = None  # windows in output order

    def new_window(self) -> int:
        self.windows += 1
        return self.windows - 1

    def put(self, window: int, item: int, start: int, end: int):
        self.item.append(item), self.start.append(start), self.end.append(end), self.window.append(window)

    def cut_long(self, item: int, long_docs: str) -> tuple[int, int] | None:
        """Give a document longer than a window its own full windows; the rest (start, end) to place."""
        n, size = self.lengths[item], self.size
        if n <= size:
            return 0, n
        if long_docs == "truncate":
            self.cut[item] = TRUNCATED
            self.put(self.new_window(), item, 0, size)
            return None
        self.cut[item] = SPLIT
        start = 0
        while n - start >= size:
            self.put(self.new_window(), item, start, start + size)
            start += size
        return (start, n) if start < n else None

    def in_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Piece indices in output order (windows in `order`, pieces as placed) and each window's
        first position in that list (plus the end)."""
        window = np.frombuffer(self.window, np.int64) if len(self.window) else np.zeros(0, np.int64)
        order = self.order if self.order is not None else np.arange(self.windows)
        rank = np.empty(self.windows, np.int64)
        rank[order] = np.arange(self.windows)
        pieces = np.argsort(rank[window], kind="stable")
        starts = np.searchsorted(rank[window][pieces], np.arange(self.windows + 1))
        return pieces, starts


class FreeRoom:
    """Open windows by the room they have left: the one with the least room >= n, in O(log size)."""

    def __init__(self, size: int):
        self.leaves = 1 << size.bit_length()  # room 0..size
        self.count = [0] * (2 * self.leaves)
        self.windows: dict[int, list[int]] = {}

    def _update(self, room: int, delta: int):
        i = room + self.leaves
        while i:
            self.count[i] += delta
            i >>= 1

    def add(self, window: int, room: int):
        if room > 0:
            self.windows.setdefault(room, []).append(window)
            self._update(room, 1)

    def take(self, n: int) -> tuple[int, int] | None:
        """Remove and return (window, room) with the smallest room >= n, or None."""
        count, i = self.count, n + self.leaves
        if not count[i]:
            while i > 1 and not (not i & 1 and count[i + 1]):
                i >>= 1
            if i <= 1:
                return None
            i += 1
            while i < self.leaves:
                i = 2 * i if count[2 * i] else 2 * i + 1
        room = i - self.leaves
        window = self.windows[room].pop()
        self._update(room, -1)
        return window, room


class LengthIndex:
    """A chain's untaken pieces by length, each length's in chain order: the longest piece that fits
    a room, in O(log size). Pieces are always taken as the first untaken of their length."""

    def __init__(self, size: int, lengths):
        self.leaves = 1 << size.bit_length()
        self.count = [0] * (2 * self.leaves)
        self.pieces: dict[int, deque] = {}
        for k, n in enumerate(lengths):
            self.pieces.setdefault(n, deque()).append(k)
            self._update(n, 1)

    def _update(self, n: int, delta: int):
        i = n + self.leaves
        while i:
            self.count[i] += delta
            i >>= 1

    def take(self, n: int) -> int:
        self._update(n, -1)
        return self.pieces[n].popleft()

    def longest_at_most(self, room: int) -> int:
        """The largest length <= room that has an untaken piece, or 0."""
        count, i = self.count, min(room, self.leaves - 1) + self.leaves
        if count[i]:
            return i - self.leaves
        while i > 1 and not (i & 1 and count[i - 1]):
            i >>= 1
        if i <= 1:
            return 0
        i -= 1
        while i < self.leaves:
            i = 2 * i + 1 if count[2 * i + 1] else 2 * i
        return i - self.leaves


def chain_fit(layout: Layout, chain, room: FreeRoom, long_docs: str, lookahead: int, groups=None):
    """Next fit along a chain of items. When the next piece does not fit, look up to `lookahead`
    pieces ahead for one that does (a near neighbour), else fill the rest of the window with the
    longest later pieces that fit (never one of the same `groups[item]` as the window's last piece,
    so a same-source group keeps its order), then open a new window."""
    size = layout.size
    pieces = [(item, *rest) for item in chain if (rest := layout.cut_long(item, long_docs))]
    lengths = [end - start for _, start, end in pieces]
    index = LengthIndex(size, lengths)
    taken = bytearray(len(pieces))
    window, left, i, last = -1, 0, 0, None

    def place(k):
        nonlocal left, last
        item, start, end = pieces[k]
        assert index.take(lengths[k]) == k
        layout.put(window, item, start, end)
        left -= lengths[k]
        taken[k], last = 1, item

    def filler() -> int | None:
        n = index.longest_at_most(left)
        for _ in range(8):
            if not n:
                return None
            k = index.pieces[n][0]
            if groups is None or groups[pieces[k][0]] != groups[last]:
                return k
            n = index.longest_at_most(n - 1)
        return None

    while i < len(pieces):
        if lengths[i] <= left:
            place(i)
        else:
            j, seen, pick = i + 1, 0, None
            while pick is None and seen < lookahead and j < len(pieces):
                if not taken[j]:
                    seen += 1
                    if lengths[j] <= left:
                        pick = j
                j += 1
            if pick is not None:
                place(pick)
                continue
            while window >= 0 and (k := filler()) is not None:
                place(k)
            if window >= 0:
                room.add(window, left)
            window, left = layout.new_window(), size
            place(i)
        while i < len(pieces) and taken[i]:
            i += 1
    if window >= 0:
        room.add(window, left)


def best_fit(layout: Layout, items, room: FreeRoom, long_docs: str):
    """Best-fit decreasing of `items` (in their given order on ties) into `room`'s windows and new ones."""
    pieces = []
    for k, item in enumerate(items):
        rest = layout.cut_long(item, long_docs)
        if rest is not None:
            pieces.append((rest[0] - rest[1], k, item, rest[0]))
    pieces.sort()
    size = layout.size
    for neg, _, item, start in pieces:
        n = -neg
        got = room.take(n)
        window, left = got if got is not None else (layout.new_window(), size)
        layout.put(window, item, start, start + n)
        room.add(window, left - n)


def first_fit(layout: Layout, items, long_docs: str, open_windows: int):
    """The earlier packer: in order, into the first of at most `open_windows` windows that fits."""
    size = layout.size
    open_: list[list] = []  # [fill, [(item, start, end)]]

    def close(pieces):
        window = layout.new_window()
        for piece in pieces:
            layout.put(window, *piece)

    for item in items:
        rest = layout.cut_long(item, long_docs)
        if rest is None:
            continue
        n = rest[1] - rest[0]
        for win in open_:
            if size - win[0] >= n:
                win[0] += n
                win[1].append((item, *rest))
                break
        else:
            if len(open_) >= open_windows:
                fullest = max(range(len(open_)), key=lambda i: (open_[i][0], -i))
                close(open_.pop(fullest)[1])
            open_.append([n, [(item, *rest)]])
    for _, pieces in open_:
        close(pieces)


def pack(lengths, size: int, method: str = "best_fit", long_docs: str = "split", loose=(), chains=(),
         open_windows: int = 64, seed: int = 0) -> Layout:
    """Lay out `loose` items (the shuffled order) and `chains` ((items, lookahead, groups or None)) in windows."""
    layout = Layout(lengths, size)
    if method == "first_fit":
        if chains:
            raise ValueError("composed leaves need best_fit packing")
        first_fit(layout, loose, long_docs, open_windows)
        return layout
    room = FreeRoom(size)
    for chain, lookahead, groups in chains:
        chain_fit(layout, chain, room, long_docs, lookahead, groups)
    best_fit(layout, loose, room, long_docs)
    layout.order = np.random.default_rng(seed).permutation(layout.windows)
    return layout


def summarize(layout: Layout, groups, names: list[str]) -> dict:
    """Waste overall and per group (a leaf): padding (each window's shared out by its tokens),
    documents split and truncated; `groups[item]` is the item's index into `names`."""
    size, n_items = layout.size, len(layout.lengths)
    lengths = np.asarray(layout.lengths, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    window = np.frombuffer(layout.window, np.int64) if len(layout.window) else np.zeros(0, np.int64)
    tokens = (np.frombuffer(layout.end, np.int64) - np.frombuffer(layout.start, np.int64)) if len(window) \
        else np.zeros(0, np.int64)
    item = np.frombuffer(layout.item, np.int64) if len(window) else np.zeros(0, np.int64)
    fill = np.bincount(window, weights=tokens, minlength=layout.windows)
    pad_share = (size - fill[window]) * tokens / fill[window] if len(window) else np.zeros(0)
    cut = np.frombuffer(bytes(layout.cut), np.uint8) if n_items else np.zeros(0, np.uint8)
    truncated = np.where(cut == TRUNCATED, lengths - size, 0)
    g_pieces = groups[item] if len(item) else np.zeros(0, np.int64)
    k = len(names)
    per = {
        "documents": np.bincount(groups, minlength=k),
        "tokens": np.bincount(g_pieces, weights=tokens, minlength=k),
        "padding_tokens": np.bincount(g_pieces, weights=pad_share, minlength=k),
        "split_documents": np.bincount(groups, weights=cut == SPLIT, minlength=k),
        "truncated_documents": np.bincount(groups, weights=cut == TRUNCATED, minlength=k),
        "truncated_tokens": np.bincount(groups, weights=truncated, minlength=k),
    }
    leaves = {name: {key: int(round(per[key][i])) for key in per} for i, name in enumerate(names)}
    for row in leaves.values():
        row["padding_pct"] = _pct(row["padding_tokens"], row["tokens"] + row["padding_tokens"])
        row["cut_documents_pct"] = _pct(row["split_documents"] + row["truncated_documents"], row["documents"])
    total = layout.windows * size
    stats = {"window_tokens": size, "windows": layout.windows, "documents": n_items,
             "padding_tokens": int(total - tokens.sum()), "split_documents": int((cut == SPLIT).sum()),
             "truncated_documents": int((cut == TRUNCATED).sum()), "truncated_tokens": int(truncated.sum())}
    stats["padding_pct"] = _pct(stats["padding_tokens"], total)
    stats["truncated_pct"] = _pct(stats["truncated_tokens"], int(lengths.sum()))
    stats["cut_documents_pct"] = _pct(stats["split_documents"] + stats["truncated_documents"], n_items)
    stats["leaves"] = leaves
    return stats


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 3) if whole else 0.0

"""Text from data made safe for a terminal.

Document ids, texts, file names and spec values can hold escape sequences (ESC, CSI), other control
characters, bidirectional overrides (U+202E turns `exe.txt` into `txt.exe` on screen) and
zero-width characters. Before any of it reaches a terminal it is shown as `\\u202e`-style escapes,
so what a user reads is what the data holds.
"""
import unicodedata

_KEEP = {"\n", "\t"}


def _visible(char: str) -> str:
    if char in _KEEP:
        return char
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):  # controls, format (bidi, zero-width)
        return f"\\u{ord(char):04x}"
    return char


def safe_text(text: str, one_line: bool = False) -> str:
    """`text` with every control, format and separator character written as an escape."""
    out = "".join(map(_visible, text))
    return out.replace("\n", " \\n ").replace("\t", " ") if one_line else out

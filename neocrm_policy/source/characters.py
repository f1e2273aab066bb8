"""Full-width characters, as a Chinese input method types them in place of ASCII ones.

Text pasted from a Chinese document may carry `６０`, `：` or `（`: they are never read as
their ASCII look-alikes but refused naming the character, so both the YAML reader (keys)
and the expression language (values) must know them; they sit here, below both.
"""

from __future__ import annotations

import unicodedata

FULL_WIDTH_NAMES = {"：": "full-width colon", "，": "full-width comma",
                    "（": "full-width opening bracket", "）": "full-width closing bracket",
                    "％": "full-width percent sign", "．": "full-width full stop",
                    "\u3000": "full-width space", "＋": "full-width plus sign",
                    "－": "full-width minus sign", "＜": "full-width less-than sign",
                    "＞": "full-width greater-than sign", "＝": "full-width equals sign"}


def is_full_width(char: str) -> bool:
    """A full-width form of an ASCII character (`６`, `：`, `（`) or the ideographic
    space: what a Chinese input method types in place of the ASCII one."""
    return "\uff01" <= char <= "\uff5e" or char == "\u3000"


def ascii_form(text: str) -> str:
    """`text` with each full-width form replaced by its ASCII character."""
    return "".join(unicodedata.normalize("NFKC", c) if is_full_width(c) else c for c in text)


def describe_full_width(char: str) -> str:
    """`full-width digit `６``: the character named so an editor can find it."""
    plain = ascii_form(char)
    if plain.isdigit():
        kind = "full-width digit"
    elif plain.isalpha():
        kind = "full-width letter"
    else:
        kind = FULL_WIDTH_NAMES.get(char, "full-width character")
    return f"{kind} `{char}`"

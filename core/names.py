"""Character names: one lookup key and one look-alike skeleton per name.

`name_key` is how a typed name finds a character: NFKC (fullwidth "ＬＵＮＡ" is "LUNA", the "ﬁ" ligature
is "fi") and casefold. `skeleton` is what two names must not share within a community, after UTS #39's
idea of a confusable skeleton: besides the key's folding it maps letters of other scripts that look like
Latin ones (Cyrillic "а", Greek "ο"), the classic Latin look-alikes ("I"/"l"/"1", "0"/"O", "rn"/"m"), and
it drops accents, which vanish at chat font sizes ("Luná", "Luna" + a combining accent and "Luna" would sit
side by side in an autocomplete list). Separators are one: "Luna-Rose", "Luna_Rose" and "Luna Rose".

Why a small table and not a library: confusable-homoglyphs (the maintained one) answers "is this string
mixed-script or confusable?" but computes no skeleton to compare two names by, and `confusables` (last
released 2021) expands a string into all its variants rather than one normal form. Names here are at most
32 characters of letters, digits, spaces, '-' and '_', so the letters that matter are few: the Cyrillic
and Greek ones that render as Latin letters in common chat fonts.
"""

from __future__ import annotations

import unicodedata

# Before casefolding, so capitals map by their own shape (Cyrillic "Н" looks like "H", its "н" does not).
_OTHER_SCRIPTS = {
    # Cyrillic capitals and small letters that render as Latin ones
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t",
    "Х": "x", "У": "y", "І": "l", "Ј": "j", "Ѕ": "s", "Ԛ": "q", "Ԝ": "w", "Ү": "y", "Ӏ": "l",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ɡ": "g",
    # Greek
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "l", "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o",
    "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k",
    "τ": "t", "υ": "u", "χ": "x", "ϲ": "c",
}
# Latin and digits that pass for each other: names only (in a prompt "1" may be a number, "I" a word)
_LOOKALIKES = str.maketrans({**_OTHER_SCRIPTS, "I": "l", "1": "l", "|": "l", "0": "o", "-": " ", "_": " "})
SCRIPT_LOOKALIKES = str.maketrans(_OTHER_SCRIPTS)  # other scripts' letters that render as Latin ones


def name_key(name: str) -> str:
    """The lookup key: NFKC, casefolded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def skeleton(name: str) -> str:
    """Two names with the same skeleton look alike; a community keeps one of them."""
    folded = unicodedata.normalize("NFKC", name).translate(_LOOKALIKES).casefold()
    bare = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    return " ".join(bare.replace("rn", "m").translate(_LOOKALIKES).split())

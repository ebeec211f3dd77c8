"""A prompt as the prompt rules read it: the spelling tricks undone, each word with the spellings it may stand for.

Steps, in order, each against one trick:
- NFKC: fullwidth "ｎｕｄｅ", mathematical bold "𝐧𝐮𝐝𝐞" and ligatures become plain letters;
- letters of other scripts that render as Latin ones (core.names' table: Cyrillic "е", Greek "ο") fold to them;
- casefold, then accents and every combining mark ("n̶u̶d̶e̶", "nudé") and invisible format character (zero-width
  space and joiner, soft hyphen) are dropped;
- words are split on anything but letters, digits and the symbols leetspeak uses, and a run of single characters
  is one word again ("s e x", "s.e.x", "s-e-x", "s_e_x" all read "sex");
- leetspeak inside a word that has letters ("s3x", "$exy", "k1d", "n@ked"); a number alone stays a number, so
  "13 year old" keeps its age. "1" and "|" may be "i" or "l": both spellings are kept;
- repeated letters: a word matches a term when both read the same with every run squeezed to one letter and the
  word is at least as long ("seeexxy" is "sexy", but "ten" is not "teen"); a trailing plural "s"/"es" may go.

Matching is per whole word, so "class" is not "ass", "Essex" not "sex" and "kidney" not "kid".
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.names import SCRIPT_LOOKALIKES

# A capital I of another script reads "I" in a prompt ("КІD"), not the "l" a name's skeleton makes of it.
_SCRIPTS = {**SCRIPT_LOOKALIKES, ord("І"): "i", ord("Ι"): "i", ord("Ӏ"): "i"}
_WORD = re.compile(r"(?:[^\W_]|[@$!|+€*#])+")
_LEET = str.maketrans({"0": "o", "2": "z", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
                       "@": "a", "$": "s", "+": "t", "€": "e", "!": "i"})
_AMBIGUOUS = ("1", "|")  # "i" or "l"
_MASKS = "*#"  # a letter hidden inside a word: "n*de", "p#rn"; most often a vowel
_VOWELS = "aeiou"
_RUN = re.compile(r"(.)\1+")
# Characters read. Longer texts are refused by the length checks anyway (a prompt is at most 2000, a description
# 500), so what lies beyond is never sent; the bound keeps a huge paste from costing the rules time.
MAX_TEXT = 8000


@functools.lru_cache(maxsize=4096)
def squeeze(word: str) -> str:
    """Every run of one letter squeezed to one: "seeexxy" -> "sexy"."""
    return _RUN.sub(r"\1", word)


@dataclass(frozen=True, slots=True)
class Word:
    spellings: Mapping[str, int]  # squeezed spelling -> the longest unsqueezed length it was read from
    forms: tuple[str, ...]  # the readings themselves, first the likeliest

    def means(self, term: str) -> bool:
        """This word may be `term` (a term written plainly, lower case)."""
        return self.spellings.get(squeeze(term), -1) >= len(term)

    def means_any(self, terms: Terms) -> bool:
        return any(n >= terms.get(s, n + 1) for s, n in self.spellings.items())


Terms = dict[str, int]  # a term list as squeezed term -> its shortest length: one lookup per spelling


def terms_index(terms: Iterable[str]) -> Terms:
    index: Terms = {}
    for term in terms:
        key = squeeze(term)
        index[key] = min(index.get(key, len(term)), len(term))
    return index


@dataclass(frozen=True, slots=True)
class Text:
    plain: str  # folded, casefolded, marks and invisibles dropped, spaces collapsed; digits and symbols kept
    decoded: str  # the words' likeliest readings, space-separated: what a pattern also runs against
    words: tuple[Word, ...]
    # squeezed spelling -> positions of the words read so: a phrase is looked up, not compared with every word
    # (200 word filters on a 2000-character prompt were 130 000 comparisons, a third of a second)
    at: Mapping[str, tuple[int, ...]]

    def has(self, phrase: tuple[str, ...]) -> bool:
        """The phrase's words appear next to each other, in order."""
        n, first = len(phrase), phrase[0]
        return any(i + n <= len(self.words) and all(self.words[i + j].means(phrase[j]) for j in range(n))
                   for i in self.at.get(squeeze(first), ()))


def text_of(plain: str, decoded: str, words: tuple[Word, ...]) -> Text:
    at: dict[str, list[int]] = {}
    for i, word in enumerate(words):
        for spelling in word.spellings:
            at.setdefault(spelling, []).append(i)
    return Text(plain, decoded, words, {k: tuple(v) for k, v in at.items()})


def fold(text: str) -> str:
    """NFKC, look-alike letters folded, casefolded, accents, marks and invisible characters dropped."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT]).translate(_SCRIPTS).casefold()
    kept = (c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) not in ("Mn", "Me", "Cf"))
    return unicodedata.normalize("NFC", "".join(kept))


def readings(token: str) -> tuple[str, ...]:
    """What a written word may stand for: itself, and its leetspeak decoded when it mixes letters and digits."""
    if not any(c.isalpha() for c in token) or token.isalpha():
        return (token,)
    decoded = token.translate(_LEET)
    forms = [decoded]
    if any(a in token for a in _AMBIGUOUS):
        forms = [decoded.replace("1", "i").replace("|", "i"), decoded.replace("1", "l").replace("|", "l")]
    forms += [unmasked for form in forms for unmasked in _unmasked(form)]
    bare = "".join(c for c in token if c.isalnum())  # "nude!" is "nude" too, whatever "!" may stand for
    return tuple(dict.fromkeys([*forms, bare, token]))


def _unmasked(form: str) -> list[str]:
    """A word with one or two letters masked inside ("n*de", "t**n"): each with vowels in their place."""
    inner = form.strip(_MASKS)
    masked = [i for i, c in enumerate(inner) if c in _MASKS]
    if not masked or len(masked) > 2:
        return []
    out = []
    for vowels in itertools.product(_VOWELS, repeat=len(masked)):
        letters = list(inner)
        for i, vowel in zip(masked, vowels, strict=True):
            letters[i] = vowel
        out.append("".join(letters))
    return out


def _word(forms: Iterable[str]) -> Word:
    forms = tuple(forms)
    spellings: dict[str, int] = {}
    for form in forms:
        for bare in (form, form[:-1] if form.endswith("s") else "", form[:-2] if form.endswith("es") else ""):
            if bare:
                key = squeeze(bare)
                spellings[key] = max(spellings.get(key, 0), len(bare))
    return Word(spellings, forms)


def _joined(tokens: list[str]) -> list[str]:
    """Runs of two or more single characters are one word: "s e x" -> "sex"."""
    out: list[str] = []
    for single, run in itertools.groupby(tokens, key=lambda t: len(t) == 1):
        run = list(run)
        out += ["".join(run)] if single and len(run) > 1 else run
    return out


def normalize(text: str) -> Text:
    plain = " ".join(fold(text).split())
    words = tuple(_word(readings(token)) for token in _joined(_WORD.findall(plain)))
    return text_of(plain, " ".join(w.forms[0] for w in words), words)

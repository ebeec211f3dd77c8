"""The operator's minor-safety rule: sexual content together with minors is refused, in every community, always.

Two term lists, one for each side; a prompt is refused when both sides match (anywhere in the text, in either
order, or glued into one word: "kidp0rn"), or when a term that means both on its own appears ("lolicon").
Ages count as the minor side: "12yo", "12 y/o", "twelve year old", "aged 14".

The lists are chosen so that each side alone is innocent: "teenage mutant ninja turtles poster", "kids' birthday
party" and "a nude marble statue" all pass. Words with an everyday meaning beside a sexual one are left out of
the sexual side ("dick" as in Moby Dick, "kinky hair", "chicken breasts", "paint stripper", "thong sandals",
"explicit instructions", "naughty kids", "a bottomless pit"), and "girl"/"boy"/"baby"/"student" alone are not
minors (adults are called all of them). A few fixed innocent phrases are read as nothing: "naked eye", "naked
trees", "cum laude", "blue tits" (the birds), "minor league".
Matching is per whole word after core.moderation.normalize undid the spelling tricks, so "class", "Essex",
"Sussex", "sextant" and "kidney" are not hits.

No community setting reaches this module: core.moderation.guard runs it before any community rule.
"""

from __future__ import annotations

import re

from core.moderation.normalize import Terms, Text, Word, normalize, squeeze, terms_index, text_of


def _terms(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_MINOR_WORDS = _terms(
    "child children childs kid kids kiddo kiddie kiddy toddler infant newborn minor minors underage preteen "
    "pubescent prepubescent tween teen teenager teenage teenaged schoolgirl schoolboy schoolchild "
    "schoolchildren loli shota lolita kindergartener kindergartner youngster"
)

_MINOR_PHRASES = (
    ("little", "girl"), ("little", "boy"), ("little", "kid"), ("young", "girl"), ("young", "boy"),
    ("school", "girl"), ("school", "boy"), ("under", "age"), ("pre", "teen"), ("middle", "school"),
    ("elementary", "school"), ("grade", "school"), ("primary", "school"), ("not", "yet", "adult"),
)
_SEXUAL_WORDS = _terms(
    "sex sexy sexual sexually sexualized sexualised nude nudes nudity naked nsfw porn porno pornographic "
    "pornography hentai ecchi erotic erotica lewd xxx fetish bdsm bondage orgasm genitals genitalia penis "
    "vagina vulva nipple nipples topless undressed undressing unclothed striptease lingerie "
    "seductive seducing seduce sensual horny aroused arousing intercourse fuck fucking fucked blowjob handjob "
    "cum cumshot rape raped molest molested molesting grope groped groping boobs tits titties masturbate "
    "masturbating masturbation onlyfans pornstar ahegao oppai futanari"
)

_SEXUAL_PHRASES = (("spread", "legs"), ("no", "clothes"), ("without", "clothes"), ("no", "clothing"))
_BOTH_WORDS = _terms(
    "lolicon shotacon jailbait pedo pedophile pedophilia paedophile paedophilia pedophilic csam childporn "
    "kiddieporn kiddyporn"
)

_BOTH_PHRASES = (("child", "porn"), ("kiddie", "porn"), ("kiddy", "porn"), ("child", "sex"), ("kid", "sex"))
_INNOCENT = (
    ("naked", "eye"), ("naked", "mole", "rat"), ("naked", "tree"), ("naked", "branch"), ("cum", "laude"),
    ("nude", "color"), ("nude", "colour"), ("nude", "lipstick"), ("topless", "car"), ("topless", "bus"),
    ("blue", "tit"), ("great", "tit"), ("coal", "tit"), ("minor", "league"), ("minor", "key"), ("minor", "chord"),
)

_NUMBER_WORDS = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
                "sixteen seventeen"
_UNDER_18 = rf"(?:[0-9]|1[0-7]|{_NUMBER_WORDS.replace(' ', '|')})"
_AGE = re.compile(
    rf"\b{_UNDER_18}\s*(?:yo|y/o|y\.o\.?|yrs? old|years? old|year[\s-]old|years[\s-]old|yr[\s-]old)(?![a-z])"
    rf"|\baged?\s*(?:[0-9]|1[0-7])\b")

_MINOR, _SEXUAL, _BOTH = terms_index(_MINOR_WORDS), terms_index(_SEXUAL_WORDS), terms_index(_BOTH_WORDS)
_MINOR_KEYS = frozenset(squeeze(w) for w in _MINOR_WORDS)
_SEXUAL_KEYS = frozenset(squeeze(w) for w in _SEXUAL_WORDS)
_GLUED_MAX = 40  # a longer "word" is no compound; splitting it everywhere would cost its length squared
_BOTH_LONG = tuple(w for w in _BOTH_WORDS if len(w) >= 7)  # long enough to be found inside a word ("torpedo")


def _any_word(text: Text, terms: Terms) -> bool:
    return any(word.means_any(terms) for word in text.words)


def _glued(word: Word) -> bool:
    """One word that is a minor term and a sexual term run together, either way round ("kidp0rn", "sexteen"), or
    holds a long term meaning both ("sexyjailbait": spaced-out letters are joined into one word)."""
    for form in word.forms:
        if any(term in form for term in _BOTH_LONG):
            return True
        if len(form) > _GLUED_MAX:
            continue
        for i in range(3, len(form) - 2):  # both parts 3+ letters: "xxx" squeezes to "x"
            a, b = squeeze(form[:i]), squeeze(form[i:])
            if (a in _MINOR_KEYS and b in _SEXUAL_KEYS) or (a in _SEXUAL_KEYS and b in _MINOR_KEYS):
                return True
    return False


def _without_innocent(text: Text) -> Text:
    words = list(text.words)
    for phrase in _INNOCENT:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if all(words[i + j].means(phrase[j]) for j in range(n)):
                words[i:i + n] = [Word({}, ())] * n
    return text_of(text.plain, text.decoded, tuple(words))


def minors_sexualized(text: Text | str) -> bool:
    """The operator's rule: True when the text combines sexual content with minors."""
    text = _without_innocent(normalize(text) if isinstance(text, str) else text)
    if _any_word(text, _BOTH) or any(text.has(p) for p in _BOTH_PHRASES):
        return True
    if any(_glued(word) for word in text.words):
        return True
    minor = _any_word(text, _MINOR) or any(text.has(p) for p in _MINOR_PHRASES) or bool(_AGE.search(text.plain))
    return minor and (_any_word(text, _SEXUAL) or any(text.has(p) for p in _SEXUAL_PHRASES))

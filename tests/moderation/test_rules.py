"""The prompt rules as pure functions: normalization, the operator's minor-safety rule (two tables: spelled-around
variants it must refuse, innocent prompts with similar words it must let through), word and pattern filters."""

from __future__ import annotations

import time

import pytest

from core.moderation.errors import FilterRefused, PromptBlocked
from core.moderation.normalize import normalize
from core.moderation.rules import (
    MAX_PATTERN,
    FilterKind,
    compiled,
    first_hit,
    parse_blocklist,
    pattern_filter,
    word_filter,
)
from core.moderation.safety import minors_sexualized
from core.phrasing import TEXT

# Each must be refused by the operator's rule: the trick it uses is named beside it.
REFUSED = [
    "nude child",  # plain
    "NAKED PRETEEN",  # case
    "n u d e ch1ld",  # spaced letters, leetspeak
    "n.u.d.e kid",  # dotted letters
    "s-e-x-y little girl",  # dashed letters, a two-word minor term
    "s_e_x_y j a i l b a i t",  # underscores; a term that is both sides at once
    "ｓｅｘｙ ｔｅｅｎ",  # fullwidth (NFKC)
    "𝐧𝐮𝐝𝐞 𝐜𝐡𝐢𝐥𝐝",  # mathematical bold (NFKC)
    "sexy tееn",  # Cyrillic "е" look-alikes
    "КІD in lingerie",  # Cyrillic capitals, "І" as I
    "s3xy t33n",  # leetspeak digits
    "$exy k1d",  # leetspeak symbols, "1" as i
    "n@ked toddler",  # "@" as a
    "nu\u200bde ki\u200dd",  # zero-width space and joiner inside words
    "n\u0336u\u0336d\u0336e\u0336 child",  # combining strike-through
    "nudé chïld",  # accents
    "seeeexxy schoolgirl",  # repeated letters
    "sexxy kiiids",  # repeated letters and a plural
    "p0rn with minors",  # plural minor term
    "hentai loli",
    "lolicon art",  # a term that is both sides at once
    "12yo nude",  # an age, glued
    "12 y/o naked",
    "twelve year old in lingerie",  # an age in words
    "erotic photo, aged 14",
    "underage erotic photo",
    "under-age nsfw",  # split compound
    "kidp0rn",  # both sides glued into one word
    "teen, with no clothes",  # a sexual phrase
    "nude school girl",
    "l.o.l.i nsfw",
    "n*de k*d",  # masked letters
    "*s#xy* t**n",
]

# Each must pass: it contains a word that looks like one side, or one side alone.
INNOCENT = [
    "a kid in a classroom doing math",  # class, not ass
    "Essex countryside with children playing football",  # Essex, not sex
    "kidney bean soup on a wooden table",  # kidney, not kid
    "teenage mutant ninja turtles poster",  # a minor term alone
    "a sexy woman in a red dress at a gala",  # a sexual term alone, an adult
    "Middlesex university campus at dawn",
    "kids' birthday party with a magician",
    "a knight rescues the kidnapped princess",  # kidnapped, not kid
    "Sussex school sports day",
    "a nude marble statue in a museum",
    "kids watching a naked mole rat at the zoo",  # an innocent phrase
    "stargazing with the naked eye, a family with children",
    "skid marks on a racetrack",
    "a child's drawing of a sunset",
    "an adult couple kissing on a beach",
    "a young woman in lingerie, fashion photo",
    "sextant on a ship captain's desk, kids looking on",  # sextant, not sex
    "Sexton the gravedigger talking to a child",
    "a teenager skateboarding in the park",
    "Moby Dick illustrated for children",
    "the 12 days of Christmas",
    "a toddler playing with blocks",
    "a 12 year old's birthday cake",
    "kids with kinky curly hair at school",
    "chicken breasts for the kids' lunch",
    "my grandmother graduated magna cum laude, grandchildren around her",
    "children sledding under naked trees in winter",
    "kids birdwatching: blue tits and great tits at a feeder",
    "a sexy minor league baseball uniform ad",
    "kids staring into a bottomless pit, fantasy art",
]


@pytest.mark.parametrize("prompt", REFUSED)
def test_the_operator_rule_refuses_every_spelled_around_variant(prompt: str) -> None:
    assert minors_sexualized(prompt), prompt


@pytest.mark.parametrize("prompt", INNOCENT)
def test_the_operator_rule_lets_innocent_prompts_through(prompt: str) -> None:
    assert not minors_sexualized(prompt), prompt


def test_the_tables_are_big_enough() -> None:
    assert len(REFUSED) >= 20 and len(INNOCENT) >= 20


def test_normalize_undoes_the_tricks_but_keeps_numbers() -> None:
    text = normalize("Ｂ４Ｎ４Ｎ４ s.p.l.i.t, 13 year old\u200b!")
    assert text.decoded.split()[:2] == ["banana", "split"]
    assert "13 year old" in text.plain
    assert text.has(("banana", "split")) and not text.has(("split", "banana"))


def test_a_word_filter_matches_whole_words_after_normalization() -> None:
    banana = word_filter("Banana")
    for prompt in ("a BANANA split", "b a n a n a", "b4n4n4 bread", "bananas", "baaanana"):
        assert first_hit(normalize(prompt), [banana]) is banana, prompt
    for prompt in ("a bandana", "bananarama", "ban an a"):
        assert first_hit(normalize(prompt), [banana]) is None, prompt
    assert word_filter("B4N4N4").key == banana.key  # the same filter however the admin spelled it


def test_a_phrase_filter_needs_its_words_in_order() -> None:
    f = word_filter("red  hat")
    assert f.value == "red hat"
    assert first_hit(normalize("a RED-hat party"), [f]) is f
    assert first_hit(normalize("a hat, red"), [f]) is None


def test_patterns_run_on_the_folded_and_the_decoded_text() -> None:
    f = pattern_filter(r"drag(on|in)fly")
    assert first_hit(normalize("A DRAGONFLY"), [f]) is f
    assert first_hit(normalize("dr4g0nfly"), [f]) is f
    assert first_hit(normalize("a dragon, flying"), [f]) is None


def test_a_catastrophic_pattern_runs_in_linear_time() -> None:
    # Python's backtracking re takes exponential time on this; RE2 can't backtrack.
    f = pattern_filter("(a+)+$")
    text = "a" * 100_000 + "!"
    started = time.perf_counter()
    assert compiled(f.value).search(text) is None
    assert first_hit(normalize(text[-5000:]), [f]) is None
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize(("value", "problem"), [
    (r"(a)\1", "bad_pattern"),  # backreference: RE2 has none
    ("(?=a)b", "bad_pattern"),  # lookahead
    ("(a", "bad_pattern"),
    ("((a{100}){100}){100}", "bad_pattern"),  # beyond RE2's repetition and memory bounds
    ("a" * (MAX_PATTERN + 1), "too_long"),
    ("  ", "empty"),
])
def test_patterns_re2_cant_compile_or_too_long_are_refused_with_a_reason(value: str, problem: str) -> None:
    with pytest.raises(FilterRefused) as refused:
        pattern_filter(value)
    assert refused.value.problem == problem
    assert "pattern" in str(refused.value)


def test_a_word_without_letters_or_too_long_is_refused() -> None:
    with pytest.raises(FilterRefused, match="no letters or digits"):
        word_filter("?? ...")
    with pytest.raises(FilterRefused, match="up to 60 characters"):
        word_filter("x" * 61)


def test_the_operator_blocklist_file() -> None:
    found = parse_blocklist(["# the operator's own", "", "Banana", r"re:ch[e3]rry\b"])
    assert [(f.kind, f.value) for f in found] == [(FilterKind.WORD, "Banana"), (FilterKind.PATTERN, r"ch[e3]rry\b")]
    with pytest.raises(FilterRefused):
        parse_blocklist(["re:(a"])


def test_a_refusal_names_the_rule_kind_never_the_text() -> None:
    words = PromptBlocked(rule="word", field="prompt").words(TEXT)
    assert "community word filter" in words and "Nothing was charged" in words
    assert "operator's safety rules" in PromptBlocked(rule="operator_safety").words(TEXT)

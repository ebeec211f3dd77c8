"""Prompt-rule benchmark: what screening a prompt costs, and RE2 against Python's `re` on a catastrophic pattern.

    uv run python tests/bench/prompt_rules.py

1. `(a+)+$` against "a" * n + "!": Python's backtracking `re` doubles its time with every added "a"; RE2 stays
   linear. Printed per n, with the ratio re / RE2 measured in the same run (re only up to n = 24: beyond that
   it takes seconds). RE2 also runs on 100 000 characters, the size the issue names.
2. The operator's rule plus 25 community patterns and 200 words (the per-community maxima) on prompts of the
   catalog's maximum length (2000 characters), ms per screen: the time a generation waits on the rules, on
   the event loop.
"""

from __future__ import annotations

import re
import statistics
import time

from core.moderation.normalize import normalize
from core.moderation.rules import MAX_PATTERNS, MAX_WORDS, compiled, first_hit, pattern_filter, word_filter
from core.moderation.safety import minors_sexualized


def _best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def catastrophic() -> None:
    python_re, re2 = re.compile(r"(a+)+$"), compiled("(a+)+$")
    print("(a+)+$ on 'a' * n + '!'         re (ms)   RE2 (ms)   re / RE2")
    for n in (16, 18, 20, 22, 24):
        text = "a" * n + "!"
        slow = _best(lambda t=text: python_re.search(t), repeat=1)
        fast = _best(lambda t=text: re2.search(t))
        print(f"  n = {n:>7}                    {slow * 1000:8.2f}   {fast * 1000:8.4f}   {slow / fast:9.0f}x")
    text = "a" * 100_000 + "!"
    print(f"  n = 100000                         —   {_best(lambda: re2.search(text)) * 1000:8.4f}   (re: hours)")


def screening() -> None:
    filters = [pattern_filter(rf"\bword{i}(s|es)?\b") for i in range(MAX_PATTERNS)]
    filters += [word_filter(f"term{i} phrase") for i in range(MAX_WORDS)]
    prompts = {
        "2000 chars, short words": ("ab " * 667)[:2000],
        "2000 chars, prose": ("a lighthouse on a cliff at dusk, oil painting, soft light, " * 40)[:2000],
        "2000 chars, one word": "x" * 2000,
        "typical (60 chars)": "my character on a beach at sunset, watercolor, soft light",
    }
    print("\nscreen (operator rule + 25 patterns + 200 words)   ms per prompt (median of 20)")
    for label, prompt in prompts.items():
        runs = []
        for _ in range(20):
            started = time.perf_counter()
            text = normalize(prompt)
            minors_sexualized(text)
            first_hit(text, filters)
            runs.append(time.perf_counter() - started)
        print(f"  {label:<28} {statistics.median(runs) * 1000:8.2f}")


if __name__ == "__main__":
    catastrophic()
    screening()

"""Themes: the words and phrases that recur across this week's reflections *and* mean something
against the study's whole corpus.

A theme is a word (or a two-word phrase) that appears in at least two different reflections,
ignoring common English words, weighed by TF-IDF against every reflection of the study: a term's
weight is the number of this week's reflections that use it times its inverse document
frequency, ``ln((1 + N) / (1 + df)) + 1``, over the ``N`` reflections of the corpus. A term used
in more than :data:`MAX_SHARE` of the corpus's reflections is the study's filler ("meeting",
"next", "looking"), and so is a phrase with such a word in it: neither is ever a theme, once the
corpus is large enough (:data:`MIN_CORPUS`) to tell. Researchers code properly in the review
app; digests only point at what keeps coming up.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z][a-z'’-]{2,}")
_CLAUSE = re.compile(r"[.,;:!?()\[\]\"\n]+")
_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+")

_STOP_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further get got had hadn't has hasn't have
    haven't having he he'd he'll he's her here here's hers herself him himself his how how's i
    i'd i'll i'm i've if in into is isn't it it's its itself just let's like lot lots me more
    most much mustn't my myself need needs no nor not now of off on once one only or other ought
    our ours ourselves out over own really same she she'd she'll she's should shouldn't so some
    still such than that that's the their theirs them themselves then there there's these they
    they'd they'll they're they've thing things think this those through to too under until up
    us very was wasn't we we'd we'll we're we've well were weren't what what's when when's where
    where's which while who who's whom why why's will with won't would wouldn't yes you you'd
    you'll you're you've your yours yourself yourselves week weeks today yesterday tomorrow
    going went make made use used way ways day days time bit quite maybe actually every even
    many new good great better best felt feel feels know knew said say says see saw seen
    team people person something anything everything nothing came come asked ask started
    told tell
"""
STOPWORDS = frozenset(_STOP_TEXT.split())


MAX_SHARE = 0.06  # a word in more of the corpus's reflections than this is filler
MIN_CORPUS = 30  # below this many reflections, nothing is called filler


@dataclass(frozen=True)
class Theme:
    term: str
    count: int  # reflections mentioning it


@dataclass(frozen=True)
class Corpus:
    """Document frequencies over a study's reflections: how many use each term."""

    size: int = 0
    frequency: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, texts: Iterable[str]) -> Corpus:
        frequency: Counter[str] = Counter()
        size = 0
        for text in texts:
            size += 1
            frequency.update(terms(text))
        return cls(size, frequency)

    def idf(self, term: str) -> float:
        return math.log((1 + self.size) / (1 + self.frequency.get(term, 0))) + 1

    def is_filler(self, term: str) -> bool:
        """Whether ``term``, or a word of it, is used too widely in the corpus to mean much."""
        if self.size < MIN_CORPUS:
            return False
        return any(
            self.frequency.get(part, 0) > MAX_SHARE * self.size for part in (term, *term.split())
        )

    def weight(self, term: str, count: int) -> float:
        """TF-IDF of ``term`` used in ``count`` of this week's reflections."""
        return count * self.idf(term)


def terms(text: str) -> set[str]:
    """The words and adjacent word pairs of ``text`` that could be a theme."""
    plain = _LINK.sub(" . ", text.lower().replace("’", "'"))
    found: set[str] = set()
    for clause in _CLAUSE.split(plain):
        words = [w.strip("'-") for w in _WORD.findall(clause)]
        kept = [w if w not in STOPWORDS and len(w) >= 3 else "" for w in words]
        found.update(w for w in kept if w)
        for first, second in itertools.pairwise(kept):
            if first and second:
                found.add(f"{first} {second}")
    return found


def top_themes(
    texts: Iterable[str], corpus: Corpus | None = None, limit: int = 5, min_count: int = 2
) -> list[Theme]:
    """The weightiest themes of ``texts`` against ``corpus`` (by default, ``texts`` alone); a
    phrase wins over the words inside it when as frequent."""
    texts = list(texts)
    corpus = corpus if corpus is not None and corpus.size else Corpus.of(texts)
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms(text))
    ranked = sorted(
        (item for item in counts.items() if item[1] >= min_count and not corpus.is_filler(item[0])),
        key=lambda item: (-corpus.weight(*item), -len(item[0].split()), item[0]),
    )
    chosen: list[Theme] = []
    for term, count in ranked:
        if any(term in theme.term.split() and count <= theme.count for theme in chosen):
            continue
        chosen.append(Theme(term, count))
        if len(chosen) == limit:
            break
    return chosen

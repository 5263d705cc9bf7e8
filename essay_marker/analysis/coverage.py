"""Factor coverage, sentence by sentence: which reasons the essay names, explains and weighs.

Matching is a small closed set of code (cue phrases on stems, with a gap marker and
misspelling tolerance); everything question-specific comes from the rubric.

`analyse_coverage` is one long pass over the sentences (about 120 lines) on purpose: what
a sentence does depends on the one before ("This meant ..." inherits its factors), and the
state that carries from sentence to sentence reads most plainly in one loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from essay_marker.records import (
    EXPLAINING,
    Coverage,
    Evidence,
    FactorCoverage,
    Hint,
    Judgement,
    MisconceptionHit,
    Role,
    SentenceRoles,
    Span,
    Status,
)
from essay_marker.rubric import DateFact, Misconception, Rubric
from essay_marker.spelling import Lexicon
from essay_marker.text import Doc, Sentence, Token, phrase_stems, stem, stop_words

ROLES = tuple(Role)
_GAP = 4  # words a "*" in a cue phrase may stand for
_YEAR = re.compile(r"^(19[0-4]\d)s?$")
_FULL_YEAR = re.compile(r"^1[89]\d\d$")
_DECADE_OR_YEAR = re.compile(r"^(1[89]\d\d)s?$")  # 1936, the 1930s
_RANGE_END = re.compile(r"\s*[-–—]\s*(\d{4}|\d{2})\b")  # "1922-24", "1926–1927"
_DATE_GAP = 6  # words from an event to its year ("expelled from the party in 1927")
_DATE_GAP_BEFORE = 4  # words from a year to its event ("In 1921 Stalin was given the job of…")
# A year beyond one of these words belongs to another clause ("Lenin died and by 1929 ...").
_DATE_BREAKS = frozenset(
    {
        "and",
        "but",
        "when",
        "after",
        "before",
        "until",
        "by",
        "while",
        "then",
        "so",
        "because",
        "which",
        "who",
        "since",
        "although",
        "though",
        "whereas",
        "till",
        "or",
        "once",
    }
)
UNLISTED = ""  # what a judgement names for a reason the rubric does not list
# What `_judged` returns for a reason the writer names in words the rubric does not list
# ("the main reason was luck"), as against a verdict that names nothing ("that is why").
_OWN = "\x00own"
# A sentence starting with one of these continues the point of the sentence before.
_ANAPHORA = frozenset({"this", "that", "these", "those", "it", "which", "thus", "hence", "without"})


Pattern = tuple[tuple[str, ...], ...]  # parts of a cue phrase, split at "*"


def compile_cue(cue: str) -> Pattern:
    """A cue phrase as stem sequences separated by short gaps."""
    parts = tuple(phrase_stems(p) for p in cue.split(" * "))
    return tuple(p for p in parts if p)


def _match_at(stems: Sequence[str], i: int, pattern: Pattern) -> int | None:
    """End index if pattern matches starting exactly at i, else None."""
    pos = i
    for n, part in enumerate(pattern):
        width = len(part)
        if n == 0:
            if tuple(stems[pos : pos + width]) != part:
                return None
            pos += width
            continue
        for gap in range(_GAP + 1):
            at = pos + gap
            if tuple(stems[at : at + width]) == part:
                pos = at + width
                break
        else:
            return None
    return pos


class CueSet:
    """Many cue phrases indexed by their first stem, for quick matching."""

    def __init__(self, cues: Iterable[str]) -> None:
        self.by_first: dict[str, list[Pattern]] = {}
        for cue in cues:
            pattern = compile_cue(cue)
            if pattern:
                self.by_first.setdefault(pattern[0][0], []).append(pattern)
        self.firsts = frozenset(self.by_first)

    def find(self, stems: Sequence[str]) -> list[tuple[int, int]]:
        """(start, end) token index pairs of every match, leftmost first."""
        # Most cue sets match nothing in most sentences: a set intersection says so fast.
        if self.firsts.isdisjoint(stems):
            return []
        found = []
        for i, s in enumerate(stems):
            for pattern in self.by_first.get(s, ()):
                end = _match_at(stems, i, pattern)
                if end is not None:
                    found.append((i, end))
        return found

    def first(self, stems: Sequence[str]) -> tuple[int, int] | None:
        """The leftmost match, if any."""
        found = self.find(stems)
        return min(found) if found else None


@cache
def cue_set(phrases: tuple[str, ...]) -> CueSet:
    """A CueSet for these phrases, built once per process."""
    return CueSet(phrases)


Matches = dict[int, list[tuple[int, int]]]  # cue set number -> its CueSet.find result


class CueIndex:
    """Many cue sets matched in one pass over a sentence.

    A sentence is checked against some forty cue sets (factors, language, misconceptions);
    one look-up per word in a combined index is much cheaper than forty set intersections.
    """

    def __init__(self, sets: Sequence[CueSet]) -> None:
        by_first: dict[str, list[tuple[int, Pattern]]] = {}
        for n, cues in enumerate(sets):
            for first, patterns in cues.by_first.items():
                by_first.setdefault(first, []).extend((n, p) for p in patterns)
        # Per first word: the patterns to try whatever follows it, and (keyed by the next
        # word) the patterns to try when that word follows; each list in the sets' order.
        self.by_first: dict[str, tuple[list[tuple[int, Pattern]], dict[str, list]]] = {}
        for first, entries in by_first.items():
            second = [p[0][1] if len(p[0]) > 1 else None for _, p in entries]
            self.by_first[first] = (
                [e for e, x in zip(entries, second, strict=True) if x is None],
                {
                    word: [e for e, x in zip(entries, second, strict=True) if x in (None, word)]
                    for word in {x for x in second if x is not None}
                },
            )

    def find(self, stems: Sequence[str]) -> Matches:
        """Every set's matches, as its CueSet.find gives them; sets with none are left out."""
        found: Matches = {}
        last = len(stems) - 1
        for i, s in enumerate(stems):
            entry = self.by_first.get(s)
            if entry is None:
                continue
            anywhere, by_next = entry
            candidates = by_next.get(stems[i + 1], anywhere) if by_next and i < last else anywhere
            for n, pattern in candidates:
                end = _match_at(stems, i, pattern)
                if end is not None:
                    found.setdefault(n, []).append((i, end))
        return found


@dataclass(frozen=True)
class _Compiled:
    index: CueIndex
    # Numbers of the cue sets in the index.
    factors: tuple[tuple[str, int], ...]
    named: frozenset[str]  # the factors the question's teaching names
    evidence: int
    causal: int
    weighing: int
    judgement: int
    verdict: int
    hedging: int
    undecided: int
    others_view: int
    signpost: int
    opinion: int
    on_question: int
    contrast: int
    concession: int
    ranked_lower: int
    doubt: int
    doubt_tags: int
    tentative: int
    answers: int  # openings that answer the question the sentence before asked
    image: int  # a result that is only how someone looked
    standing: int  # a result for the power struggle: who backed, trusted or beat whom
    later: int  # the rubric's outside_terms and outside_signs: other years than the question's
    question_links: int  # weighing words that point at the question ("links to the question")
    # Each misconception with, per group of its all_of, the cue sets of its unbroken
    # phrases and of its gapped ones ("a * b"), and the set of its none_of.
    misconceptions: tuple[tuple[Misconception, tuple[tuple[int, int], ...], int], ...]
    dates: tuple[tuple[DateFact, int], ...]
    # Factor cue sets whose matches go to another's (Factor.instead): (from, to, when, unless).
    instead: tuple[tuple[int, int, int, int], ...]
    # Factor cue sets and the sets of phrases that mask them (Factor.not_cues).
    masks: tuple[tuple[int, int], ...]
    # Factor cue sets naming a quality, with the sets naming others and Stalin (Factor.whose).
    whose: tuple[tuple[int, int, int], ...]
    openers: CueSet  # matched on a sentence's first words only
    lexicon: Lexicon

    @property
    def hedges(self) -> tuple[int, int, int, int]:
        """The cue sets that keep a sentence from judging unless it turns."""
        return self.hedging, self.undecided, self.others_view, self.signpost


@cache
def _compile(rubric: Rubric) -> _Compiled:
    lang = rubric.language
    sets: list[CueSet] = []

    def add(phrases: Iterable[str]) -> int:
        sets.append(CueSet(phrases))
        return len(sets) - 1

    factors = tuple((f.id, add(f.cues)) for f in rubric.factors)
    number = dict(factors)
    return _Compiled(
        factors=factors,
        named=frozenset(f.id for f in rubric.factors if f.named),
        evidence=add(e for f in rubric.factors for e in f.evidence),
        causal=add(lang.causal),
        weighing=add(lang.weighing),
        judgement=add(lang.judgement),
        verdict=add(lang.verdict),
        hedging=add(lang.hedging),
        undecided=add(lang.undecided),
        others_view=add(lang.others_view),
        signpost=add(lang.signpost),
        opinion=add(lang.opinion),
        on_question=add(lang.on_question),
        contrast=add(lang.contrast),
        concession=add(lang.concession),
        ranked_lower=add(lang.ranked_lower),
        doubt=add(lang.doubt),
        doubt_tags=add(lang.doubt_tags),
        tentative=add(lang.tentative),
        answers=add(lang.answers),
        image=add(lang.image),
        standing=add(lang.standing),
        later=add(rubric.outside_terms + rubric.outside_signs),
        question_links=add(lang.question_links),
        misconceptions=tuple(
            (
                m,
                tuple(
                    (add(p for p in g if "*" not in p), add(p for p in g if "*" in p))
                    for g in m.all_of
                ),
                add(m.none_of),
            )
            for m in rubric.misconceptions
        ),
        dates=tuple((d, add(d.cues)) for d in rubric.dates),
        instead=tuple(
            (number[f.id], number[f.instead.factor], add(f.instead.when), add(f.instead.unless))
            for f in rubric.factors
            if f.instead
        ),
        masks=tuple((number[f.id], add(f.not_cues)) for f in rubric.factors if f.not_cues),
        whose=tuple(
            (number[f.id], add(f.whose.others), add(f.whose.own)) for f in rubric.factors if f.whose
        ),
        openers=CueSet(lang.causal_openers),
        lexicon=Lexicon(rubric.terms),
        index=CueIndex(sets),
    )


class _StemFixer:
    """Maps misspelt names and terms to the rubric's term (Trotski -> trotsky), and other
    misspelt words to their clear correction (ruthles -> ruthless, socalism -> socialism), so
    a weak speller's reasons are found as surely as anyone's. Cached."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.cache: dict[str, str] = {}

    def stems(self, sentence: Sentence) -> tuple[str, ...]:
        out = []
        for t in sentence.tokens:
            s = self.cache.get(t.norm)
            if s is None:
                s = t.stem
                unknown = len(t.norm) >= 4 and t.norm.isalpha() and not self.lexicon.known(t.norm)
                term: str | None = None
                if unknown and len(t.norm) >= 5:
                    # "Lenins" is a possessive without its apostrophe, not a new word.
                    if t.norm.endswith("s") and t.norm[:-1] in self.lexicon.terms:
                        term = t.norm[:-1]
                    else:
                        term = self.lexicon.term_for(t.norm)
                if unknown and term is None:
                    # Only a correction the spelling checker is clearly sure of (it offers
                    # none for "underestermating" or "wich").
                    fixed = self.lexicon.correction(t.norm)
                    term = fixed if fixed and fixed.isalpha() else None
                if term:
                    s = stem(term)
                self.cache[t.norm] = s
            out.append(s)
        return tuple(out)


_fixers: dict[int, _StemFixer] = {}


def sentence_stems(doc: Doc, rubric: Rubric) -> list[tuple[str, ...]]:
    """Each sentence's stems, with misspelt rubric terms corrected."""
    compiled = _compile(rubric)
    fixer = _fixers.setdefault(id(compiled.lexicon), _StemFixer(compiled.lexicon))
    return [fixer.stems(s) for s in doc.sentences]


def _misconception_hit(
    spans: list[list[tuple[int, int]]], m: Misconception, ends: Sequence[int] = ()
) -> bool:
    """Whether a sentence with these matches of each of m's groups makes its claim; `ends`
    are where its clauses end, which a claim kept to one clause (m.clause) may not cross."""
    if not all(spans):
        return False
    if not m.window and not m.ordered and not m.clause:
        return True

    # Is there a stretch [low, low + window] holding a match of every group (in group order
    # when ordered)? Only stretches starting at a match need trying, and in each one the
    # earliest fitting match of each group leaves the most room for the next: linear in
    # the matches per stretch, where trying every combination was exponential in the groups.
    starts = sorted({s for group in spans for s, _ in group})
    for low in starts if m.window or m.clause else starts[:1]:
        high = low + m.window if m.window else float("inf")
        if m.clause:
            high = min(high, next((e for e in ends if e > low), high))
        after = low
        for group in spans:
            fits = [s for s, e in group if s >= (after if m.ordered else low) and e <= high]
            if not fits:
                break
            after = min(fits)
        else:
            return True
    return False


# A quoted sentence must be about its factor: a cue phrase and the sentence model must
# agree, the model at this probability or more. On the blind dev set (each writer left
# out) quoted sentences about their factor rose from 0.885 at 0.5 to 0.945 at 0.8, with
# a third fewer quoted: say less, and be right. Taught the sentences that link reasons
# (session 12), the model is surer of more sentences: at 0.8, 0.929 of quoted sentences
# were about their factor, at 0.9 0.951 (0.953 before it learned them).
AGREES = 0.9
# The six reasons beyond the four the question's teaching names are found less surely
# (at 0.5, only three quoted sentences in five were about ruthlessness or rivals'
# mistakes): to be quoted for one of them, the model must be surer still.
SURE = 0.95


# Hints for sentences, each given by its stems; one call may take the sentences of many essays.
FactorHook = Callable[[list[tuple[str, ...]]], list[Hint]]
# With a model's hint, a sentence explains when its cue-language and the model agree,
# or when the model is confident on its own (an explanation in the student's own words).
# Chosen on the corpus's sentence labels for precision (0.80) over recall (0.67).
EXPLAIN_WITH_CUE, EXPLAIN_ALONE = 0.4, 0.6
# Words that might start saying how or why (a cause, a consequence, a counterfactual, a
# dependence), loose on purpose. A sentence with none does not explain, whatever the
# sentence model says ("They were expelled in 1927"); a reason none of whose sentences has
# one is surely not explained; two reasons in a sentence with one are perhaps linked.
MIGHT_EXPLAIN = re.compile(
    r"\b(so|because|becuase|cause|meant|means|allowed|let|lets|helped|made|makes|therefore|"
    r"thus|which|led|caused|gave|gives|why|result|enabled|without|more|than|depended|only|"
    r"if|would|could|enough|relied|relies|rely)\b"
    r"|->|→",
    re.IGNORECASE,
)
# "Trotsky's unpopularity also helped Stalin.", "…, which helped him get power.": a result
# that is only "it helped", with nothing before it that says how, asserts; it does not
# explain. On the blind dev set the annotators read 79 of 125 such sentences the rules
# called explaining as describing.
_BARE_HELP = re.compile(
    r"\b(?:help|helps|helped|helping)(?:\s+(?:him|stalin|stalin'?s|stalin’s))?"
    r"(?:\s+(?:a lot|a bit|a little|greatly|massively|hugely))?"
    r"(?:\s+(?:to\s+)?(?:get|gain|achieve|win|take|keep|grab)"
    r"(?:\s+(?:more|total|a lot of|lots of|even more|all the|the))*"
    r"\s+(?:power|control|to the top|the top|the leadership|leadership|in charge))?"
    r"(?:\s+(?:in the end|in the ussr|in russia|by 1929))?"
    r"(?:\s+(?:too|as well|also|a lot|a bit|even more))?[\s.!\"”’')]*$",
    re.IGNORECASE,
)
_SAYS_HOW = re.compile(
    r"\b(?:so|because|becuase|cause|meant|means|allowed|let|lets|made|makes|therefore|thus|"
    r"led|caused|gave|gives|enabled|without|depended|if|would|could|by)\b|->|→",
    re.IGNORECASE,
)


def bare_result(text: str) -> bool:
    """Whether the sentence's only result is a closing "(it) helped (him get power)"."""
    m = _BARE_HELP.search(text)
    return m is not None and not _SAYS_HOW.search(text[: m.start()])


_MODEL_WORDS = 3  # words a sentence needs before the sentence model alone may name a reason


def reads_as_explaining(score: float, cue: bool, text: str) -> bool:
    """Whether a sentence explains, from the sentence model's score and whether a causal
    cue is there: with a cue the model need only lean that way; without one it must be
    sure, and the sentence must have some word that might say how or why."""
    if cue:
        return score >= EXPLAIN_WITH_CUE
    return score >= EXPLAIN_ALONE and bool(MIGHT_EXPLAIN.search(text))


def analyse_coverage(
    doc: Doc,
    rubric: Rubric,
    extra_factors: FactorHook | None = None,
    stems: list[tuple[str, ...]] | None = None,
    hints: Sequence[Hint] | None = None,
) -> Coverage:
    """Find each factor's status and evidence, the judgement, specific evidence and errors.

    `extra_factors` may add factors per sentence (the trained sentence model finds
    paraphrases no cue phrase matches); `stems` saves recomputing sentence_stems, and
    `hints` what extra_factors would say (when it was asked for many essays at once).
    """
    c = _compile(rubric)
    all_stems = stems if stems is not None else sentence_stems(doc, rubric)
    if hints is None:
        hints = extra_factors(all_stems) if extra_factors else [Hint() for _ in all_stems]

    matches = []
    # Per Factor.whose: whether the last person the sentence before named was Stalin
    # ("Trotsky was arrogant. He was very clever…": the "he" is Trotsky).
    named_last: list[bool | None] = [None] * len(c.whose)
    for sent, sent_stems in zip(doc.sentences, all_stems, strict=True):
        found = _redirected(c.index.find(sent_stems), sent, sent_stems, c, named_last)
        named_last = [
            _referent(found, sent_stems, w[1:], len(sent_stems), was)
            for w, was in zip(c.whose, named_last, strict=True)
        ]
        matches.append(found)
    misconceptions = _misconceptions(doc, matches, c)
    corrected = {m.start for m in misconceptions}
    outside = _out_of_period(doc, rubric.period)
    # Quoted for no reason and credited as no knowledge: a corrected fact, a sentence dated
    # outside the question ("Trotsky was murdered in Mexico in 1940" is no evidence of how
    # Stalin won in the 1920s), and one naming what came after it (the purges, the Five-Year
    # Plans, the killing of his rivals) with no year inside the question. Saying less only:
    # the student is told a sentence is outside the question only when its years say so.
    later = {
        s.start
        for s, m in zip(doc.sentences, matches, strict=True)
        if c.later in m and not _dated_within(s, rubric.period)
    }
    unquotable = corrected | {s.start for s in outside} | later
    roles_by_factor: dict[str, list[Evidence]] = {f.id: [] for f in rubric.factors}
    shown_by_factor: dict[str, list[Evidence]] = {f.id: [] for f in rubric.factors}
    previous_shown: set[str] = set()
    sentence_roles: list[SentenceRoles] = []
    # (sentence index, factor id or "" for a reason the rubric does not list, verdict?)
    judged: list[tuple[int, str, bool]] = []
    single_judged: set[int] = set()  # judgement sentences about one factor only
    guessed: set[int] = set()  # judgement sentences whose reason only the sentence model names
    hedged: set[int] = set()  # sentences that ask which reason was the main one and leave it open
    owned: set[int] = set()  # verdicts on a reason the writer names that the rubric does not list
    ventured: set[int] = set()  # verdicts the writer only ventures ("maybe that was…")
    previous: set[str] = set()
    previous_lead: set[str] = set()  # what a pronoun in the next verdict may point back to
    last_open: int | None = None  # the paragraph of the sentence before, if it ran on
    lead_judged = False  # whether the sentence before judged the reason it leads with
    asked = False  # whether the sentence before asked it ("So which was the main reason?")
    rank = {f.id: i for i, f in enumerate(rubric.factors)}
    for sent, sent_stems, hint, found in zip(doc.sentences, all_stems, hints, matches, strict=True):
        if sent.heading:
            # "Trotsky" or "Left and Right" as a heading names a topic; it says nothing.
            sentence_roles.append(SentenceRoles(sent.index, sent.start, sent.end, (), False, False))
            previous, previous_shown, previous_lead = set(), set(), set()
            last_open, lead_judged, asked = None, False, False
            continue
        hits: dict[str, int] = {}
        for fid, n in c.factors:
            if n in found:
                hits[fid] = min(found[n])[0]
        cued = set(hits)  # named by a cue phrase, before the sentence model adds its own
        # The sentence model may name a reason no cue found, in a sentence with words to
        # name it in: "1929" or "- 1926" alone is about nothing in particular. One of the
        # reasons beyond the named four it must be fairly sure of (AGREES): at 0.5, on the
        # blind dev sentences, only two in five it named were about the reason.
        if sum(t.norm.isalpha() for t in sent.tokens) >= _MODEL_WORDS:
            for fid in hint.factors - cued:
                if fid in c.named or hint.agrees is None or fid in hint.agrees:
                    hits[fid] = len(sent_stems)
        opener = c.openers.first(sent_stems[:4])
        opens_on_previous = (
            (opener is not None and opener[0] == 0)
            or (bool(sent_stems) and sent_stems[0] in _ANAPHORA)
            or tuple(sent_stems[:2])
            in {("without", "this"), ("without", "that"), ("because", "of")}
        )
        # What the sentence model alone reads into a sentence ("This, rather than…, was
        # the main reason") does not stop "This" pointing back: only a named reason does.
        inherited = previous - cued if opens_on_previous else set()
        in_play = set(hits) | inherited
        causal = c.causal in found or (opener is not None and opener[0] == 0)
        if hint.explains is not None:
            causal = reads_as_explaining(hint.explains, causal, sent.text)
        if causal and c.image in found and c.on_question not in found and c.standing not in found:
            # "…so it looked like he did not care about Lenin": a result only for how
            # someone looked describes; it does not say how the reason won him power.
            causal = False
        if causal and bare_result(sent.text[_past_question_link(sent, found, c) :]):
            causal = False
        weighing = c.weighing in found
        judged_here, verdict = _judged(sent, found, c, hint, inherited, previous_lead, asked)
        if judged_here == _OWN:
            judged_here = UNLISTED
            owned.add(sent.index)
        asked = sent.text.rstrip().endswith("?") and c.verdict in found
        if judged_here is not None:
            judged.append((sent.index, judged_here, verdict))
            if c.tentative in found:
                ventured.add(sent.index)
            if len(in_play) == 1:
                single_judged.add(sent.index)
            if judged_here and judged_here not in cued | inherited | previous:
                guessed.add(sent.index)
        elif _leaves_open(sent, found, c):
            hedged.add(sent.index)

        # "Possible reasons include his post, the factions, his link to Lenin…": a list
        # names the reasons; it is evidence for none of them. Not one that says how or
        # sets them against each other ("X and Y helped, but Z…").
        listed = (
            len(hits) >= _LISTED
            and not causal
            and not weighing
            and c.contrast not in found
            and judged_here is None
        )
        shown = _shown_factors(
            hits, found, hint, c, inherited, previous_shown, sent.start in unquotable or listed
        )
        pairs = []
        # Ties (inherited factors, one cue naming two) in the rubric's order: set order
        # changes with PYTHONHASHSEED, and the first pair decides what feedback names.
        for fid in sorted(in_play, key=lambda f: (hits.get(f, -1), rank[f])):
            if weighing and len(in_play) >= 2:
                role = Role.WEIGH
            elif fid == judged_here:
                role = Role.JUDGE
            elif causal:
                role = Role.EXPLAIN
            else:
                role = Role.DESCRIBE
            pairs.append((fid, role))
            e = Evidence(sent.text, sent.start, sent.end, role)
            roles_by_factor[fid].append(e)
            if fid in shown:
                shown_by_factor[fid].append(e)
        sentence_roles.append(
            SentenceRoles(
                sent.index,
                sent.start,
                sent.end,
                tuple(pairs),
                causal,
                weighing,
                hint.explains,
                frozenset(hits),
                hint.factors,
                hint.agrees or frozenset(),
            )
        )
        previous = in_play if in_play else set()
        previous_shown = shown
        # "…, but the mistakes of his rivals explain why. That is why they are the main
        # reason": what "that" points back to is the reason after the sentence's turn.
        turns = [a for a, _ in found.get(c.contrast, [])]
        turned = {f for f in cued if turns and hits[f] > max(turns)}
        unlisted_lead = bool(turns) and not turned and _cleft_after(sent, max(turns))
        if unlisted_lead:
            # "X gave him the tools, but it was his idea of … that won": the writer turns
            # to a reason no cue names, and "that" in the next sentence points there,
            # not back to X.
            previous = set()
        # A line break mid-sentence ("…was the most important reason / because it…")
        # starts no new thought: what the sentence before judged stays the lead.
        continues = lead_judged and last_open == sent.paragraph
        carried = previous_lead - cued if opens_on_previous or continues else set()
        if judged_here is not None and (judged_here or verdict):
            # "…Socialism in One Country was the main reason. Without this policy, …", and
            # "The main reason is he was a strong man. This is the main reason because…"
            previous_lead = {judged_here}
        elif carried and not turned:
            # "It gave him the networks…, made him every faction's ally…. That is why it
            # was the main reason": the sentence goes on about the reason it opened on.
            previous_lead = carried
        else:
            previous_lead = turned or ({UNLISTED} if unlisted_lead else previous)
        lead_judged = bool(judged_here)
        ends_open = not sent.text.rstrip().rstrip("\"”’')").endswith((".", "!", "?", "…", ":"))
        last_open = sent.paragraph if ends_open else None

    factors = []
    for f in rubric.factors:
        ev = tuple(roles_by_factor[f.id])
        roles = {e.role for e in ev}
        explained = Role.EXPLAIN in roles or any(
            e.role in (Role.WEIGH, Role.JUDGE) and _is_causal(e, sentence_roles) for e in ev
        )
        if not ev:
            status = Status.ABSENT
        elif explained and Role.WEIGH in roles:
            status = Status.WEIGHED
        elif explained:
            status = Status.EXPLAINED
        else:
            status = Status.MENTIONED
        shown_ev = tuple(shown_by_factor[f.id])
        factors.append(FactorCoverage(f.id, f.name, f.named, status, shown_ev, ev))
    factors_t = tuple(factors)

    causal_at = {r.index for r in sentence_roles if r.causal}
    judgement = _judgement(
        doc, judged, factors_t, single_judged, causal_at, guessed, hedged, ventured, owned
    )
    # Knowledge is credited from sentences that are right, inside the question and about a
    # reason: "In 1917 there were two revolutions" sets a scene; it supports no argument.
    # Nor from a sentence whose writer doubts it ("in 1917 (I think)").
    doubted = {
        sent.start for sent, m in zip(doc.sentences, matches, strict=True) if _doubts(sent, m, c)
    }
    skip = unquotable | doubted | {r.start for r in sentence_roles if not r.roles}
    return Coverage(
        factors=factors_t,
        judgement=judgement,
        specific_evidence=_specific_evidence(
            doc, all_stems, [m.get(c.evidence, []) for m in matches], skip, rubric.period
        ),
        out_of_period=outside,
        misconceptions=misconceptions,
        sentences=tuple(sentence_roles),
    )


def _past_question_link(sent: Sentence, found: Matches, c: _Compiled) -> int:
    """Where the sentence's words start after its "links to the question (because)", in
    characters: "This links to the question because it helped him" gives the "because" to
    the link, not to how a reason helped."""
    ends = [b for _, b in found.get(c.question_links, ())]
    if not ends:
        return 0
    b = max(ends)
    if b < len(sent.tokens) and sent.tokens[b].norm in ("because", "as"):
        b += 1
    return sent.tokens[b].start - sent.start if b < len(sent.tokens) else len(sent.text)


def _redirected(
    found: Matches,
    sent: Sentence,
    stems: Sequence[str],
    c: _Compiled,
    named_last: Sequence[bool | None],
) -> Matches:
    """A sentence's matches, less a factor's cues inside its `not_cues`, and with those of
    a factor whose cues name another here (`Factor.instead`) moved to that one's, so every
    reader of the matches sees the same."""
    for cues, masks in c.masks:
        if cues in found and masks in found:
            kept = [(a, b) for a, b in found[cues] if not any(x <= a < y for x, y in found[masks])]
            if kept:
                found[cues] = kept
            else:
                del found[cues]
    for (cues, others, own), before in zip(c.whose, named_last, strict=True):
        if cues in found:
            starts = [x for _, k in c.factors if k != cues for x, _ in found.get(k, ())]
            kept = [
                m
                for m in found[cues]
                if _stalins(m, sent, stems, found, (others, own), before)
                and not _skill_at(m, stems, starts)
            ]
            if kept:
                found[cues] = kept
            else:
                del found[cues]
    if c.weighing in found:
        # "His link to Lenin also helped": words inside a reason's own name ("link to
        # Lenin") are not the weighing phrase they spell ("linked to").
        # Not a verdict's own words inside one ("Trotsky was the main reason").
        # Nor "links to" where it links the point to the question, not to another reason.
        names = [m for _, k in c.factors for m in found.get(k, ())]
        verdicts = set(found.get(c.verdict, ())) | set(found.get(c.judgement, ()))
        asked = found.get(c.question_links, [])
        kept = [
            m
            for m in found[c.weighing]
            if (m in verdicts or not inside_any(m, names)) and not inside_any(m, asked)
        ]
        if kept:
            found[c.weighing] = kept
        else:
            del found[c.weighing]
    for source, target, when, unless in c.instead:
        if source not in found or when not in found:
            continue
        # "Trotsky's (own) mistakes" are his, whoever else the sentence names ("…because
        # they cost him the party", "…his rivals").
        moved = (
            found[source]
            if unless not in found
            else [
                (a, b)
                for a, b in found[source]
                if any(_owns(sent, stems, x, y, a) for x, y in found[when])
            ]
        )
        if moved:
            kept = [m for m in found[source] if m not in moved]
            found[target] = sorted(found.get(target, []) + moved)
            if kept:
                found[source] = kept
            else:
                del found[source]
    return found


_HIS = frozenset({"he", "his", "him", "himself"})
# Stems of words for several people: "he" after them is someone else ("they thought he…").
_PLURAL = frozenset(
    {"they", "them", "their", "rival", "other", "opponent", "leader", "left", "right"}
)


def _referent(
    found: Matches, stems: Sequence[str], whose: tuple[int, int], at: int, before: bool | None
) -> bool | None:
    """Whether the person last named or meant before token `at` is Stalin (None: nobody).
    `whose` holds the cue sets naming others and Stalin; "he", "his" or "him" after the
    last name stands for the last one person named before it, else for the one the
    sentence before named last (`before`)."""
    others, own = whose
    people = sorted(
        [(y, False) for _, y in found.get(others, ()) if y <= at]
        + [(y, True) for _, y in found.get(own, ()) if y <= at]
    )
    he = max((i for i in range(at) if stems[i] in _HIS), default=None)
    if he is not None and (not people or he >= people[-1][0]):
        single = [p for p in people if p[0] <= he and stems[p[0] - 1] not in _PLURAL]
        return single[-1][1] if single else before
    return people[-1][1] if people else None


def _stalins(
    cue: tuple[int, int],
    sent: Sentence,
    stems: Sequence[str],
    found: Matches,
    whose: tuple[int, int],
    before: bool | None,
) -> bool:
    """Whether a quality's cue is Stalin's, not denied ("he wasn't as clever", but "if he
    wasn't clever, he would not have…" argues it) nor another's:
    "Trotsky was clever and he led the Red Army", "his rivals, however clever", "they thought
    they were cleverer than him", "Trotsky was arrogant. He was very clever". Stalin's when
    "outmanoeuvred by" follows it (the beaten one comes first), when Stalin is named just
    after it ("how cunning Stalin was") or when nobody is named before it. `before`: whether
    the last person the sentence before named was Stalin (None: nobody)."""
    a, b = cue
    denied = [i for i in range(max(0, a - 3), a) if sent.tokens[i].norm in _QUALITY_DENIED]
    # Not in a counterfactual: "if Stalin wasn't clever he wouldn't have…" argues it.
    if denied and not any(t.norm == "if" for t in sent.tokens[: denied[0]]):
        return False
    if b < len(stems) and stems[b] == "by":
        return True
    if any(b <= x <= b + 2 for x, _ in found.get(whose[1], ())):
        return True
    return _referent(found, stems, whose, a, before) is not False


def _skill_at(cue: tuple[int, int], stems: Sequence[str], starts: Sequence[int]) -> bool:
    """Whether the quality is how he carried out another reason, named just after it: "his
    skill at playing the factions", "clever at turning them against each other", "his
    clever use of the factions" are about the factions (on the blind dev set the annotators
    read 96 of 102 such sentences so)."""
    b = cue[1]
    if b + 1 < len(stems) and stems[b] in ("at", "in"):
        lead = b + 1
    elif b + 2 < len(stems) and stems[b] == "use" and stems[b + 1] == "of":
        lead = b + 2
    else:
        return False
    return any(lead <= x <= lead + 3 for x in starts)


def inside_any(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    """Whether a match lies wholly inside one of these (a phrase inside a reason's name)."""
    a, b = span
    return any(x <= a and b <= y for x, y in spans)


def _owns(sent: Sentence, stems: Sequence[str], start: int, end: int, at: int) -> bool:
    """Whether a name at start:end owns the cue at `at`: "Trotsky mistakes", "Trotsky's own
    mistakes", "Trotsky's big mistake"; not "…so did Trotsky; their mistakes", "…to stop
    Trotsky, huge mistake", nor "Kamenev and Trotsky's mistakes" (theirs together)."""
    near = end == at or (end + 1 == at and (stems[end] == "own" or stems[end] not in stop_words()))
    joined = start > 0 and stems[start - 1] in ("and", "&")
    return near and not joined and bool(_unbroken(sent, [(start, at + 1)]))


def _shown_factors(
    hits: dict[str, int],
    found: Matches,
    hint: Hint,
    c: _Compiled,
    inherited: set[str],
    previous_shown: set[str],
    unquotable: bool,
) -> set[str]:
    """The factors a sentence may be quoted as evidence for: precision before recall.

    A cue phrase and the sentence model must agree (where there is a model: a cue alone
    was right four times in five on the blind dev set, with the model nine in ten); a
    sentence carrying on the one before ("This meant…") counts for the factor that one was
    shown for, when it was a single factor; a sentence whose fact is corrected, dated
    outside the question, or that only lists reasons (`unquotable`), counts for none.
    """
    if unquotable:
        return set()
    agrees, sure = hint.agrees, hint.sure
    cued = {fid for fid, n in c.factors if n in found}
    shown = {
        f
        for f in cued
        if agrees is None or (f in agrees and (f in c.named or sure is None or f in sure))
    }
    if not shown and inherited and len(previous_shown) == 1:
        shown = previous_shown & (set(hits) | inherited)
    return shown


def _is_causal(e: Evidence, sentences: Sequence[SentenceRoles]) -> bool:
    return any(s.start == e.start and s.causal for s in sentences)


def _judged(
    sent: Sentence,
    found: Matches,
    c: _Compiled,
    hint: Hint,
    inherited: set[str],
    previous: set[str],
    asked: bool = False,
) -> tuple[str | None, bool]:
    """The factor a sentence judges the main reason ("" for one the rubric does not list,
    None for no judgement), and whether it says so in a verdict ("the main reason was…").

    Reasons in a conceded clause ("Although X helped, …") are granted, not judged. After a
    turn ("X gave him the means, but it was Y that…") the reason after the turn is judged,
    unless a verdict names one before it ("The main reason was X, but Y helped too"). A
    hedge ("it is hard to say which") is no judgement unless the sentence turns after it.
    `previous` is what a pronoun may point back to: the reasons of the sentence before, or
    the one it turned to. After a sentence that `asked` the question ("So which was the
    main reason?"), an opinion answers it ("I think it was linking himself to Lenin").
    """
    if sent.text.rstrip().endswith("?"):
        return None, False  # "So which was the main reason?" asks; it does not judge
    answer = [m for m in found.get(c.answers, ()) if m[0] == 0] if asked else []
    if answer and not any(k in found for k in c.hedges):
        # "…? It was Socialism in One Country.": the answer to the question just asked
        # gives the verdict, in the words after its opening ("It is hard to say" does not).
        found = {**found, c.verdict: [*found.get(c.verdict, ()), answer[0]]}
    if c.verdict not in found and c.judgement not in found:
        return None, False  # most sentences: no need to read their words
    # Stems drop punctuation: "it mattered most, because…" is not "mostly because".
    found = {
        k: _unbroken(sent, v) if k in (c.verdict, c.judgement, *c.hedges) else v
        for k, v in found.items()
    }
    # "The main ones were Trotsky, Zinoviev…" lists people: stems cannot tell "ones" from
    # "one", the words can.
    norms = _words(sent, c)
    if c.others_view in found:
        # "…because then nobody could argue with him" is a quarrel, not another view.
        views = [m for m in found[c.others_view] if not _quarrel(norms, *m)]
        found = {k: v for k, v in found.items() if k != c.others_view}
        if views:
            found[c.others_view] = views
    # "…so it can't be the main reason" denies a verdict; it does not give one.
    verdicts = [
        (a, b)
        for a, b in found.get(c.verdict, [])
        if sent.tokens[b - 1].norm != "ones"
        and not _aside(norms, b)
        and not _NEGATIONS.intersection(norms[max(0, a - 3) : a])
        and not _thought_denied(sent, norms, a, found, c)
        and not _supposed(sent, norms, a)
        and not _denied_after(norms, b, found, c)
    ]
    verdict_at = [a for a, _ in verdicts]
    # "…led the Whites I think, or…" doubts a fact; it judges nothing.
    tags = _closing_tags(sent, found, c)
    denied = [(a, b) for a, b in found.get(c.verdict, []) if (a, b) not in verdicts]
    cues = verdicts or [
        m
        for m in found.get(c.judgement, [])
        if m not in tags and not any(x <= m[0] < y for x, y in denied)
    ]
    reported = _reported(sent, found, c)
    if reported and all(
        any(x <= a < y for x, y in reported)
        for a, _ in found.get(c.verdict, []) + found.get(c.judgement, [])
    ):
        # "Some historians argue that X was the main reason, while others believe…": views
        # the writer reports, none of them theirs.
        return None, False
    if not cues:
        instead = _elliptical(sent, norms, denied, found, c)
        return (instead, True) if instead else (None, False)
    judge_at = [a for a, _ in cues]
    cue_end = min(cues)[1] - 1  # the cue's last word: "mainly because" gives no reason
    verdict = bool(verdict_at)
    turns = [a for a, _ in found.get(c.contrast, [])]
    conceded = _conceded(sent, _concession_opens(sent, found, c), turns)
    conceded += _ranked_lower(sent, found.get(c.ranked_lower, []))
    conceded += _backing(sent, norms)
    free: dict[str, int] = {}  # factor -> where it is first named outside a concession
    widest: dict[str, int] = {}  # factor -> its longest cue match there, in words
    for fid, k in c.factors:
        at = [m for m in found.get(k, []) if not any(x <= m[0] < y for x, y in conceded)]
        if at:
            free[fid] = min(at)[0]
            widest[fid] = max(b - a for a, b in at)
    first = judge_at[0]
    listed = len(free) >= 3 or (len(free) == 2 and len(hint.factors | free.keys()) >= 3)
    if not verdict and not turns and c.weighing not in found and listed:
        # "In conclusion, Stalin got total power because he was clever, Trotsky was not
        # liked and he was General Secretary": a list of reasons with none put first. A
        # third reason in words no cue knows ("he hid Lenin's Testament") is the sentence
        # model's to see.
        return None, False
    opinions = set(found.get(c.opinion, []))
    if (
        not verdict
        and all(m in opinions for m in cues)
        and c.on_question not in found
        and not asked
        and c.weighing not in found
        and sum(k in found for _, k in c.factors) < 2
    ):
        # "I think he was a bit of a show-off": an opinion, but not on the question; one
        # that weighs or sets reasons side by side is ("while X gave him the means, …").
        return None, False
    if verdict and _names_unlisted(sent, norms, cue_end, found, c):
        # "The main reason was luck and his rivals' mistakes": the reason it leads with is
        # one the rubric does not list.
        return _OWN, True
    pointer = _pointer(norms, first)
    if pointer == "back" and norms[0] == "without":
        # "Without it, his cunning would have had no votes behind it, which is why it was
        # the main reason": what the rest could not do without is the reason judged, named
        # in the opening clause or carried over by its pronoun.
        opening = next((e for e in _clause_ends(sent) if e > 1), len(norms))
        named = [(pos, f) for f, pos in free.items() if pos < opening]
        if named:
            return _spelled_out(min(named)[1], free, widest, norms), verdict
        if inherited and norms[1] in _POINTERS:
            return _likeliest_of(inherited & previous or inherited, hint, c), verdict
        if norms[1] not in _POINTERS:
            # "Without the machine, his cunning would have had nothing to work with, which
            # is why it was the main reason": the reason judged is what the opening names,
            # in words no cue knows; the reasons after it are what depended on it.
            return UNLISTED, verdict
    unreasoned = [p for p in free.values() if p < _gives_reason(norms, cue_end)]
    if not unreasoned and not inherited and previous and pointer == "back":
        # "…and that is the main reason": the reason of the sentence before, whatever the
        # reasons given for it name ("so it was the main reason, because it won him allies").
        if previous == {UNLISTED}:
            # "…but it was luck that won. That is why it was the main reason."
            return UNLISTED, verdict
        return _likeliest_of(previous, hint, c), verdict
    if not free and not inherited and pointer == "own":
        # "Stalin was lucky and that is the main reason": the clause the pronoun points at
        # names no reason the rubric lists (the sentence model would only guess one).
        return "", verdict
    hedging = any(k in found for k in c.hedges)
    # "His job and his tactics all helped, but the ban was the main reason": the model's
    # factors may be what the writer turned away from.
    turned_to = verdict and any(t < verdict_at[-1] for t in turns)
    # A reason beyond the question's named four only when the model is fairly sure of it:
    # "the main reason was that he was a man of steel" is the writer's own.
    standing = {f for f in hint.factors if f in c.named or f in (hint.agrees or ())}
    if not (free or inherited or conceded or hedging or turned_to) and standing:
        if verdict and _ends_on_plain(norms, c):
            # "…the main reason Stalin is able to have the total power is the fear": the
            # reason it ends on is the writer's own, not the model's guess. (Not its
            # subject: "the job was the main reason" points back to a reason named before.)
            return "", verdict
        # The sentence model's factors have no place in the sentence: they stand in for a
        # named reason only when nothing is named, carried over, conceded or turned from.
        return _likeliest_of(standing, hint, c), verdict
    # A turn word that opened a conceded clause ("While X gave him the means, …") is not
    # a turn itself.
    turns = [t for t in turns if not any(x == t for x, _ in conceded)]
    # "While X, Y and Z were all important reasons, I believe W was the most important":
    # a hedge inside a conceded clause grants the others; it does not leave W open. List
    # commas end the clause early, so a hedge after the concession's opener counts as
    # conceded too when the judgement comes in a later clause (not "…they were all
    # important and it is hard to say which was the main reason").
    ends = _clause_ends(sent) if conceded else []

    def _list_conceded(at: int) -> bool:
        return any(x < at for x, _ in conceded) and any(at < e <= a for e in ends for a in judge_at)

    hedges = _hedges(
        norms,
        [
            m
            for k in c.hedges
            for m in found.get(k, [])
            if not any(x <= m[0] < y for x, y in conceded) and not _list_conceded(m[0])
        ],
    )
    if hedges:
        # A turn inside the reason for the hedge ("half and half, because without X… but
        # without Y…") weighs both; only one followed by a judgement, or before the reason
        # is given, takes the hedge back.
        hedge = min(hedges)
        reason = _gives_reason(norms, hedge)
        turns = [t for t in turns if t > hedge and (t < reason or any(a > t for a in judge_at))]
        if not turns:
            return None, False
    if turns:
        turn = turns[-1]
        # "The main reason was X, but Y helped too", and "X was the main reason, while Y
        # only…": a verdict before the turn that names its reason keeps it, unless another
        # verdict follows the turn.
        subject = (
            not hedges and _copula_before(norms, first) and any(p < first for p in free.values())
        )
        named_first = (
            verdict
            and first < turn
            and (any(first <= p < turn for p in free.values()) or subject)
            and not any(a > turn for a in verdict_at)
        )
        if not named_first:
            if any(a > turn for a, _ in found.get(c.undecided, [])):
                # "…but now I think it was all of them together": what the writer turns
                # to leaves the main reason open.
                return None, False
            stop = _gives_reason(norms, max(turn, cue_end))
            past = [(pos, f) for f, pos in free.items() if turn < pos < stop]
            if past:
                return _spelled_out(min(past)[1], free, widest, norms), verdict
            if verdict and verdict_at[-1] > turn:
                return "", True
            if hedges:
                # "Some would say it was X, but I think the others…": only what follows
                # the turn is the writer's, and it names no reason.
                return None, False
    if not free:
        if inherited:
            # `previous` holds the reason the sentence before turned to, where it turned.
            return _likeliest_of(inherited & previous or inherited, hint, c), verdict
        if verdict:
            return "", True
        if any(_answers_unlisted(norms, b - 1) for _, b in cues):
            # "In conclusion Stalin got total power because he had the army": the question
            # answered head on, with a reason the rubric does not list.
            return "", False
        return None, False
    # "X was the main reason": the reason comes before the verdict; "the main reason was
    # X, because Y…": after it, but not in the reasons given for it.
    named_before = _copula_before(norms, first)
    stop = _gives_reason(norms, cue_end)
    after = [(pos, f) for f, pos in free.items() if first <= pos < stop]
    before = [(first - pos, f) for f, pos in free.items() if pos < first]
    if named_before and _unlisted_subject(norms, first, found, c):
        # "…he was lucky, and I think the luck is the main reason": the reason named just
        # before the verdict is one the rubric does not list.
        return "", verdict
    if named_before and before:
        after = []
    if not after and not before and inherited:
        # "This was more important than X, because…": the reason named only after the
        # comparison is ranked lower, and one in the reasons given is not judged.
        return _likeliest_of(inherited & previous or inherited, hint, c), verdict
    if not after and not before:
        if verdict:
            return "", True
        after = [(pos, f) for f, pos in free.items()]
    if after:
        return _spelled_out(min(after)[1], free, widest, norms), verdict
    return _joint_head(min(before)[1], free, widest, norms), verdict


def _ends_on_plain(norms: Sequence[str], c: _Compiled) -> bool:
    """Whether a sentence ends on a finite copula and one plain word ("…is the fear", "…was
    luck", "…was his ambition"): a reason named in words no cue knows. Not "…wanted him
    to be leader", which says what someone wanted."""
    if len(norms) < 3 or not _plain_word(norms[-1], c):
        return False
    verb = len(norms) - 3 if norms[-2] in _ARTICLES | _POSSESSIVES else len(norms) - 2
    return norms[verb] in _COPULA - {"be", "been"}


def _answers_unlisted(norms: Sequence[str], cue_end: int) -> bool:
    """Whether a judgement cue that answers the question ("…got total power because")
    goes on to give a reason of its own ("…because he was a dictator"), not one it only
    gestures at ("…because of all these things", "…because of many reasons")."""
    if norms[cue_end] != "because" or cue_end + 1 >= len(norms):
        return False
    return not _VAGUE.intersection(norms[cue_end + 1 : cue_end + 1 + _VAGUE_REACH])


_VAGUE = frozenset(
    {
        "all",
        "these",
        "those",
        "everything",
        "lots",
        "lot",
        "many",
        "several",
        "various",
        "reasons",
        "things",
        "factors",
        "combination",
        "mixture",
        "above",
    }
)
_VAGUE_REACH = 5  # words after "because" in which a gesture at the reasons is looked for


def _aside(norms: Sequence[str], end: int) -> bool:
    """Whether a verdict's cue ends in an aside to the reader: "the most important thing
    to remember is how many suffered" tells the reader what to keep in mind."""
    return end + 1 < len(norms) and norms[end] == "to" and norms[end + 1] in _ASIDES


_ASIDES = frozenset(
    {"remember", "know", "say", "note", "notice", "understand", "realise", "realize", "mention"}
)


def _quarrel(norms: Sequence[str], a: int, b: int) -> bool:
    """Whether a view's cue ("could argue") is a quarrel instead: "argue with him",
    "nobody could argue", not "you could argue that…"."""
    after = norms[b] if b < len(norms) else ""
    before = norms[a - 1] if a else ""
    return after in _QUARREL_WITH or before in _NOBODY or norms[a - 2 : a] == ["no", "one"]


_QUARREL_WITH = frozenset({"with", "against"})
_NOBODY = frozenset({"nobody", "noone", "none"})


def _words(sent: Sentence, c: _Compiled) -> list[str]:
    """The sentence's words, each misspelling the spelling checker is sure of corrected: the
    structure of a judgement ("…was the main reason becuase it…") is read from these."""
    out = []
    for t in sent.tokens:
        word = t.norm
        if word.isalpha() and len(word) >= 4 and not c.lexicon.known(word):
            fixed = c.lexicon.correction(word)
            # Not "dont" -> "don't": the lists here spell words without apostrophes.
            if fixed and fixed.isalpha():
                word = fixed.lower()
        out.append(word)
    return out


_CLEFT_FOCUS = frozenset({"his", "their", "her", "the", "plain", "pure", "sheer", "luck"})


def _cleft_after(sent: Sentence, turn: int) -> bool:
    """Whether the clause after a turn word is a cleft on a new noun phrase ("…, but it was
    his idea … that won him the argument", "…but in the end it was luck that…"): not "but
    it was seen as a job which…", "but it is important to say that…", nor "but it was this
    job that…" (which points back)."""
    norms = [t.norm for t in sent.tokens]
    for k in range(turn + 1, min(turn + 5, len(norms) - 2)):
        if norms[k] == "it" and norms[k + 1] in ("was", "is") and norms[k + 2] in _CLEFT_FOCUS:
            return any(w in ("that", "which", "who") for w in norms[k + 3 :])
    return False


def _copula_before(norms: Sequence[str], at: int) -> bool:
    """Whether a verdict follows its subject ("X was the main reason", "X was the key")."""
    return at >= 1 and (norms[at - 1] in _COPULA or (at >= 2 and norms[at - 2] in _COPULA))


def _joint_head(
    pick: str, free: dict[str, int], widest: dict[str, int], norms: Sequence[str]
) -> str:
    """ "Trotsky's unpopularity and mistakes were the main reason": a verdict on two
    reasons joined by "and" in its subject puts the one named first first. The gap counts
    from the end of the first one's words ("Socialism in One Country and his image as
    Lenin's follower")."""
    at = free[pick]
    joined = [
        f
        for f, pos in free.items()
        if pos < at <= pos + widest.get(f, 1) - 1 + _JOINT_GAP
        and "and" in norms[pos + 1 : at]
        and not (_NEW_SUBJECT - {"and"}).intersection(norms[pos + 1 : at])
    ]
    return min(joined, key=free.__getitem__) if joined else pick


def _likeliest_of(reasons: set[str], hint: Hint, c: _Compiled) -> str:
    """Which of several reasons a pointer ("so it was the main reason") most likely means:
    the one the sentence model is surest the sentence is about (at any of its bars), then
    the rubric's order."""
    order = {fid: i for i, (fid, _) in enumerate(c.factors)}
    for tier in (hint.sure, hint.agrees, hint.factors):
        best = sorted((tier or frozenset()) & reasons, key=order.__getitem__)
        if best:
            return best[0]
    return min(reasons, key=order.__getitem__)


def _hedges(norms: Sequence[str], spans: list[tuple[int, int]]) -> list[int]:
    """Where the hedges start. "Out of all the reasons, X was the main one" picks one of
    them; it does not hedge."""
    return [a for a, _ in spans if not (a and norms[a] == "all" and norms[a - 1] == "of")]


def _reported(sent: Sentence, found: Matches, c: _Compiled) -> list[tuple[int, int]]:
    """Token ranges of views the writer reports ("some historians argue that…"): from the
    report to the writer's own opinion ("…, but I think…") or to a turn that does not
    report another view ("…, while others believe…" does)."""
    views = sorted(a for a, _ in found.get(c.others_view, []))
    own = [a for a, _ in found.get(c.opinion, [])]
    turns = [a for a, _ in found.get(c.contrast, [])]
    ends = own + [t for t in turns if not any(t < v <= t + 2 for v in views)]
    return [(a, min([e for e in ends if e > a], default=len(sent.tokens))) for a in views]


def _leaves_open(sent: Sentence, found: Matches, c: _Compiled) -> bool:
    """Whether a sentence takes up the main reason and leaves it undecided ("…so it is hard
    to pick just one main reason"): not one that reports another view, hedges only a
    conceded clause, or leans before it hedges ("the main one was probably X, but it is
    hard to say for certain", "I think X was slightly more important, but…")."""
    cues = _unbroken(sent, found.get(c.verdict, []) + found.get(c.judgement, []))
    turns = [a for a, _ in found.get(c.contrast, [])]
    conceded = _conceded(sent, _concession_opens(sent, found, c), turns)
    hedges = [
        a
        for a in _hedges([t.norm for t in sent.tokens], _unbroken(sent, found.get(c.undecided, [])))
        if not any(x <= a < y for x, y in conceded)
    ]
    if not (cues and hedges):
        return False
    # A verdict, or an opinion on a reason it names, before the hedge: it leans, it judges.
    # Not one the writer reports as an earlier view ("I said at the start that X was the
    # main reason, but now I think it was all of them together").
    first = min(hedges)
    reported = [a for a, _ in found.get(c.others_view, [])]
    cues = [m for m in cues if not any(r < m[0] for r in reported)]
    named = [m[0] for _, k in c.factors for m in found.get(k, [])]
    verdicts = [m for m in cues if m in found.get(c.verdict, [])]
    return not any(a < first for a, _ in verdicts) and not (
        any(a < first for a, _ in cues) and any(p < first for p in named)
    )


def _names_unlisted(
    sent: Sentence, norms: Sequence[str], cue_end: int, found: Matches, c: _Compiled
) -> bool:
    """Whether a verdict's complement opens on a plain word that names no listed reason:
    "…was luck", "…was fear, because…" (not "…was that", "…was his job", "…was clearly",
    nor "…what the main reason was, sorry")."""
    # "the main reason was …", "the main reason Stalin got total power was …": the
    # complement follows the verb (not "the main reason Stalin was able to…").
    verb = (
        cue_end  # an answer's own opening: "…? It was luck."
        if norms[cue_end] in _COPULA
        else next(
            (
                i
                for i in range(cue_end + 1, min(len(norms), cue_end + 8))
                if norms[i] in _COPULA and (i == cue_end + 1 or norms[i - 1] == "power")
            ),
            None,
        )
    )
    if verb is None or verb + 1 >= len(norms) or _GIVES_REASON & set(norms[cue_end + 1 : verb]):
        return False
    k = verb + 1
    if norms[k] in _REPORTED:
        # "The main reason is considered to be the unpopularity of Trotsky": the complement
        # follows the report ("…to be", "…seen as").
        k = next((i + 1 for i in range(k + 1, min(len(norms) - 1, k + 4)) if norms[i] in _AS_BE), k)
    toks = sent.tokens
    between = sent.text[toks[verb].end - sent.start : toks[k].start - sent.start]
    if not _plain_word(norms[k], c) or "," in between or ";" in between:
        return False
    return not any(a == k for _, n in c.factors for a, _ in found.get(n, ()))


_REPORTED = frozenset(
    {"considered", "thought", "believed", "said", "seen", "regarded", "viewed", "judged", "deemed"}
)
_AS_BE = frozenset({"be", "as", "been"})


def _plain_word(word: str, c: _Compiled) -> bool:
    """A word that could name a reason: a known word, not "clearly", "he", "being" or a
    misspelling ("becuase" is no reason to trust)."""
    if not word.isalpha() or word.endswith("ly") or word in _NOT_A_REASON or word in stop_words():
        return False
    return c.lexicon.known(word)


_OPINIONS = frozenset({"think", "believe", "reckon", "guess", "feel"})
# Nor an opinion's verb: "what I think was the main reason…: his rivals…".
_NOT_A_REASON = frozenset({"stalin", "trotsky", "due", "being", "having"}) | _OPINIONS
_NEGATIONS = frozenset(
    {"not", "never", "cant", "cannot", "wasnt", "isnt", "couldnt", "wouldnt", "werent", "arent"}
)


# Who may deny a verdict before the denial: the writer or the reader ("I don't think",
# "You shouldn't assume", "Do not be fooled into thinking"), not a person in the story
# ("Trotsky did not think Stalin was dangerous").
_DENIER_LEAD = frozenset(
    {"i", "you", "we", "one", "do", "did", "would", "should", "must", "could", "can"}
    | {"really", "personally", "honestly", "still", "but", "so", "and", "yet", "however"}
)
_DENYING = _NEGATIONS | {"dont", "didnt", "doesnt", "shouldnt", "mustnt", "wont"}
# Verbs of thinking and saying that a denial governs: "I don't think", "I wouldn't say".
_THINKING = frozenset(
    {"think", "thinking", "thought", "believe", "believing", "say", "saying"}
    | {"assume", "assuming", "imagine", "claim", "claiming", "suppose", "agree"}
)
_THINKING_REACH = 5  # "Do not be fooled into thinking": the verb within these words
# "It would be wrong to say", "It is a myth that", "People wrongly think".
_WRONG = frozenset({"wrong", "wrongly", "mistake", "mistaken", "myth", "misleading", "untrue"})
_IMPERSONAL_LEAD = _DENIER_LEAD | {
    "it", "is", "was", "be", "a", "big", "people", "many", "some", "most", "historians",
    "are", "were", "to", "often", "simply",
}  # fmt: skip


def _denial_end(norms: Sequence[str], start: int, i: int) -> int | None:
    """Where a denial starting at word `i` of a clause ends (the index after its verb), or
    None: a negation or "wrong" word the writer or reader says, then a verb of thinking or
    saying ("I don't think", "Don't be fooled into thinking", "It would be wrong to say
    that", "It is a myth that")."""
    lead = set(norms[start:i])
    if norms[i] in _DENYING and lead <= _DENIER_LEAD:
        reach, verbs = _THINKING_REACH, _THINKING
    elif norms[i] in _WRONG and lead <= _IMPERSONAL_LEAD:
        reach, verbs = 3, _THINKING | {"that"}
    else:
        return None
    return next(
        (j + 1 for j in range(i + 1, i + 1 + reach) if j < len(norms) and norms[j] in verbs), None
    )


def _thought_denied(
    sent: Sentence, norms: Sequence[str], at: int, found: Matches, c: _Compiled
) -> bool:
    """Whether the writer denies the verdict at `at` in the clause that gives it: "But I
    don't think it was the main reason", "Don't be fooled into thinking that his job was the
    main reason", "It would be wrong to say that X was the main reason". Not "I don't think
    there is any doubt that the main reason was…" (the verdict is not what "was" says of a
    subject), nor "I don't think this was it, the main reason was…" (another clause), nor
    "They didn't think he was dangerous" (not the writer)."""
    if not (at >= 2 and norms[at - 1] == "the" and norms[at - 2] in _COPULA):
        return False
    start = max((e for e in _clause_ends(sent) if e <= at), default=0)
    turns = [a for a, _ in found.get(c.contrast, [])]
    for i in range(start, at - 2):
        end = _denial_end(norms, start, i)
        if end is not None and end <= at - 2:
            between = norms[end : at - 2]
            return not any(i < t < at for t in turns) and not _NOT_THE_VERDICT & set(between)
    return False


def _supposed(sent: Sentence, norms: Sequence[str], at: int) -> bool:
    """Whether the verdict at `at` is only supposed, in an "if" clause: "So if cleverness
    was the main reason then Trotsky would have won" tests a verdict and rejects it."""
    start = max((e for e in _clause_ends(sent) if e <= at), default=0)
    return bool(_SUPPOSING.intersection(norms[start:at]))


_SUPPOSING = frozenset({"if", "suppose", "supposing", "assuming", "whether"})


def _denied_after(norms: Sequence[str], end: int, found: Matches, c: _Compiled) -> bool:
    """Whether the verbs after the verdict deny it: "the main reason for his success was not
    any single advantage". Not "…was not X but Y", which names Y in X's place."""
    turns = [a for a, _ in found.get(c.contrast, [])]
    for i in range(end, min(len(norms) - 1, end + _VERB_REACH)):
        if norms[i] in _COPULA or norms[i] in _NEGATED_COPULA:
            negated = norms[i] in _NEGATED_COPULA or norms[i + 1] in _NEGATIONS
            return negated and not any(t > i for t in turns)
    return False


_VERB_REACH = 6  # words from a verdict's cue to its verb ("the main reason for his success was")
_NEGATED_COPULA = frozenset({"wasnt", "isnt", "werent", "arent"})


def _elliptical(
    sent: Sentence,
    norms: Sequence[str],
    denied: list[tuple[int, int]],
    found: Matches,
    c: _Compiled,
) -> str | None:
    """After a denied verdict, the reason a closing "X was." puts in its place: "But I don't
    think it was the main reason, Stalin being General Secretary was." None if there is none."""
    if not denied or not norms or norms[-1] not in _COPULA:
        return None
    named = [
        (a, fid)
        for fid, k in c.factors
        for a, _ in found.get(k, ())
        if a > max(denied)[1] and len(norms) - a <= _ELLIPSIS_WORDS
    ]
    return min(named)[1] if named else None


_ELLIPSIS_WORDS = 8  # "…, X was." names X within these last words


# After "I don't think", words that make the verdict something else the writer says:
# "…there is any doubt that", "…anyone can deny that", "…people realise that".
_NOT_THE_VERDICT = frozenset(
    {
        "there",
        "anyone",
        "anybody",
        "people",
        "doubt",
        "deny",
        "denied",
        "realise",
        "realize",
        # …or a new clause ("…would have won without being General Secretary so it was the
        # main reason") or a view left behind ("I didn't think at first that it was…").
        "so",
        "because",
        "therefore",
        "which",
        "hence",
        "thus",
        "first",
    }
)


def _unlisted_subject(norms: Sequence[str], verdict_at: int, found: Matches, c: _Compiled) -> bool:
    """Whether the subject of "X was the main reason" is a plain word naming no listed
    reason ("luck is the main reason"; not "this is", "his job was", "the General
    Secretary post was", nor "his victory was mainly due to…", which names it after)."""
    if verdict_at < 3 or norms[verdict_at - 1] != "the" or norms[verdict_at - 2] not in _COPULA:
        return False
    k = verdict_at - 3
    word = norms[k]
    # "his position was the main reason" is Stalin's, most likely a reason named nearby.
    if k > 0 and norms[k - 1] in _POSSESSIVES:
        return False
    if not _plain_word(word, c):
        return False
    # No reason named in the subject's clause: "the General Secretary post", "Linking
    # himself to Lenin was the main reason".
    j = k
    while j > 0 and norms[j - 1] not in _NEW_CLAUSE:
        j -= 1
    return not any(a <= k and b > j for _, n in c.factors for a, b in found.get(n, ()))


_POSSESSIVES = frozenset({"his", "her", "their", "its", "stalins", "trotskys"})


def _pointer(norms: Sequence[str], verdict_at: int) -> str | None:
    """Where a pronoun just before the verdict, its subject, points: "back" to the sentence
    before ("that is the main reason", "I think this was the main reason"), or to a clause
    of its "own" ("he had the most power of anyone, so that is the main reason"); None
    when there is no such pronoun."""
    at = [
        k
        for k in range(max(0, verdict_at - 4), verdict_at)
        if norms[k] in _POINTERS
        # "I think that the main reason…": "that" before an article opens a clause.
        and not (norms[k] == "that" and norms[k + 1] in _ARTICLES)
        # "…and the culture of unity behind it, was the main reason": the object of a
        # preposition is not the verdict's subject.
        and not (k > 0 and norms[k - 1] in _PREPOSITIONS)
    ]
    if not at:
        return None
    k = at[0]
    # "…was lucky and I think that is the main reason": the opinion sits between the join
    # and the pronoun; the pronoun still points at the clause before the join.
    if k >= 2 and norms[k - 2] == "i" and norms[k - 1] in _OPINIONS:
        k -= 2
    return "own" if k >= _OWN_CLAUSE and norms[k - 1] in _JOINS else "back"


_ARTICLES = frozenset({"the", "a", "an", "his"})
_PREPOSITIONS = frozenset(
    {
        "behind",
        "of",
        "to",
        "with",
        "in",
        "on",
        "for",
        "from",
        "by",
        "about",
        "against",
        "after",
        "before",
        "into",
    }
)
_POINTERS = frozenset({"this", "that", "it", "these", "those", "they"})
_JOINS = frozenset({"so", "and"})
_OWN_CLAUSE = 4  # words before "so that…" that make a clause for the pronoun to point at


def _unbroken(sent: Sentence, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The cue matches no punctuation breaks."""
    toks, at = sent.tokens, sent.start
    return [
        (a, b)
        for a, b in spans
        if not _CLAUSE_END.search(sent.text[toks[a].end - at : toks[b - 1].start - at])
    ]


def _gives_reason(norms: Sequence[str], start: int) -> int:
    """Where, after start, the sentence starts giving a reason for its verdict: "…was
    luck, because X" gives one; "…was because he was General Secretary" names the reason."""
    return next(
        (
            i
            for i in range(start + 1, len(norms))
            if norms[i] in _GIVES_REASON
            and norms[i - 1] not in _COPULA
            # "…was less because of X and more because of Y" ranks; it gives no reason.
            and norms[i - 1] not in {"less", "more"}
            # "hard to say which…" asks which; it gives no reason.
            and not (norms[i] == "which" and norms[i - 1] in _ASKING)
            # "…was the way in which he played the factions": the clause says what the
            # way was; it gives no reason for the verdict.
            and not (norms[i] == "which" and norms[i - 1] in _RELATIVE_PREPOSITIONS)
            # "so unpopular", "so many": "so" before a word of degree gives no reason.
            and not (norms[i] == "so" and i + 1 < len(norms) and norms[i + 1] not in _SUBJECTS)
        ),
        len(norms),
    )


_COPULA = frozenset({"was", "is", "were", "are", "be", "been"})
_AUXILIARIES = frozenset(
    {"had", "has", "have", "did", "does", "do", "would", "could", "might", "must"}
)
_GIVES_REASON = frozenset({"because", "since", "so", "which"})
_ASKING = frozenset({"say", "tell", "know", "choose", "pick", "decide", "sure", "see"})
_RELATIVE_PREPOSITIONS = frozenset({"in", "by", "with", "through"})
# Words that open a clause after "so" ("so he won", "so the party…"): then "so" gives a
# reason; before anything else it is a word of degree ("so unpopular").
_SUBJECTS = frozenset(
    {"he", "she", "they", "it", "the", "his", "her", "their", "this", "that", "these", "we"}
    | {"i", "stalin", "trotsky", "people", "everyone", "nobody", "no", "there"}
)


def _spelled_out(
    pick: str, free: dict[str, int], widest: dict[str, int], norms: Sequence[str]
) -> str:
    """ "his skill in playing the factions": a one-word cue heads a phrase that a longer
    cue just after it spells out, and the longer one says what the reason is. Not across
    a new clause: "he was sneaky and he got rid of everyone" gives two reasons."""
    near = [
        f
        for f, pos in free.items()
        if 0 < pos - free[pick] <= _PHRASE_GAP
        and not _NEW_SUBJECT.intersection(norms[free[pick] + 1 : pos])
    ]
    head = widest.get(pick, 0)
    longer = [
        f
        for f in near
        if widest[f] > head
        # "his political skill in playing the Left and Right against each other": a
        # two-word head spells out only through a word like "in" or "at".
        and (head == 1 or (head == 2 and set(norms[free[pick] + 2 : free[f]]) <= _HEAD_JOINS))
    ]
    if longer:
        return min(longer, key=free.__getitem__)
    # "his skill at playing the other leaders off against each other": a quality whose use
    # the phrase names is that use ("his skill as a politician in using the divisions").
    if pick not in _MANNERS:
        return pick
    doing = [
        f
        for f, pos in free.items()
        if 0 < pos - free[pick] <= _DOING_GAP
        and not _NEW_SUBJECT.intersection(norms[free[pick] + 1 : pos])
        and any(
            norms[i] in _DOING_JOINS and norms[i + 1].endswith("ing")
            for i in range(free[pick] + 1, pos)
        )
    ]
    return min(doing, key=free.__getitem__) if doing else pick


_MANNERS = frozenset({"political_skill"})  # qualities named by how they were used
_DOING_JOINS = frozenset({"in", "at"})  # "skill in using…", "clever at playing…"
_DOING_GAP = 8  # words from the quality to the reason its use names
_LISTED = 3  # reasons named in a sentence that weighs none of them: a list
_PHRASE_GAP = 3  # words between a one-word cue and a longer one that spells it out
_JOINT_GAP = 5  # words from the first of two reasons joined by "and" to the second
_HEAD_JOINS = frozenset({"in", "at", "of", "for", "with", "when"})
_NEW_CLAUSE = frozenset({"and", "but", "or", "because", "so", "which"}) | _SUBJECTS
# A new clause between a one-word cue and a longer one; not an article: "he used very
# skilfully the divisions of the Politburo" spells out how.
_NEW_SUBJECT = _NEW_CLAUSE - {"the", "his", "her", "their", "this", "that", "these", "no"}


_CLAUSE_END = re.compile(r"[,;:()–—]|\s-\s")


def _concession_opens(sent: Sentence, found: Matches, c: _Compiled) -> list[int]:
    """Where conceded clauses open. "Though" inside a clause, before its verb ("The main
    reason though was how he played them off"), means "however": it concedes nothing."""
    ends = set(_clause_ends(sent))
    toks = sent.tokens
    return [
        a
        for a, _ in found.get(c.concession, [])
        if not (
            toks[a].norm == "though"
            and a > 0
            and a not in ends
            and a + 1 < len(toks)
            and toks[a + 1].norm in _COPULA | _AUXILIARIES
        )
    ]


def _conceded(sent: Sentence, opens: list[int], turns: list[int]) -> list[tuple[int, int]]:
    """Token ranges of conceded clauses: from a concession word ("although") to the next
    comma (or dash, semicolon…), or to the end of the sentence; and a turn word ("while",
    "whereas") that opens a clause closed by a comma ("While X gave him the means, …")."""
    if not opens and not turns:
        return []
    toks = sent.tokens
    ends = _clause_ends(sent)

    def granted_to(close: int) -> int:
        # "Although X gave him the means, and Y the chance, Z was…": the granted clause
        # goes on through an "and" that a second comma closes.
        if close >= len(toks) or toks[close].norm != "and":
            return close
        return next((e for e in ends if e > close), close)

    spans = []
    for a in opens:
        close = next((e for e in ends if e > a), None)
        spans.append((a, len(toks) + 1 if close is None else granted_to(close)))
    for t in turns:
        # "So while X gave him the means, …": a connective may open the sentence first.
        opens_clause = t in ends or all(x.norm in _LEAD_INS for x in toks[:t])
        close = next((e for e in ends if e > t), None)
        if opens_clause and close is not None and toks[t].norm in _SUBORDINATE_TURNS:
            spans.append((t, granted_to(close)))
    return spans


def _backing(sent: Sentence, norms: Sequence[str]) -> list[tuple[int, int]]:
    """Token ranges of asides that name what backed the reason judged: "his clever use of
    the factions, backed by his party machine, was the main reason". Set off by commas
    between the reason and its verdict, they grant a help; they do not judge it."""
    ends = _clause_ends(sent)
    return [
        (a, b)
        for a, b in pairwise(ends)
        if a < len(norms) and norms[a] in _BACKED and b < len(norms) and norms[b] in _COPULA
    ]


_BACKED = frozenset({"backed", "helped", "supported", "aided", "together", "along", "alongside"})


def _ranked_lower(sent: Sentence, opens: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Token ranges of the reasons a comparison ranks lower: from "not so much" or "less
    because" to the word that brings in the higher one ("as", "but", "than", "more") in the
    same clause. With no such word it is no comparison: "people trusted him less because…",
    "more or less his job"."""
    norms = [t.norm for t in sent.tokens]
    ends = _clause_ends(sent)
    spans = []
    for a, b in opens:
        if a and norms[a - 1] == "or":
            continue  # "more or less"
        stop = min(next((e for e in ends if e > a), len(norms)), len(norms))
        close = next(
            (
                i
                for i in range(b, stop)
                if norms[i] in _HIGHER
                # "his job as General Secretary": a role, not the higher reason.
                and not (norms[i] == "as" and norms[i - 1] in _ROLES)
            ),
            None,
        )
        if close is not None:
            spans.append((a, close))
    return spans


_HIGHER = frozenset({"as", "but", "than", "more"})
_ROLES = frozenset({"job", "post", "role", "position", "office", "work"})


def _clause_ends(sent: Sentence) -> list[int]:
    """Indices of the tokens that follow a comma, dash, semicolon or bracket."""
    toks = sent.tokens
    return [
        i + 1
        for i in range(len(toks) - 1)
        if _CLAUSE_END.search(sent.text[toks[i].end - sent.start : toks[i + 1].start - sent.start])
    ]


_SUBORDINATE_TURNS = frozenset({"while", "whilst", "whereas"})
_LEAD_INS = frozenset({"so", "and", "but", "yet", "thus", "therefore", "overall", "ultimately"})


def _judgement(
    doc: Doc,
    judged: list[tuple[int, str, bool]],
    factors: tuple[FactorCoverage, ...],
    single: set[int] = frozenset(),  # type: ignore[assignment]
    causal: set[int] = frozenset(),  # type: ignore[assignment]
    guessed: set[int] = frozenset(),  # type: ignore[assignment]
    hedged: set[int] = frozenset(),  # type: ignore[assignment]
    ventured: set[int] = frozenset(),  # type: ignore[assignment]
    owned: set[int] = frozenset(),  # type: ignore[assignment]
) -> Judgement:
    """The essay's judgement from its judging sentences.

    Where any sentence gives a verdict, only verdicts count: "I think" or "the most
    famous" elsewhere is not the judgement. The conclusion's last verdict wins. A verdict
    naming nothing ("that is why") counts only when no verdict names a reason; one on a
    reason the writer names that the rubric does not list (`owned`: "the main reason was
    propaganda") counts beside them. A judgement on an unnamed reason (no main factor) is
    supported when its own sentence gives a reason ("because…"). A reason only the
    sentence model reads into a verdict (`guessed`) counts only when no verdict names one.
    A conclusion whose last judging sentence leaves the main reason open (`hedged`) makes no
    judgement, and a verdict it only ventures (`ventured`: "maybe that was the real main
    reason") does not overturn one it states.
    """
    last = max((i for i, _, _ in judged), default=-1)  # the last sentence that judges at all
    if any(v for _, _, v in judged):
        judged = [j for j in judged if j[2]]
    if any(f for _, f, _ in judged):
        # "GS was the main reason", "that is the main reason": a verdict naming no reason
        # the rubric lists usually points at one named elsewhere; one that names the
        # writer's own ("…now I think the main reason was propaganda") does not.
        judged = [j for j in judged if j[1] or j[0] in owned]
    if any(i not in guessed and f for i, f, _ in judged):
        # "…and that is the main reason" after a clause the sentence model reads as some
        # reason is a guess; a verdict where the student names the reason is not.
        judged = [j for j in judged if j[0] not in guessed]
    pairs = [(i, f) for i, f, _ in judged]
    if not pairs:
        return Judgement(False, None, False, None, ())
    n = len(doc.sentences)
    paragraphs = {s.paragraph for s in doc.sentences}
    if len(paragraphs) >= 3:
        first_p, last_p = min(paragraphs), max(paragraphs)
        intro = {s.index for s in doc.sentences if s.paragraph == first_p}
        outro = {s.index for s in doc.sentences if s.paragraph == last_p}
    else:
        intro, outro = set(range(min(2, n))), set(range(max(0, n - 2), n))
    if any(i in outro and i > last for i in hedged):
        # "…so it is hard to pick just one main reason": the conclusion ends undecided,
        # whatever the essay leaned towards on the way.
        return Judgement(False, None, False, None, ())
    intro_f = [f for i, f in pairs if i in intro]
    outro_f = [f for i, f in pairs if i in outro]
    counts: dict[str, int] = {}
    for _, f in pairs:
        counts[f] = counts.get(f, 0) + 1
    stated = [f for i, f in pairs if i in outro and i not in ventured]
    main = (
        (stated or outro_f)[-1]
        if outro_f
        else max(counts, key=lambda f: (counts[f], -_first(pairs, f)))
    )
    consistent = None
    if intro_f and outro_f and intro != outro:
        # Only two plain verdicts on one reason each can contradict each other: a sentence
        # weighing two reasons ("X gave him the means, but…") is not a different verdict.
        first = next(i for i, _ in pairs if i in intro)
        last = [i for i, _ in pairs if i in outro][-1]
        plain = first in single and last in single
        consistent = intro_f[0] == outro_f[-1] or not plain
        if not consistent and not (intro_f[0] and outro_f[-1]):
            # A reason the rubric does not list may be a listed one in the writer's words
            # ("he was ruthless" … "fear was the main reason"): no telling whether they agree.
            consistent = None
    if main:
        supported = next(f.status for f in factors if f.id == main) in EXPLAINING
    else:
        supported = any(i in causal for i, f in pairs if f == main)
    evidence = tuple(
        Evidence(doc.sentences[i].text, doc.sentences[i].start, doc.sentences[i].end, Role.JUDGE)
        for i in sorted({i for i, _ in pairs})
    )
    return Judgement(True, main or None, supported, consistent, evidence)


def _first(judged: list[tuple[int, str]], factor: str) -> int:
    return next(i for i, f in judged if f == factor)


def year_of(word: str) -> int | None:
    """The year a word names; a decade stands for its middle ("the 1930s" is not 1930)."""
    m = _DECADE_OR_YEAR.match(word)
    if not m:
        return None
    return int(m[1]) + (5 if word.endswith("s") else 0)


def within_period(year: int, period: tuple[int, int]) -> bool:
    """Inside the question's years, with a year's grace either side."""
    return period[0] - 1 <= year <= period[1] + 1


def _years(sent: Sentence) -> list[int]:
    """The years a sentence names, a range's short end among them ("1918-21" is 1918 and
    1921: the Civil War reaches into the question's years)."""
    out: list[int] = []
    last = None  # the year token just before, if any
    toks = sent.tokens
    for i, t in enumerate(toks):
        y = year_of(t.norm)
        if y is not None and t.norm.endswith("s") and _bounded(toks, i):
            y -= 5  # "before the 1930s (begin)" is the decade's start: where the period ends
        if y is None and last is not None and len(t.norm) == 2 and t.norm.isdigit():
            between = sent.text[last[1].end - sent.start : t.start - sent.start]
            end = last[0] // 100 * 100 + int(t.norm)
            y = end if _RANGE_JOIN.fullmatch(between) and end > last[0] else None
        if y is not None:
            out.append(y)
        last = (y, t) if y is not None else None
    return out


_RANGE_JOIN = re.compile(r"\s*[-–—]\s*")


def _bounded(toks: Sequence[Token], i: int) -> bool:
    """Whether the decade at token `i` is a limit in time ("before the 1930s"), not a time
    when something happened ("in the 1930s")."""
    j = i - 1 if i and toks[i - 1].norm == "the" else i
    return j > 0 and toks[j - 1].norm in _BOUNDS


def _dated_within(sent: Sentence, period: tuple[int, int] | None) -> bool:
    """Some year in the sentence lies inside the question's period (or near it)."""
    return period is not None and any(within_period(y, period) for y in _years(sent))


def _out_of_period(doc: Doc, period: tuple[int, int] | None) -> tuple[Span, ...]:
    """Sentences whose years all lie more than a year outside the question's period."""
    if period is None:
        return ()
    out = []
    for sent in doc.sentences:
        years = _years(sent)
        if years and not any(within_period(y, period) for y in years):
            out.append(Span(sent.text, sent.start, sent.end))
    return tuple(out)


def _closing_tags(sent: Sentence, found: Matches, c: _Compiled) -> list[tuple[int, int]]:
    """Doubt tags ("I think") that close their clause ("…in 1917 (I think)", "…the Whites
    I think, or…") rather than open one ("I think the main reason…")."""
    toks, at = sent.tokens, sent.start

    def closes(b: int) -> bool:
        if b == len(toks):
            return True
        return bool(_CLAUSE_END.search(sent.text[toks[b - 1].end - at : toks[b].start - at]))

    return [(a, b) for a, b in found.get(c.doubt_tags, ()) if closes(b)]


def _doubts(sent: Sentence, found: Matches, c: _Compiled) -> bool:
    """Whether the writer doubts what the sentence says: a doubt, or a closing tag."""
    return c.doubt in found or bool(_closing_tags(sent, found, c))


def _specific_evidence(
    doc: Doc,
    all_stems: list[tuple[str, ...]],
    found: list[list[tuple[int, int]]],
    skip: set[int],
    period: tuple[int, int] | None,
) -> tuple[Span, ...]:
    """Distinct dates, names and events the essay uses, each at its first use.

    `found` holds the evidence cues' matches in each sentence; sentences starting at an
    offset in `skip` (a corrected fact, outside the period) count for nothing.
    """
    seen: dict[str, Span] = {}
    for sent, stems, spans in zip(doc.sentences, all_stems, found, strict=True):
        if sent.start in skip:
            continue
        for tok in sent.tokens:
            year = year_of(tok.norm) if _YEAR.match(tok.norm) else None
            # A year outside the question ("in 1936") is no knowledge of it.
            if year is not None and (period is None or within_period(year, period)):
                seen.setdefault(tok.norm[:4], Span(tok.text, tok.start, tok.end))
        for a, b in spans:
            key = " ".join(stems[a:b])
            if key not in seen:
                start, end = sent.tokens[a].start, sent.tokens[b - 1].end
                # "the Politburo's factions": the knowledge is the Politburo.
                if doc.text[start:end].endswith(("'s", "’s")):
                    end -= 2
                seen[key] = Span(doc.text[start:end], start, end)
    return tuple(sorted(seen.values(), key=lambda s: s.start))


def _misconceptions(doc: Doc, matches: list[Matches], c: _Compiled) -> tuple[MisconceptionHit, ...]:
    hits = []
    for m, groups, none_of in c.misconceptions:
        for sent, found in zip(doc.sentences, matches, strict=True):
            if none_of in found:
                continue
            spans = [[x for x in g if _asserted(sent, x[0])] for g in _claims(sent, found, groups)]
            if not all(spans):
                continue
            if _misconception_hit(spans, m, _clause_ends(sent) if m.clause else ()):
                hits.append(
                    MisconceptionHit(m.id, m.claim, m.correction, sent.text, sent.start, sent.end)
                )
                break
    # In the order the student wrote them, as a teacher reading down the page finds them.
    return tuple(sorted((*hits, *_wrong_dates(doc, matches, c)), key=lambda h: h.start))


# Words that deny what follows them: "…rather than joining Trotsky against Stalin", "he
# did not lead the Whites" state the opposite of the claim they contain.
_DENIED_BY = _NEGATIONS | {"didnt", "doesnt", "dont", "no"}
_QUALITY_DENIED = _DENIED_BY | {"nor"}  # "he wasn't as clever", "neither patient nor clever"
_DENIED_AFTER = frozenset({("rather", "than"), ("instead", "of")})


def _asserted(sent: Sentence, at: int) -> bool:
    """False when the words just before token `at` deny or set aside what it says."""
    norms = [t.norm for t in sent.tokens[max(0, at - 2) : at]]
    return not (_DENIED_BY.intersection(norms) or tuple(norms) in _DENIED_AFTER)


def _claims(
    sent: Sentence, found: Matches, groups: tuple[tuple[int, int], ...]
) -> list[list[tuple[int, int]]]:
    """A sentence's matches of each of a misconception's groups. Stems drop punctuation and
    the possessive, so an unbroken phrase counts only where no punctuation breaks it:
    "Trotsky's Socialism in One Country" swaps the policies; the list "…, Trotsky,
    Socialism in One Country and…" does not."""
    return [
        sorted(_unbroken(sent, found.get(plain, [])) + found.get(gapped, []))
        for plain, gapped in groups
    ]


def _breaks(tokens: Sequence[Token], j: int) -> bool:
    """True when token j starts another clause or is another year; "Zinoviev and Kamenev" is one."""
    word = tokens[j].norm
    if word == "and" and 0 < j < len(tokens) - 1:
        return not (tokens[j - 1].text[:1].isupper() and tokens[j + 1].text[:1].isupper())
    return word in _DATE_BREAKS or bool(_FULL_YEAR.match(word))


_RANGE_BOUNDS = frozenset({"to", "till", "until"})  # not "since 1898": that dates it
_BOUNDS = _RANGE_BOUNDS - {"to"} | {"before"}  # "before the 1930s", "until the 1930s"
_MONTHS = frozenset(
    {
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "early",
        "late",
    }
)


def _opens_clause(norms: Sequence[str], i: int) -> bool:
    """True when the year at i opens its clause: "In (early/March/21 January) 1924, ..."."""
    j = i - 1
    while j >= 0 and (norms[j] in _MONTHS or (norms[j].isdigit() and len(norms[j]) <= 2)):
        j -= 1
    if j < 0:
        return True
    return norms[j] == "in" and (j == 0 or norms[j - 1] in _DATE_BREAKS or norms[j - 1] == "that")


def _corrected_to(text: str, tokens: Sequence[Token], norms: Sequence[str], i: int) -> int | None:
    """The year a writer puts in place of the year at token `i` straight after it: "1923,
    no, 1924", "1923 (I mean 1924)", "1923 [1924]". None if there is none."""
    for j in range(i + 1, min(i + 1 + _CORRECTION_REACH, len(norms))):
        if _FULL_YEAR.match(norms[j]):
            between = set(norms[i + 1 : j])
            bracket = any(ch in text[tokens[i].end : tokens[j].start] for ch in "([")
            if (between or bracket) and between <= _CORRECTING:
                return int(norms[j])
            return None
    return None


_CORRECTION_REACH = 4  # words from a year to the one that corrects it ("no, sorry, 1924")
_CORRECTING = frozenset({"no", "sorry", "i", "mean", "meant", "or", "actually", "rather"})


def _wrong_dates(doc: Doc, matches: list[Matches], c: _Compiled) -> tuple[MisconceptionHit, ...]:
    """Years written next to an event that happened in another year, first per event.

    A year belongs to the nearest event a few words after it ("Lenin died in 1931") or
    opening the clause before it ("In 1924 Stalin became General Secretary"), with no
    break between them: a word starting another clause, another year, or punctuation.
    """
    hits: dict[str, MisconceptionHit] = {}
    for sent, found in zip(doc.sentences, matches, strict=True):
        events = [(a, b, fact) for fact, k in c.dates for a, b in found.get(k, ())]
        if not events:
            continue
        tokens = sent.tokens
        norms = [t.norm for t in tokens]
        for i, word in enumerate(norms):
            if not _FULL_YEAR.match(word):
                continue
            opens = _opens_clause(norms, i)
            # "from when Lenin died to 1929": a bound of the writer's period, not the event's.
            bound = i > 0 and norms[i - 1] in _RANGE_BOUNDS
            # "…starts in 1921 when Stalin…": the year opens a "when" clause (no break).
            then_when = norms[i + 1 : i + 2] == ["when"]
            nearest: tuple[int, DateFact] | None = None
            for a, b, fact in events:
                when = 0  # a "when" after the year, skipped as a clause break
                if i >= b and not bound:
                    first, last, most = b - 1, i, _DATE_GAP
                elif i < a and (opens or then_when):
                    # "In 1921 Stalin was given the job…", "…starts in 1921 when Stalin…"
                    when = int(not opens)
                    first, last, most = i, a, _DATE_GAP_BEFORE + when
                else:
                    continue
                between = norms[first + 1 : last]
                gap = doc.text[tokens[first].end : tokens[last].start]
                # A comma may close an opening date ("In March 1925, Lenin died"), not more.
                stops = "\n;.:>→" if i < a else "\n;.,:>→"
                if (
                    len(between) > most
                    or any(ch in gap for ch in stops)
                    or any(_breaks(tokens, j) for j in range(first + 1 + when, last))
                ):
                    continue
                if nearest is None or len(between) < nearest[0]:
                    nearest = (len(between), fact)
            if nearest is None:
                continue
            fact = nearest[1]
            low = high = int(word)
            if run := _RANGE_END.match(doc.text, tokens[i].end):
                end = run.group(1)
                high = int(end) if len(end) == 4 else low // 100 * 100 + int(end)
            elif (
                i > 0
                and norms[i - 1 : i + 2] == ["between", word, "and"]
                and i + 2 < len(norms)
                and _FULL_YEAR.match(norms[i + 2])
            ):
                high = int(norms[i + 2])  # "between 1925 and 1927"
            if _corrected_to(doc.text, tokens, norms, i) in fact.years:
                continue  # "Lenin died in 1923, no, 1924": the writer put it right at once
            if not any(low <= y <= high for y in fact.years) and fact.id not in hits:
                hits[fact.id] = MisconceptionHit(
                    fact.id,
                    f"{fact.event} in {word}",
                    fact.correction,
                    sent.text,
                    sent.start,
                    sent.end,
                )
    return tuple(hits.values())

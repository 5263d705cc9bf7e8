"""Formative feedback: What Went Well, Even Better If and one next step.

Every point either quotes the student's own sentence or uses the rubric's wording for the
state a factor is in; nothing here writes the answer for the student.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import pairwise

from essay_marker.levels import gives_unread_reason, might_say_how
from essay_marker.records import (
    EXPLAINING,
    Coverage,
    Evidence,
    FactorCoverage,
    Feedback,
    Marking,
    MisconceptionHit,
    Role,
    Span,
    Status,
)
from essay_marker.rubric import Language, Rubric
from essay_marker.text import join_words

_QUOTE_WORDS = 22  # long sentences are quoted up to this many words, then "…"
_QUOTED_WORDS = 5  # words a sentence needs before it is quoted as describing a reason
_MAX_WWW, _MAX_EBI = 3, 4
# Which of a factor's sentences best shows its status.
# Beside "explained" only a sentence that explains: a story sentence shown there ("In April
# 1922 Stalin was appointed General Secretary") would call the story an explanation.
_ROLE_ORDER = {
    Status.WEIGHED: (Role.WEIGH, Role.EXPLAIN, Role.JUDGE),
    Status.EXPLAINED: (Role.EXPLAIN, Role.WEIGH, Role.JUDGE),
    Status.MENTIONED: (Role.DESCRIBE, Role.JUDGE, Role.WEIGH, Role.EXPLAIN),
    Status.ABSENT: (),
}


@dataclass(frozen=True)
class Reading:
    """What a bullet is checked against before it is written: never ask for what is there."""

    linked: bool  # some sentence links or compares reasons
    causal: frozenset[int]  # starts of sentences that say how or why
    shown: dict[int, frozenset[str]]  # sentence start -> the factors it is quoted for
    # The judgement is one plain verdict: its last sentence judges a single reason.
    plain_verdict: bool = False
    # sentence start -> the sentence model's probability that it explains (with a model)
    explains: dict[int, float] = field(default_factory=dict)
    # sentence start -> the factors it names itself (None without coverage: not known)
    names: dict[int, frozenset[str]] | None = None
    # the named reasons explained in a sentence sure enough to quote (build_feedback sets it)
    surely: frozenset[str] = frozenset()
    # (start, end) of the sentences that argue: say how, weigh or judge
    argued: tuple[tuple[int, int], ...] = ()
    # starts of the sentences about a reason that turn or concede ("but", "although"):
    # build_feedback sets it from the rubric's language
    turned: frozenset[int] = frozenset()
    # sentence start -> the reasons the sentence before it is about (with coverage)
    before: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, result: Marking, coverage: Coverage | None) -> Reading:
        """From the essay's coverage when there is one, else from the result alone."""
        shown: dict[int, set[str]] = {}
        for f in result.factors:
            for e in f.evidence:
                shown.setdefault(e.start, set()).add(f.id)
        frozen = {k: frozenset(v) for k, v in shown.items()}
        j = result.judgement
        if coverage is None:
            how = [e for f in result.factors for e in f.support if e.role == Role.EXPLAIN]
            linked = any(f.status == Status.WEIGHED for f in result.factors)
            spans = tuple(sorted({(e.start, e.end) for e in how}))
            return cls(linked, frozenset(e.start for e in how), frozen, argued=spans)
        sentences = coverage.sentences
        # One reason judged, or the verdict leads with it ("X was the most important,
        # because without X…"), and named there, not pointed back to ("That is the main
        # reason"): then the reason judged can be named back with confidence.
        last = j.evidence[-1].start if j.evidence else None
        plain = any(
            s.start == last
            and s.roles
            and (len(s.roles) == 1 or s.roles[0][0] == j.main_factor)
            and j.main_factor in s.named
            for s in sentences
        )
        return cls(
            any(s.weighing for s in sentences),
            frozenset(s.start for s in sentences if s.causal),
            frozen,
            plain,
            {s.start: s.explains for s in sentences if s.explains is not None},
            {s.start: s.named for s in sentences},
            argued=tuple(
                (s.start, s.end)
                for s in sentences
                if s.causal or s.weighing or any(r in _ARGUING for _, r in s.roles)
            ),
            before={
                s.start: frozenset(f for f, _ in prev.roles) for prev, s in pairwise(sentences)
            },
        )

    def explains_somewhere(self, f: FactorCoverage) -> bool:
        """Whether any sentence read as touching the factor might say how or why, or weigh
        it: before telling a student they have not explained, be sure nothing there looks
        like it."""
        return might_say_how(f, self.causal) or self.might_weigh(f)

    def might_weigh(self, f: FactorCoverage) -> bool:
        """Whether a sentence about the factor names another across a turn ("Trotsky's
        arrogance hurt him, but it was Stalin's control of the party that…"): it may
        weigh the two, which is more than describing."""
        if any(e.role == Role.WEIGH for e in f.support):
            # "Even his link with Lenin depended on the job": set beside another reason.
            return True
        if self.names is None:
            return False
        return any(
            len(self.names.get(e.start, ())) >= 2 and e.start in self.turned for e in f.support
        )


def quote(e: Span | Evidence | MisconceptionHit) -> str:
    """The student's sentence in quotation marks, shortened if long."""
    words = e.text.split()
    text = " ".join(words[:_QUOTE_WORDS]) + (" …" if len(words) > _QUOTE_WORDS else "")
    return f"“{text}”"


def best_evidence(
    f: FactorCoverage, *roles: Role, avoid: frozenset[int] = frozenset()
) -> Evidence | None:
    """The most telling sentence for a factor, trying roles in order; skips starts in avoid."""
    roles = roles or _ROLE_ORDER[f.status]
    for role in roles:
        # Only sentences surely about the factor are quoted (FactorCoverage.evidence).
        found = [e for e in f.shown_with(role) if e.start not in avoid]
        if found:
            # Prefer a sentence that is about this factor rather than a long list of them.
            return min(found, key=lambda e: (len(e.text.split()) > 40, e.start))
    return None


def _praised_explanation(
    f: FactorCoverage, rubric: Rubric, reading: Reading, used: set[int]
) -> Evidence | None:
    """The sentence to quote as explaining a factor: it says how in its own words and,
    with a sentence model, is the one the model is surest explains (and sure enough)."""
    found = [
        x
        for x in f.shown_with(Role.EXPLAIN)
        if x.start not in used
        and _says_how(x, rubric)
        # "Some people say Trotsky was unpopular and that is why he lost" reports a view.
        and not _has_phrase(x.text, rubric.language.others_view)
        # "Trotsky was arrogant. This meant Zinoviev and Kamenev teamed up with Stalin":
        # the factions are what Trotsky's arrogance led to, not a reason explained.
        and not (
            reading.before
            and f.id not in reading.before.get(x.start, ())
            and _only_a_result(x.text, rubric.factor(f.id).cues, rubric.language)
        )
        # "This helped Stalin because…" carries on from the sentence before: quoted alone,
        # it may be about something else (on the blind dev set, one quote in seven was).
        and (reading.names is None or f.id in reading.names.get(x.start, ()))
    ]
    if not reading.explains:
        return found[0] if found else None
    sure = [x for x in found if reading.explains.get(x.start, 0.0) >= _PRAISE_EXPLAINS]
    return max(sure, key=lambda x: reading.explains[x.start]) if sure else None


def _surely_explained(
    fs: tuple[FactorCoverage, ...], rubric: Rubric, reading: Reading
) -> frozenset[str]:
    """The named reasons explained in a sentence sure enough to be quoted as explaining them:
    the only ones a bullet may name as explained (status alone is read for recall)."""
    return frozenset(
        f.id
        for f in fs
        if f.named and f.status in EXPLAINING and _praised_explanation(f, rubric, reading, set())
    )


def _might_explain(f: FactorCoverage, reading: Reading) -> bool:
    return f.status == Status.MENTIONED and reading.explains_somewhere(f)


def _www(result: Marking, rubric: Rubric, reading: Reading) -> list[str]:
    out: list[str] = []
    used: set[int] = set()
    ranked = sorted(result.factors, key=lambda f: (f.status != Status.WEIGHED, not f.named))
    # Weighing is praised in a sentence that weighs, not in the verdict ("X mattered, but I
    # think Y was the main reason" judges; the judgement has its own bullet) nor in one that
    # judges or hedges ("…so they were all important").
    verdicts = {v.start for v in result.judgement.evidence}
    lang = rubric.language
    judging = lang.verdict + lang.opinion + lang.hedging + lang.undecided
    for f in ranked:
        if f.status not in EXPLAINING or len(out) >= 2:
            continue
        status, e = f.status, None
        if status == Status.WEIGHED:
            # Weighing is praised only where one sentence is quoted for two reasons.
            links = [
                w
                for w in f.shown_with(Role.WEIGH)
                if len(reading.shown.get(w.start, ())) >= 2
                and w.start not in verdicts
                and not _has_phrase(w.text, judging)
                and not _only_adds(w.text, rubric)
            ]
            e = next((w for w in links if w.start not in used), None)
            status = Status.WEIGHED if e else Status.EXPLAINED
        e = e or _praised_explanation(f, rubric, reading, used)
        if e:
            used.add(e.start)
            out.append(f"{rubric.factor(f.id).feedback.for_status(status)} See {quote(e)}")
    j = result.judgement
    if (
        j.present
        and j.supported
        and j.consistent is not False
        and j.evidence
        and reading.plain_verdict
        # The other reasons are found less surely: their judgement is not named back.
        and j.main_factor
        and rubric.factor(j.main_factor).named
        # "Backed up": the main reason is explained in a sentence sure enough to quote.
        and j.main_factor in reading.surely
    ):
        main = rubric.factor(j.main_factor).short
        out.append(
            f"You make a clear judgement that {main} was the main reason, and back it "
            f"up: {quote(j.evidence[-1])}"
        )
    # Knowledge that supports a point is knowledge used where the essay argues: on the
    # blind dev set, 1 item in 100 there was wrong or out of period, 1 in 30 elsewhere.
    argued = [
        s for s in result.specific_evidence if any(a <= s.start < b for a, b in reading.argued)
    ]
    if len(result.specific_evidence) >= 5 and len(argued) >= _USED_KNOWLEDGE:
        # Three examples, not five: each more is one more chance to praise a slip.
        items = join_words([s.text for s in argued[:3]])
        out.append(f"You support your points with specific knowledge, such as {items}.")
    if not out:
        # Credit the first named reason the student does identify, in their words.
        for f in (f for f in result.factors if f.named):
            e = best_evidence(f, Role.DESCRIBE, Role.JUDGE, Role.WEIGH)
            # A sentence that names the reason itself: not "That is the difference."
            # carrying on from the one before.
            if e and reading.names is not None and f.id not in reading.names.get(e.start, ()):
                continue
            if e:
                out.append(
                    f"You identify {rubric.factor(f.id).short} as part of the story: {quote(e)}"
                )
                break
    return out[:_MAX_WWW]


def _ebi(result: Marking, rubric: Rubric, reading: Reading, next_step: str = "") -> list[str]:
    out = []
    for m in result.misconceptions[:2]:
        out.append(f"Check this fact: {quote(m)} {m.correction}")
    # Not a sentence that sets the later years aside itself ("…came after he had won"): it
    # uses them rightly.
    later = [s for s in result.out_of_period if not _has_phrase(s.text, rubric.language.set_aside)]
    if later and rubric.period:
        first, last = rubric.period
        out.append(
            f"{quote(later[0])} is outside the years this "
            f"question is about ({first}–{last}), so it earns no credit: use evidence from "
            "those years."
        )
    # Only where nothing said about the reason says how or why: never ask for what is there.
    # Only the rubric's named reasons: the others are found less surely (on the blind dev
    # set, two in three such bullets quoted a sentence not about the reason, or one that
    # was explained after all).
    described = [
        f
        for f in result.factors
        if f.named and f.status == Status.MENTIONED and not reading.explains_somewhere(f)
    ]
    for f in described[:2]:
        e = best_evidence(f, Role.DESCRIBE, Role.JUDGE, Role.WEIGH)
        # A note of names ("- Zinoviev and Kamenev") is no sentence to say "you describe" of.
        if e and sum(w.isalpha() for w in e.text.split()) >= _QUOTED_WORDS:
            out.append(f"In {quote(e)}: {rubric.factor(f.id).feedback.mentioned}")
    # Reasons no cue found: a student may have put one in words the cues miss ("his job in
    # the government"), so the bullet asks for it rather than saying it is not there.
    absent = [f for f in result.factors if f.named and f.status == Status.ABSENT]
    if absent:
        left_out = rubric.factor(absent[0].id)
        others = [rubric.factor(f.id).short for f in absent[1:]]
        extra = f" You could also bring in {join_words(others)}." if others else ""
        out.append(f"{left_out.feedback.absent}{extra}")
    j = result.judgement
    # Once, not twice: the next step may already ask for the judgement.
    if not j.present and result.factors and next_step != _MAKE_JUDGEMENT_CLEAR:
        out.append(
            "Make your answer to the question clear: say which reason was the MAIN one in "
            "your introduction, say why, keep arguing for it, and come back to it in your "
            "conclusion."
        )
    elif j.present and j.consistent is False:
        out.append(
            "Your introduction and conclusion argue for different main reasons. Decide "
            "which one you believe and argue for it all the way through."
        )
    elif (
        j.present
        and not j.supported
        and j.main_factor
        and rubric.factor(j.main_factor).named
        and not reading.explains_somewhere(next(f for f in result.factors if f.id == j.main_factor))
    ):
        out.append(
            f"You say {rubric.factor(j.main_factor).short} was the main reason "
            f"({quote(j.evidence[-1])}) but the essay never explains how it "
            f"{rubric.outcome}. Back your judgement up with that explanation."
        )
    # Only reasons surely explained are named as ones to link (on the blind dev set, none
    # of four such bullets held when any explained reason could be named).
    explained = [f for f in result.factors if f.id in reading.surely]
    if len(explained) >= 2 and not reading.linked:
        a, b = (rubric.factor(f.id).short for f in explained[:2])
        out.append(
            f"Link your reasons: ask whether {a} would have worked without {b}, and "
            f"say which mattered more and why."
        )
    if result.spag.misspellings:
        out.append(f"Correct these spellings: {spelling_list(result)}.")
    return out[:_MAX_EBI]


def spelling_list(result: Marking, most: int = 8) -> str:
    """Misspelt words with suggestions, each once: 'Zinovev → zinoviev, goverment → government'."""
    seen: dict[str, str] = {}
    for m in result.spag.misspellings:
        seen.setdefault(m.text, f"{m.text} → {m.suggestion}" if m.suggestion else m.text)
    return ", ".join(list(seen.values())[:most])


# Words that may carry an explanation in a student's own phrasing ("he missed the funeral
# and let Stalin look loyal"): where one is there, "you have not explained" is not said.
# A sentence praised for explaining must show the how in its own words, and be more than
# a signpost ("Trotsky's weaknesses also helped Stalin."): this many words at least.
_HOW_WORDS = 8
# With a sentence model, a sentence is quoted as explaining only when the model gives it
# at least this probability. On the blind dev set (session 7, 0.6), quoted sentences the
# annotation also reads as explaining their factor rose from 73% (any) to 83%; in session 8,
# of the quotes at 0.60-0.66 eight of eleven were right, of those at 0.67 or more 50 of 51.
# Taught the sentences that link reasons (session 12), the role model is surer of more
# sentences: at 0.67, 92.5% of What went well bullets were true on the blind dev set, at
# 0.75 94.3% (94.2% before it learned them). On the 386 dev essays (session 14, each
# writer's essays marked by a model trained without them), 12 of the 17 quotes at 0.75-0.80
# were true (71%, against 94% of the 261 at 0.80 or more): 0.80. On the 841 dev essays
# (session 19, cached models each writer left out), the What went well bullets that 0.85
# drops were 24 true and 12 false (67%), those 0.90 would drop as well 55 and 5 (92%): 0.85.
_PRAISE_EXPLAINS = 0.85
_USED_KNOWLEDGE = 3  # items of knowledge in arguing sentences before they are praised
_ARGUING = frozenset({Role.EXPLAIN, Role.WEIGH, Role.JUDGE})


def _phrases_at(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where a sentence has these phrases, in word positions (matched on stems, as cues are)."""
    from essay_marker.analysis.coverage import cue_set
    from essay_marker.text import phrase_stems

    return cue_set(phrases).find(phrase_stems(text))


def _has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    """Whether a sentence has one of these phrases."""
    return bool(_phrases_at(text, phrases))


def _only_a_result(text: str, cues: tuple[str, ...], lang: Language) -> bool:
    """Whether a sentence names the reason only after it turns to a result ("This meant
    Zinoviev and Kamenev teamed up with him"): it explains what led there, not the reason."""
    named = _phrases_at(text, cues)
    turns = _phrases_at(text, lang.consequence)
    return bool(named and turns) and min(turns)[0] < min(named)[0]


def _only_adds(text: str, rubric: Rubric) -> bool:
    """Whether a sentence's only weighing words add a reason ("X and Y also helped"), not
    counting those inside a reason's name ("his link to Lenin" spells "linked to")."""
    lang = rubric.language
    if not _has_phrase(text, lang.additive):
        return False
    others = tuple(w for w in lang.weighing if w not in lang.additive)
    from essay_marker.analysis.coverage import inside_any

    names = _phrases_at(text, tuple(c for f in rubric.factors for c in f.cues))
    return all(inside_any(m, names) for m in _phrases_at(text, others))


def _says_how(e: Evidence, rubric: Rubric) -> bool:
    """Whether a quoted sentence says how, in words a reader can see: a causal phrase."""
    if len(e.text.split()) < _HOW_WORDS:
        return False
    # Not an arrow alone: "GS 1922 -> appointed secretaries -> they chose delegates" lists
    # the steps; on the blind dev set three of five such quotes were read as describing.
    return _has_phrase(e.text, rubric.language.causal + rubric.language.causal_openers)


def _next_step(result: Marking, rubric: Rubric, reading: Reading) -> str:
    fs = result.factors
    explained = [f for f in fs if f.status in EXPLAINING]
    described = sorted((f for f in fs if f.status == Status.MENTIONED), key=lambda f: not f.named)
    if not any(f.status != Status.ABSENT for f in fs):
        first = next((f for f in rubric.factors if f.named), None)
        if first and gives_unread_reason(fs, result.judgement, bool(reading.causal)):
            # It may give a reason no factor covers: build on a factor of the question
            # instead of saying it gives none.
            return (
                f"Write a paragraph on {first.short}: one specific fact (a date, a name or "
                f"an event), then how it {rubric.outcome}."
            )
        return (
            "Plan before you write: pick two reasons that answer the question, then write a "
            f"paragraph on each that explains how it {rubric.outcome}."
        )
    # A reason is surely unexplained only when nothing said about it might say how.
    maybe = [f for f in fs if f.status in EXPLAINING or _might_explain(f, reading)]
    unexplained = [f for f in fs if f.status == Status.MENTIONED and not _might_explain(f, reading)]
    unexplained += [f for f in fs if f.status == Status.ABSENT]
    if not maybe and described:
        # Never "keep the fact" of a sentence whose fact was just corrected.
        for f in described:
            e = best_evidence(f, Role.DESCRIBE, Role.JUDGE, Role.WEIGH)
            if e and not any(m.start < e.end and e.start < m.end for m in result.misconceptions):
                return (
                    f"Rewrite this sentence: {quote(e)} Keep the fact, then add how it "
                    f"{rubric.outcome}, beginning 'This meant that…'."
                )
        # Only where a fact was corrected: with none, no sentence was sure enough to quote.
        if result.misconceptions:
            return (
                f"Correct the facts in your paragraph on {rubric.factor(described[0].id).short}, "
                f"then add how it {rubric.outcome}, beginning 'This meant that…'."
            )
    gaps = [f for f in unexplained if f.named]
    if len(maybe) < 2 and gaps:
        return (
            f"Write one more paragraph that explains {rubric.factor(gaps[0].id).short}: one "
            f"specific fact (a date, a name or an event), then how it {rubric.outcome}."
        )
    if len(explained) < 2:
        # Perhaps a second reason is explained already: develop what is there instead.
        return (
            "Take the reason you explain best and add one specific fact (a date, a name or "
            f"an event) and a sentence on how it {rubric.outcome}."
        )
    if not result.judgement.present:
        # Not "add a judgement": one may be there in words essaymark did not read as one.
        return _MAKE_JUDGEMENT_CLEAR
    if result.judgement.consistent is False:
        return "Rewrite your introduction so it argues for the same main reason as your conclusion."
    if not any(f.status == Status.WEIGHED for f in fs) and not reading.linked:
        # Naming two reasons says both are explained: only those explained surely enough
        # to quote are named.
        sure = [rubric.factor(f.id).short for f in explained if f.id in reading.surely]
        pair = f"{sure[0]} and {sure[1]}" if len(sure) >= 2 else "two of your reasons"
        return (
            f"Add two or three sentences linking {pair}: did one make the other "
            f"possible? Use that link to show which was more important."
        )
    main_id = result.judgement.main_factor
    if main_id is None or not rubric.factor(main_id).named:
        # A verdict on a reason essaymark cannot name, or names less surely than the four
        # the question's teaching lists: never ask for a judgement it has.
        return (
            "Give a criterion for your judgement in your conclusion: which of the other "
            "reasons did your main reason make possible, or depend on?"
        )
    if not reading.plain_verdict:
        # Which reason the judgement picks is not clear enough to name it back.
        return (
            "In your conclusion, name the ONE reason you think mattered most and give a "
            "criterion for it: which reason did the others depend on?"
        )
    if not result.judgement.supported:
        main = rubric.factor(main_id).short
        return f"Explain how {main} {rubric.outcome}, so that your judgement is backed up."
    others = [f for f in fs if f.id in reading.surely and f.id != main_id]
    if others:
        return (
            f"Sharpen your judgement: give a criterion (which reason did the others depend "
            f"on?) for why {rubric.factor(main_id).short} mattered more than "
            f"{rubric.factor(others[0].id).short}."
        )
    return "Weigh each reason against your main one, using a clear criterion, in every paragraph."


_MAKE_JUDGEMENT_CLEAR = (
    "Make your judgement clear: in your introduction name the reason you think mattered "
    "MOST, and in your conclusion explain why it mattered more than the others."
)


def _level_gap(result: Marking, hide_mark: bool) -> str:
    if not result.level_gap:
        return ""
    reasons = "; ".join(g.rstrip(".") for g in result.level_gap)
    if hide_mark:
        return f"To reach the next level: {reasons}."
    return f"What kept this out of Level {result.level + 1}: {reasons}."


def _levels_only(result: Marking, rubric: Rubric, hide_mark: bool) -> Feedback:
    """Feedback for a rubric with no factors: what the levels say, and the student's slips."""
    reached = next(lv for lv in rubric.levels if lv.level == result.level)
    higher = next((lv for lv in rubric.levels if lv.level == result.level + 1), None)
    www = (
        []
        if hide_mark or result.level == 0
        else [f"Your answer does what Level {reached.level} asks for: {reached.descriptor}"]
    )
    ebi = [f"Check this fact: {quote(m)} {m.correction}" for m in result.misconceptions[:2]]
    if result.spag.misspellings:
        ebi.append(f"Correct these spellings: {spelling_list(result)}.")
    step = (
        f"Reread the next level's description and add what it asks for: {higher.descriptor}"
        if higher
        else "Keep every paragraph tied to the question and back each point with specific evidence."
    )
    return Feedback(tuple(www), tuple(ebi), step, _level_gap(result, hide_mark))


def build_feedback(
    result: Marking, rubric: Rubric, hide_mark: bool = False, coverage: Coverage | None = None
) -> Feedback:
    """WWW, EBI and a next step for a marked essay, in the rubric's and the student's words.

    Each bullet is checked against what the essay does (`coverage`, when given) before it
    is written, so that it never asks for something already there.
    """
    if not rubric.factors:
        return _levels_only(result, rubric, hide_mark)
    reading = Reading.of(result, coverage)
    turns = rubric.language.contrast + rubric.language.concession + rubric.language.ranked_lower
    turned = frozenset(
        e.start for f in result.factors for e in f.support if _has_phrase(e.text, turns)
    )
    reading = replace(reading, turned=turned)
    # Asked by three kinds of bullet: worked out once.
    reading = replace(reading, surely=_surely_explained(result.factors, rubric, reading))
    step = _next_step(result, rubric, reading)
    return Feedback(
        www=tuple(_www(result, rubric, reading)),
        ebi=tuple(_ebi(result, rubric, reading, step)),
        next_step=step,
        level_gap=_level_gap(result, hide_mark),
    )

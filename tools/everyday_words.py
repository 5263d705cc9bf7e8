"""Write essay_marker/data/everyday.txt: English words whose usual sense is an everyday thing.

The gibberish check asks whether an essay's reasons rest on things like boots, parrots or
soup that no marked answer mentions. This lists those words once, from WordNet 3.0, so that
essaymark needs no WordNet data at run time. It is run by hand, on a machine that has NLTK's
WordNet data (`python -m nltk.downloader wordnet`):

    python tools/everyday_words.py > essay_marker/data/everyday.txt

A word counts when its usual sense (the one tagged most often in WordNet's sense counts, or
the first listed when none is tagged) is a made object, food, body part, animal or plant, or
a bodily act or eating and drinking. Words used mostly as adjectives (pale, entire) and
irregular forms of other words (rose, from rise) are left out.
"""

from __future__ import annotations

import sys

from nltk.corpus import wordnet as wn

NOUN_CLASSES = {"noun.artifact", "noun.food", "noun.body", "noun.animal", "noun.plant"}
VERB_CLASSES = {"verb.body", "verb.consumption"}
HEADER = """\
# Everyday things: one word a line, "n" for a noun and "v" for a verb.
# Written by tools/everyday_words.py from WordNet 3.0; do not edit by hand.
#
# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
#
# Permission to use, copy, modify and distribute this software and database and its
# documentation for any purpose and without fee or royalty is hereby granted, provided that
# you agree to comply with the following copyright notice and statements, including the
# disclaimer, and that the same appear on ALL copies of the software, database and
# documentation, including modifications that you make for internal use or for
# distribution.
#
# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO
# REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION,
# PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS
# FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR
# DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER
# RIGHTS.
#
# The name of Princeton University or Princeton may not be used in advertising or
# publicity pertaining to distribution of the software and/or database. Title to copyright
# in this software, database and any associated documentation shall at all times remain
# with Princeton University and LICENSEE agrees to preserve same.
"""


def _tagged(synset, lemma: str) -> int:
    """How often this sense of the word was tagged in WordNet's sense-counted texts."""
    return sum(x.count() for x in synset.lemmas() if x.name().lower() == lemma)


def _usual(synsets, lemma: str):
    """(times tagged, synset) of the word's usual sense among these, or None."""
    scored = [(_tagged(s, lemma), -i, s) for i, s in enumerate(synsets)]
    best = max(scored, key=lambda c: c[:2], default=None)
    return (best[0], best[2]) if best else None


def everyday_words() -> tuple[list[str], list[str]]:
    """The nouns and the verbs whose usual sense is an everyday thing or act."""
    irregular = {
        line.split()[0]
        for name in ("noun.exc", "verb.exc", "adj.exc")
        for line in wn.open(name).read().splitlines()
        if line.strip()
    }
    nouns, verbs = [], []
    for lemma in sorted(set(wn.all_lemma_names("n")) | set(wn.all_lemma_names("v"))):
        if not lemma.isalpha() or len(lemma) < 3 or lemma in irregular:
            continue
        by_pos = {p: [s for s in wn.synsets(lemma) if s.pos() == p] for p in "nvas"}
        noun, verb = _usual(by_pos["n"], lemma), _usual(by_pos["v"], lemma)
        tagged = [c for c in (noun, verb) if c]
        usual = max(tagged, key=lambda c: c[0])
        if usual[0] == 0:
            usual = noun or verb
        adjective = sum(_tagged(s, lemma) for s in by_pos["a"] + by_pos["s"])
        if adjective > usual[0] or (usual[0] == 0 and (by_pos["a"] or by_pos["s"])):
            continue  # mostly an adjective
        kind = usual[1].lexname()
        if usual[0] == 0 and noun and verb and verb[1].lexname() in VERB_CLASSES:
            kind = verb[1].lexname()  # untagged: either first sense may be the usual one
        if kind in NOUN_CLASSES:
            nouns.append(lemma)
        elif kind in VERB_CLASSES:
            verbs.append(lemma)
    return nouns, verbs


def main() -> None:
    nouns, verbs = everyday_words()
    sys.stdout.write(HEADER)
    sys.stdout.writelines(f"n {w}\n" for w in nouns)
    sys.stdout.writelines(f"v {w}\n" for w in verbs)


if __name__ == "__main__":
    main()

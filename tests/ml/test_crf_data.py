"""The synthetic NER corpus and the entity-level scores, against seqeval-style rules."""

from __future__ import annotations

from app.ml.ner_data import (
    TAGS,
    entity_f1,
    invalid_transitions,
    make_corpus,
    spans,
    tokenize,
)


def test_corpus_is_deterministic_sized_and_valid_bio() -> None:
    train, dev = make_corpus()
    assert (len(train), len(dev)) == (1500, 300)
    assert make_corpus()[1] == dev
    for tokens, tags in train + dev:
        assert len(tokens) == len(tags) and set(tags) <= set(TAGS)
        assert invalid_transitions(tags) == 0
    kinds = {kind for _, tags in train for (_, _, kind) in spans(tags)}
    assert kinds == {"PER", "LOC", "ORG", "DATE"}
    multi = sum(end - start > 1 for _, tags in train for (start, end, _) in spans(tags))
    assert multi > 1000  # plenty of multi-token entities


def test_some_dev_entities_never_occur_in_train() -> None:
    train, dev = make_corpus()

    def names(corpus):
        return {" ".join(tokens[s:e]) for tokens, tags in corpus for (s, e, k) in spans(tags)
                if k != "DATE"}

    unseen = names(dev) - names(train)
    assert len(unseen) > 0.25 * len(names(dev))


def test_spans_read_bio_like_conlleval() -> None:
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-ORG", "I-PER", "B-DATE"]
    assert spans(tags) == {(0, 2, "PER"), (3, 5, "LOC"), (5, 6, "ORG"), (6, 7, "PER"),
                           (7, 8, "DATE")}
    assert invalid_transitions(tags) == 2  # O -> I-LOC and B-ORG -> I-PER
    assert invalid_transitions(["I-ORG"]) == 1  # cannot start inside an entity


def test_entity_f1_needs_exact_spans() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    assert entity_f1(gold, gold) == 1.0
    # Half of the person found: a wrong span, not half a point. P = 1/2, R = 1/2.
    assert entity_f1(gold, [["B-PER", "O", "O", "B-LOC"]]) == 0.5
    # Right span, wrong type: also wrong.
    assert entity_f1(gold, [["B-ORG", "I-ORG", "O", "B-LOC"]]) == 0.5
    assert entity_f1(gold, [["O", "O", "O", "O"]]) == 0.0


def test_tokenize_splits_punctuation() -> None:
    assert tokenize("Dr. Chen's lab, in Sao-Paulo!") == [
        "Dr", ".", "Chen's", "lab", ",", "in", "Sao-Paulo", "!"]


def test_held_out_people_and_places_are_unknown_words_but_organisations_are_not() -> None:
    # The lesson: "nearly every word of a held-out person or place is UNK" on dev, while a
    # held-out organisation is "usually made of words seen in other names".
    from app.ml.bilstm_tagger import UNK, Vocabulary
    from app.ml.ner_data import gazetteers

    train, _ = make_corpus()
    vocab = Vocabulary([tokens for tokens, _ in train])
    seen, everything = gazetteers()

    def unknown_share(names: list[str]) -> float:
        words = [w for name in names for w in name.split()]
        return sum(vocab.encode([w])[0][0] == UNK for w in words) / len(words)

    people = sorted(set(everything.first + everything.last) - set(seen.first + seen.last))
    places = sorted(set(everything.places) - set(seen.places))
    orgs = sorted(set(everything.orgs) - set(seen.orgs))
    assert unknown_share(people + places) > 0.9  # measured 32/33: all but "New" of New York
    assert unknown_share(orgs) < 0.5  # measured 10/38


def test_es_occurs_only_inside_dar_es_salaam() -> None:
    # The lesson's broken-pair example relies on it: "es" always continues a place.
    train, dev = make_corpus()
    contexts = {(tuple(tokens[i - 1:i + 2]), tuple(tags[i - 1:i + 2]))
                for tokens, tags in train + dev for i, w in enumerate(tokens) if w == "es"}
    assert contexts == {(("Dar", "es", "Salaam"), ("B-LOC", "I-LOC", "I-LOC"))}

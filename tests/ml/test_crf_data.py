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

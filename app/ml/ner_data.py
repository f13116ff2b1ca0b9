"""A small English named-entity corpus, made from templates and gazetteers, and its scores.

Nothing is downloaded: :func:`make_corpus` fills sentence templates with names drawn
from the lists below, deterministically from a seed. Four entity types (PER people,
LOC places, ORG organisations, DATE dates), many of them several tokens long, tagged
in BIO: ``B-X`` begins an entity of type X, ``I-X`` continues it, ``O`` is outside.

About a quarter of every gazetteer is held out: those names occur only in the dev
split, so dev F1 measures whether a tagger learned context and word shape, not a list.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from app.ml.tokens import tokenize as words_and_symbols

TYPES = ("PER", "LOC", "ORG", "DATE")
TAGS = ["O"] + [f"{p}-{t}" for t in TYPES for p in "BI"]  # 9 tags, O first

FIRST = ("Ada Alan Grace Maria Chen Amara Tomas Ingrid Kofi Leila Yusuf Hana Pablo Sofia "
         "Ivan Mei Omar Fatima Lars Aiko Diego Nadia Kwame Elena Rahul Zainab Felix Olga "
         "Jonas Priya Mateo Amelia Hugo Noor Arjun Clara Tariq Yara Emil Rosa").split()
LAST = ("Lovelace Turing Hopper Garcia Wei Okafor Novak Berg Mensah Haddad Demir Sato "
        "Ruiz Rossi Petrov Lin Farouk Nilsson Tanaka Moreno Ivanova Boateng Costa Sharma "
        "Bello Weber Kowalski Silva Lindqvist Patel Herrera Dubois Nakamura Osei Fischer "
        "Romero Kaplan Adeyemi Jensen Castillo").split()
PLACES = [
    "Paris", "Lagos", "Lisbon", "Nairobi", "Oslo", "Lima", "Hanoi", "Kyoto", "Dublin",
    "Cairo", "Quito", "Vienna", "Accra", "Madrid", "Seoul", "Tunis", "Prague", "Boston",
    "New York", "Buenos Aires", "Cape Town", "San Francisco", "Hong Kong", "Rio de Janeiro",
    "Kuala Lumpur", "Mexico City", "Tel Aviv", "New Delhi", "Abu Dhabi", "Sao Paulo",
    "Dar es Salaam", "Port Louis", "Santa Cruz", "Lake Geneva", "Mount Kenya", "Addis Ababa",
]
ORG_HEADS = ("Acme Globex Initech Northwind Umbrella Stark Wayne Helix Orion Zenith Apex "
             "Vertex Nimbus Quanta Lumen Aurora Cobalt Summit Harbor Pioneer").split()
ORG_TAILS = ["Corporation", "Labs", "Bank", "Airlines", "Foundation", "Motors", "Institute",
             "Group", "Energy", "Press", "Systems", "University"]
ORG_FIXED = ["United Nations", "Red Cross", "World Health Organization", "Bank of Lisbon",
             "University of Lagos", "Museum of Modern Art", "Royal Society", "Interpol",
             "European Space Agency", "National Library of Wales"]
MONTHS = ("January February March April May June July August September October "
          "November December").split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

# {PER} {LOC} {ORG} {DATE} are filled with entities; everything else is tagged O.
TEMPLATES = [
    "{PER} flew to {LOC} on {DATE} .", "{PER} joined {ORG} in {DATE} .",
    "On {DATE} , {PER} gave a talk at {ORG} in {LOC} .", "{ORG} opened an office in {LOC} .",
    "{ORG} hired {PER} as chief engineer .", "The meeting in {LOC} is set for {DATE} .",
    "{PER} and {PER} met in {LOC} .", "Reporters asked {PER} about {ORG} .",
    "{PER} left {ORG} on {DATE} to start a company in {LOC} .",
    "Shares of {ORG} fell sharply on {DATE} .", "Rain is expected in {LOC} until {DATE} .",
    "{PER} was born in {LOC} in {DATE} .", "According to {PER} , {ORG} will move to {LOC} .",
    "the team from {ORG} arrived in {LOC} yesterday .", "{PER} signed the deal with {ORG} .",
    "A spokesperson for {ORG} said on {DATE} that {PER} had resigned .",
    "Flights between {LOC} and {LOC} resume on {DATE} .", "{PER} visited {LOC} last week .",
    "We saw {PER} near the station in {LOC} .", "Her sister works for {ORG} in {LOC} .",
    "{ORG} and {ORG} announced a merger on {DATE} .", "The prize went to {PER} of {ORG} .",
    "In {DATE} the festival moved from {LOC} to {LOC} .", "Nobody at {ORG} knew {PER} .",
    "Tickets to {LOC} are cheaper after {DATE} .", "{PER} thanked {PER} for the help .",
    "He moved to {LOC} to study at {ORG} .", "The report by {ORG} was published on {DATE} .",
    "Ask {PER} whether the shop in {LOC} is open on {DATE} .",
    "Since {DATE} , {PER} has led {ORG} .", "They drove from {LOC} to {LOC} in one day .",
    "My friend {PER} lives in {LOC} .", "Police in {LOC} said {PER} was safe .",
    "The new bridge in {LOC} opened on {DATE} .", "{PER} will speak to {ORG} on {DATE} .",
    "A letter from {PER} reached {ORG} on {DATE} .", "Most of {ORG} works from {LOC} now .",
    "Call me on {DATE} when you land in {LOC} .", "{PER} , who founded {ORG} , lives in {LOC} .",
    "The concert was great .", "It rained all day and the trains were late .",
]


def _split(items: list[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """Shuffle and hold out a quarter: (train-and-dev names, dev-only names)."""
    items = sorted(set(items))
    rng.shuffle(items)
    cut = len(items) // 4
    return items[cut:], items[:cut]


@dataclass
class Gazetteer:
    """Names of each kind one split may use."""

    first: list[str]
    last: list[str]
    places: list[str]
    orgs: list[str]

    def entity(self, kind: str, rng: random.Random) -> list[str]:
        if kind == "PER":
            form = rng.random()
            if form < 0.55:
                return [rng.choice(self.first), rng.choice(self.last)]
            if form < 0.8:
                return [rng.choice(self.last)]
            return [rng.choice(self.first), rng.choice(self.first)[0], rng.choice(self.last)]
        if kind == "LOC":
            return rng.choice(self.places).split()
        if kind == "ORG":
            return rng.choice(self.orgs).split()
        return _date(rng)


def _date(rng: random.Random) -> list[str]:
    month, day, year = rng.choice(MONTHS), str(rng.randint(1, 28)), str(rng.randint(1950, 2030))
    forms = [[day, month, year], [month, day], [month, year], [rng.choice(DAYS)], [year],
             [day, month], [rng.choice(DAYS), day, month]]
    return rng.choice(forms)


def gazetteers(seed: int = 0) -> tuple[Gazetteer, Gazetteer]:
    """(train gazetteer, dev gazetteer); the dev one also has names train never sees."""
    rng = random.Random(seed)
    orgs = [f"{h} {t}" for h in ORG_HEADS for t in ORG_TAILS[:3]] + ORG_FIXED
    parts = [_split(list(x), rng) for x in (FIRST, LAST, PLACES, orgs)]
    train = Gazetteer(*[seen for seen, _ in parts])
    dev = Gazetteer(*[seen + held + held for seen, held in parts])  # held-out names weigh double
    return train, dev


def make_sentence(template: str, names: Gazetteer,
                  rng: random.Random) -> tuple[list[str], list[str]]:
    """Fill one template: its tokens and their BIO tags."""
    tokens: list[str] = []
    tags: list[str] = []
    for piece in template.split():
        kind = piece[1:-1] if piece.startswith("{") else None
        if kind is None:
            tokens.append(piece)
            tags.append("O")
            continue
        words = names.entity(kind, rng)
        tokens += words
        tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)
    if tokens[0][0].islower():  # sentences start with a capital, as in real text
        tokens[0] = tokens[0].capitalize()
    return tokens, tags


Corpus = list[tuple[list[str], list[str]]]


def make_corpus(n_train: int = 1500, n_dev: int = 300, seed: int = 0) -> tuple[Corpus, Corpus]:
    """(train, dev) lists of (tokens, tags), the same for the same arguments."""
    train_names, dev_names = gazetteers(seed)
    rng = random.Random(seed + 1)
    train = [make_sentence(rng.choice(TEMPLATES), train_names, rng) for _ in range(n_train)]
    dev = [make_sentence(rng.choice(TEMPLATES), dev_names, rng) for _ in range(n_dev)]
    return train, dev


def tokenize(text: str) -> list[str]:
    """Split a sentence into words and punctuation marks (the shared app/ml/tokens.py)."""
    return words_and_symbols(text)


# ---- scoring ---------------------------------------------------------------------------


def spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Entities as (start, end exclusive, type), read the way conlleval reads BIO.

    An ``I-X`` that does not continue an entity of type X starts a new one, as in
    conlleval and seqeval's default mode.
    """
    found = set()
    start, kind = None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind
        if start is not None and not continues:
            found.add((start, i, kind))
            start, kind = None, None
        if prefix == "B" or (prefix == "I" and not continues):
            start, kind = i, label
    return found


def entity_f1(gold: list[list[str]], predicted: list[list[str]]) -> float:
    """Micro F1 over entities: a prediction counts only if start, end and type all match."""
    true_pos = n_pred = n_gold = 0
    for g, p in zip(gold, predicted, strict=True):
        gs, ps = spans(g), spans(p)
        true_pos += len(gs & ps)
        n_pred += len(ps)
        n_gold += len(gs)
    if true_pos == 0:
        return 0.0
    precision, recall = true_pos / n_pred, true_pos / n_gold
    return 2 * precision * recall / (precision + recall)


def invalid_transitions(tags: list[str]) -> int:
    """How many ``I-X`` tags follow something other than ``B-X`` or ``I-X`` (or start)."""
    bad = 0
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            bad += 1
        previous = tag
    return bad


def allowed_transition(before: str, after: str) -> bool:
    """Whether BIO allows ``after`` right after ``before``."""
    return not after.startswith("I-") or before[2:] == after[2:]

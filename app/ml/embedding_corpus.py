"""The embeddings lesson's corpus: sentences generated from templates over word classes.

Nothing is downloaded: :func:`corpus` writes the same few thousand sentences every time
(a fixed seed), from templates that put related words in the same sentences

    paris is the capital of france .          the dog barks at night .
    in berlin people speak german .           the king and his son rode home .

mixed with filler sentences about weather, food and colours. Because every class
(countries, capitals, languages, animals, their sounds and young, male and female
relatives) has words that fill the same slots, a word's neighbours and the analogies
of :data:`ANALOGY_RELATIONS` have right answers a student can check.

Sentences are lists of lower-case tokens (the final "." is a token). :func:`split`
cuts them into training and held-out parts for the n-gram language model;
:func:`tiny_language` is a second, much smaller corpus: the little grammar of the
beam-search lesson (:mod:`app.ml.tiny_lm`), whose exact probabilities are known.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

from app.ml import tiny_lm

Sentence = list[str]

# (country, capital, language)
COUNTRIES = [
    ("france", "paris", "french"), ("germany", "berlin", "german"),
    ("italy", "rome", "italian"), ("spain", "madrid", "spanish"),
    ("japan", "tokyo", "japanese"), ("china", "beijing", "chinese"),
    ("russia", "moscow", "russian"), ("greece", "athens", "greek"),
    ("portugal", "lisbon", "portuguese"), ("poland", "warsaw", "polish"),
    ("sweden", "stockholm", "swedish"), ("turkey", "ankara", "turkish"),
]
# (animal, the sound it makes, its young)
ANIMALS = [
    ("dog", "barks", "puppy"), ("cat", "meows", "kitten"), ("cow", "moos", "calf"),
    ("duck", "quacks", "duckling"), ("lion", "roars", "cub"), ("sheep", "bleats", "lamb"),
    ("horse", "neighs", "foal"), ("pig", "oinks", "piglet"), ("owl", "hoots", "owlet"),
    ("wolf", "howls", "pup"), ("goose", "honks", "gosling"), ("frog", "croaks", "tadpole"),
]
# (male, female, where the pair is often found: what tells one pair from another)
PEOPLE = [
    ("king", "queen", "palace"), ("man", "woman", "office"), ("boy", "girl", "school"),
    ("father", "mother", "kitchen"), ("son", "daughter", "garden"),
    ("brother", "sister", "park"), ("uncle", "aunt", "village"),
    ("husband", "wife", "wedding"), ("prince", "princess", "castle"),
    ("nephew", "niece", "zoo"), ("grandfather", "grandmother", "porch"),
]

COLOURS = ["red", "green", "blue", "yellow", "white", "black"]
FOODS = ["bread", "soup", "rice", "cheese", "apples", "fish"]
WEATHER = ["rainy", "sunny", "cold", "warm", "windy"]
DAYS = ["monday", "tuesday", "friday", "sunday"]
PLACES = ["farm", "field", "river", "forest", "barn"]
TIMES = ["at night", "in the morning", "at dawn", "all day"]

WORD_CLASSES: dict[str, list[str]] = {
    "country": [c for c, _, _ in COUNTRIES],
    "capital": [c for _, c, _ in COUNTRIES],
    "language": [lang for _, _, lang in COUNTRIES],
    "animal": [a for a, _, _ in ANIMALS],
    "sound": [s for _, s, _ in ANIMALS],
    "young": [y for _, _, y in ANIMALS],
    "male": [m for m, _, _ in PEOPLE],
    "female": [f for _, f, _ in PEOPLE],
    "colour": COLOURS,
    "food": FOODS,
}
"""Each word class and its members: the colours of the 2-D projection."""

ANALOGY_RELATIONS: dict[str, list[tuple[str, str]]] = {
    "country_capital": [(c, cap) for c, cap, _ in COUNTRIES],
    "country_language": [(c, lang) for c, _, lang in COUNTRIES],
    "animal_sound": [(a, s) for a, s, _ in ANIMALS],
    "animal_young": [(a, y) for a, _, y in ANIMALS],
    "male_female": [(m, f) for m, f, _ in PEOPLE],
}
"""Word pairs that stand in one relation (named "from_to"): any two pairs of a relation
make an analogy."""


def analogy_questions(relation: str | None = None) -> list[tuple[str, str, str, str]]:
    """The built-in analogy set: ``(a, b, c, d)`` read "a is to b as c is to d", for every
    ordered choice of two different pairs of one relation (12 pairs: 132 questions);
    638 questions in all, or those of one ``relation`` of :data:`ANALOGY_RELATIONS`."""
    return [(a, b, c, d)
            for name, pairs in ANALOGY_RELATIONS.items() if relation in (None, name)
            for a, b in pairs for c, d in pairs if a != c]


def _country(r: random.Random) -> str:
    country, capital, language = r.choice(COUNTRIES)
    weather, day = r.choice(WEATHER), r.choice(DAYS)
    return r.choice([
        f"{capital} is the capital of {country} .",
        f"the capital of {country} is {capital} .",
        f"in {country} people speak {language} .",
        f"people in {capital} speak {language} .",
        f"she flew to {capital} , the capital of {country} .",
        f"he learned {language} before moving to {country} .",
        f"it was {weather} in {capital} on {day} .",
        f"the {language} language is spoken in {country} .",
        f"we visited {capital} and spoke {language} all week .",
    ])


def _animal(r: random.Random) -> str:
    animal, sound, young = r.choice(ANIMALS)
    place, time = r.choice(PLACES), r.choice(TIMES)
    return r.choice([
        f"the {animal} {sound} {time} .",
        f"a {animal} {sound} near the {place} .",
        f"the {young} is the young of the {animal} .",
        f"the {animal} and its {young} slept in the {place} .",
        f"the {animal} fed its {young} by the {place} .",
        f"every {animal} {sound} when it is hungry .",
        f"when a {young} grows up it {sound} like a {animal} .",
        f"we heard the {animal} as it {sound} {time} .",
        f"a young {animal} is a {young} .",
        f"the little {young} followed the {animal} to the {place} .",
    ])


def _person(r: random.Random) -> str:
    male, female, haunt = r.choice(PEOPLE)
    food, place = r.choice(FOODS), r.choice(PLACES)
    return r.choice([
        f"the {male} waited for his friend at the {haunt} .",
        f"the {female} waited for her friend at the {haunt} .",
        f"the {male} and his horse rode to the {place} .",
        f"the {female} and her horse rode to the {place} .",
        f"he is a {male} and he likes {food} .",
        f"she is a {female} and she likes {food} .",
        f"the {male} said that he was tired .",
        f"the {female} said that she was tired .",
        f"the {male} cooked {food} for himself at the {haunt} .",
        f"the {female} cooked {food} for herself at the {haunt} .",
        f"the old {male} told his stories .",
        f"the old {female} told her stories .",
        f"the {male} and the {female} walked to the {haunt} .",
        f"a {female} and a {male} shared the {food} .",
    ])


def _filler(r: random.Random) -> str:
    colour, food, weather = r.choice(COLOURS), r.choice(FOODS), r.choice(WEATHER)
    day = r.choice(DAYS)
    return r.choice([
        f"the weather was {weather} on {day} .",
        f"we ate {food} and drank tea .",
        f"the door was painted {colour} .",
        f"on {day} it was {weather} and we stayed home .",
        f"she bought {food} at the market .",
        f"his coat is {colour} and her hat is {colour} .",
        f"they had {food} for dinner on {day} .",
    ])


def _turkey_the_bird(r: random.Random) -> str:
    # One word, two meanings: "turkey" is a country above and a bird (and a dish) here.
    food, place, time = r.choice(FOODS), r.choice(PLACES), r.choice(TIMES)
    return r.choice([
        f"the turkey gobbles near the {place} {time} .",
        f"a turkey and a goose walked to the {place} .",
        f"we ate turkey with {food} .",
    ])


SENTENCES = 6000  # ~45,000 tokens: a training pass of word2vec takes a fraction of a second
CORPUS_SEED = 2024


@lru_cache(maxsize=1)
def _corpus() -> tuple[tuple[str, ...], ...]:
    r = random.Random(CORPUS_SEED)
    makers = [_country, _animal, _person, _filler, _turkey_the_bird]
    weights = [3, 3, 3, 2, 0.3]
    return tuple(tuple(r.choices(makers, weights)[0](r).split()) for _ in range(SENTENCES))


def corpus() -> list[Sentence]:
    """The generated corpus: :data:`SENTENCES` sentences of lower-case tokens, the same
    every call (a fresh list of fresh lists: change them freely)."""
    return [list(sentence) for sentence in _corpus()]


def split(sentences: list[Sentence],
          held_out: float = 0.1) -> tuple[list[Sentence], list[Sentence]]:
    """The first ``1 - held_out`` of ``sentences`` to train on and the rest held out
    (the corpus is generated in random order, so the cut is a random split)."""
    cut = round(len(sentences) * (1 - held_out))
    return sentences[:cut], sentences[cut:]


def tiny_language(sentences: int = 2000, seed: int = 7) -> list[Sentence]:
    """``sentences`` sentences drawn from the beam-search lesson's little grammar
    (:func:`app.ml.tiny_lm.sentences`), each with its exact probability."""
    language = tiny_lm.sentences()
    r = random.Random(seed)
    drawn = r.choices(list(language), weights=list(language.values()), k=sentences)
    return [list(sentence) for sentence in drawn]


def tiny_language_perplexity() -> float:
    """The perplexity of the little grammar itself, per prediction as app/ml/ngram.py
    counts them (each word, the final "." included, and one end symbol): the lowest
    held-out perplexity any model can reach on :func:`tiny_language`, on average."""
    language = tiny_lm.sentences()
    entropy = -sum(p * math.log(p) for p in language.values())
    predictions = sum(p * (len(sentence) + 1) for sentence, p in language.items())
    return math.exp(entropy / predictions)

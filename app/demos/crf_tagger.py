"""Demo `crf-tagger`: a BiLSTM-CRF and a BiLSTM-softmax tagger trained side by side.

Both see the same batches of the synthetic NER corpus (app/ml/ner_data.py); training,
its record and the tagging of a sentence are app/ml/tagger_training.py, and this module
draws them. The run streams both losses, both dev entity F1 curves, how many invalid BIO
transitions each decodes, and the CRF's transition matrix. At the end it tags the
student's sentence with both models and draws the CRF's Viterbi lattice with the best
path on top.

Training takes seconds, so trained models are kept in a small LRU (:data:`TRAINED`) keyed
by every parameter except the sentence: a new sentence re-uses them and answers at once.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from app.demos.base import (
    Demo,
    DemoParams,
    RunContext,
    RunGenerator,
    control,
    extend,
    figure,
    make_frame,
    seeded,
)
from app.demos.charts import (
    bar_chart,
    bars,
    category_axis,
    full_width,
    heatmap,
    heatmap_chart,
    layout,
    line,
    line_chart,
    markers,
    short_labels,
)
from app.ml.ner_data import TAGS, invalid_transitions, tokenize
from app.ml.tagger_training import HEADS, EpochDone, Tagging, Trained
from app.trained_cache import TrainedCache

BATCH_SIZE = 64
# A pasted paragraph of several sentences: tagging 80 words and building their lattice takes
# ~12 ms (200 words: ~15-35 ms), so the bound is the lattice's, not the computation's: at
# 1280 px its word labels stand apart up to ~65 words and touch at 80 (the old bound, 60
# words in 200 characters, held one long sentence).
MAX_TOKENS = 80
MAX_CHARACTERS = 500
DEFAULT_SENTENCE = "Yesterday Noor Okonkwo flew from Buenos Aires to Lisbon to meet Helix Labs ."


class Params(DemoParams):
    embedding: int = Field(32, ge=8, le=48, description="Word embedding size")
    hidden: int = Field(32, ge=8, le=48, description="LSTM hidden units per direction")
    learning_rate: float = Field(0.02, ge=1e-4, le=0.1, description="Adam learning rate",
                                 json_schema_extra=control(log_scale=True))
    epochs: int = Field(4, ge=1, le=5, description="Passes over the 1500 training sentences")
    crf_lr_scale: int = Field(5, ge=1, le=10, description="CRF step multiplier: the 99 "
                              "CRF scores learn this many times faster than the network",
                              json_schema_extra=control(label="CRF step multiplier"))
    dropout: float = Field(0.2, ge=0.0, le=0.6, description="Dropout on embeddings and "
                           "LSTM outputs (half as much word dropout to UNK)",
                           json_schema_extra=control(step=0.05))
    sentence: str = Field(DEFAULT_SENTENCE, max_length=MAX_CHARACTERS,
                          description="A sentence, or a paragraph of several, to tag after "
                          f"training: at most {MAX_TOKENS} words (changing it re-uses the "
                          "trained models)")

    @field_validator("sentence")
    @classmethod
    def _tokens(cls, value: str) -> str:
        n = len(tokenize(value))
        if n == 0:
            raise ValueError("sentence: has no visible word (only spaces or invisible "
                             "characters); type at least one word")
        if n > MAX_TOKENS:
            raise ValueError(f"sentence: needs 1 to {MAX_TOKENS} words, got {n}")
        return value

    def training_key(self) -> tuple:
        return tuple(sorted(self.model_dump(exclude={"sentence"}).items()))


TRAINED: TrainedCache[Trained] = TrainedCache(size=4)  # by Params.training_key()
COLOURS = {"crf": "#1f77b4", "softmax": "#ff7f0e"}
NAMES = {"crf": "BiLSTM-CRF", "softmax": "BiLSTM-softmax"}


def loss_line(head: str, x: list | None = None, y: list | None = None) -> dict:
    return line(NAMES[head], x, y, line={"color": COLOURS[head]})


def f1_line(head: str, x: list | None = None, y: list | None = None) -> dict:
    return line(NAMES[head], x, y, markers=True, line={"color": COLOURS[head]})


def invalid_bars(head: str, x: list | None = None, y: list | None = None) -> dict:
    return bars(NAMES[head], x, y, marker={"color": COLOURS[head]})


def transition_figure(trained: Trained) -> dict:
    """The CRF transition matrix: rows the tag before, columns the tag after."""
    matrix = trained.models["crf"].crf.transitions.detach()
    # Reversed RdBu: forbidden moves (strongly negative) red, likely ones blue.
    return figure([heatmap(matrix.tolist(), TAGS, TAGS, colorscale="RdBu",
                           reverse=True, zmid=0, colorbar_title="score",
                           hover="%{y} → %{x}: %{z}<extra></extra>")],
                  layout(x=category_axis(TAGS, side="top", automargin=True),
                         y=category_axis(TAGS, autorange="reversed", automargin=True),
                         margin={"t": 60}))


def curve_figures(trained: Trained) -> dict:
    """Whole loss, F1 and invalid-transition charts from a finished training."""
    epochs = list(range(1, len(trained.f1["crf"]) + 1))
    return {
        "loss": figure([loss_line(h, *trained.loss[h]) for h in HEADS]),
        "f1": figure([f1_line(h, epochs, trained.f1[h]) for h in HEADS]),
        "invalid": figure([invalid_bars(h, epochs, trained.invalid[h]) for h in HEADS]),
    }


def train(params: Params, ctx: RunContext, trained: Trained) -> RunGenerator:
    """Train both taggers on the same batches (app/ml/tagger_training.py), drawing them;
    returns the number of the last step."""
    step = 0
    for event in trained.train(epochs=params.epochs, lr=params.learning_rate,
                               crf_scale=params.crf_lr_scale, dropout=params.dropout,
                               batch_size=BATCH_SIZE, seed=params.seed):
        if isinstance(event, EpochDone):
            epoch = event.epoch + 1
            yield make_frame(step, epoch / params.epochs, {
                "f1": extend([0, 1], [[epoch]] * 2, [[event.f1[h]] for h in HEADS]),
                "invalid": extend([0, 1], [[epoch]] * 2, [[event.invalid[h]] for h in HEADS]),
                "transitions": transition_figure(trained),
            }, {"epoch": epoch, **{f"{h}_dev_f1": event.f1[h] for h in HEADS},
                **{f"{h}_invalid": event.invalid[h] for h in HEADS}})
            continue
        step += 1
        if ctx.should_stop():
            return step
        if event.batch % 3 == 2:
            x = trained.loss["crf"][0][-1]  # in epochs
            yield make_frame(step, x / params.epochs, {
                "loss": extend([0, 1], [[x]] * 2, [[event.losses[h]] for h in HEADS]),
                "transitions": transition_figure(trained),
            }, {"epoch": event.epoch + 1, **{f"{h}_loss": event.losses[h] for h in HEADS}})
    return step


def word_ticks(words: int) -> dict:
    """Tick angle and size for ``words`` columns of the full-width lattice: a 40-word
    sentence leaves about 25 px a word, where steeper, smaller labels still do not touch."""
    if words <= 20:
        return {"tickangle": -45}
    many = words > 45
    return {"tickangle": -90 if many else -60, "tickfont": {"size": 9 if many else 10}}


def lattice_figure(tagging: Tagging) -> dict:
    """Viterbi lattice of one sentence (scores relative to the best at each token)."""
    tokens = tagging.tokens
    x = list(range(len(tokens)))
    # Positions on x (a word may repeat): the ticks name them, shortened, and hovering a
    # cell names the whole word and the tag.
    return figure([
        heatmap(tagging.lattice.T.clamp(min=-30).tolist(), x,
                list(range(len(TAGS))), colorscale="Viridis", zmin=-15, zmax=0,
                colorbar_title="score − best", name="lattice",
                hover="%{customdata}: %{z}<extra></extra>",
                customdata=[[f"{token} (word {i + 1}) as {tag}"
                             for i, token in enumerate(tokens)] for tag in TAGS]),
        line("CRF best path", x, tagging.ids["crf"], markers=True,
             line={"color": "#ff2d55", "width": 4}, marker={"size": 10}),
        markers("softmax argmax", x, tagging.ids["softmax"], marker={
            "symbol": "x", "size": 11, "color": "#fff", "line": {"width": 1, "color": "#000"}}),
    ], layout(x={"tickvals": x, "ticktext": short_labels(tokens), "side": "top",
                 **word_ticks(len(tokens))},
              y={"tickvals": list(range(len(TAGS))), "ticktext": TAGS,
                 "autorange": "reversed", "automargin": True},
              legend={"orientation": "h", "y": -0.05, "yanchor": "top"}))


def casing_note(tokens: list[str]) -> str | None:
    """Why a lower-case sentence tags every word O, or None when a word after the first is
    capitalised. The synthetic corpus (app/ml/ner_data.py) always capitalises names (and
    every sentence's first word), so a capital is the sign of a name both taggers learned."""
    if any(token[:1].isupper() for token in tokens[1:]):
        return None
    return ("No word after the first is capitalised: the training sentences always "
            "capitalise names, so both taggers learned a capital as the sign of a name and "
            "tag a lower-case name O. Capitalise the names (Noor Okonkwo, Lisbon) to see "
            "them found.")


def run(params: Params, ctx: RunContext) -> RunGenerator:
    key = params.training_key()
    trained = TRAINED.get(key)
    is_cached = trained is not None
    steps = 0  # a cached model: no training step to show
    if trained is None:
        with seeded(params.seed):
            trained = Trained.untrained(params.embedding, params.hidden)
        steps = yield from train(params, ctx, trained)
        if trained.epochs_done == params.epochs:  # complete: worth keeping
            TRAINED.keep(key, trained)
    if not trained.epochs_done:  # stopped before the first evaluation
        # The runner's `stopped` says why (Stop, time budget); nothing here to report.
        return {"dev_f1": None, "softmax_dev_f1": None, "invalid_crf": None,
                "invalid_softmax": None}
    tagging = trained.tag(tokenize(params.sentence))
    crf_tags, softmax_tags = tagging.tags("crf"), tagging.tags("softmax")
    result = {
        "dev_f1": trained.f1["crf"][-1],
        "softmax_dev_f1": trained.f1["softmax"][-1],
        "invalid_crf": trained.invalid["crf"][-1],
        "invalid_softmax": trained.invalid["softmax"][-1],
        "tokens": tagging.tokens, "crf_tags": crf_tags, "softmax_tags": softmax_tags,
        "sentence_invalid_crf": invalid_transitions(crf_tags),
        "sentence_invalid_softmax": invalid_transitions(softmax_tags),
        "train_seconds": trained.seconds, "cached": is_cached,
        "note": casing_note(tagging.tokens),
    }
    charts = {**curve_figures(trained), "transitions": transition_figure(trained),
              "lattice": lattice_figure(tagging)}
    metrics = {
        "models": "re-used from the cache (same training params): no retraining"
        if is_cached else f"trained in {trained.seconds:.1f} s",
        "crf_dev_f1": result["dev_f1"], "softmax_dev_f1": result["softmax_dev_f1"],
        "crf_invalid": result["invalid_crf"], "softmax_invalid": result["invalid_softmax"],
        "crf_tags": " ".join(crf_tags), "softmax_tags": " ".join(softmax_tags),
        **({"note": result["note"]} if result["note"] else {}),
    }
    yield make_frame(steps, 1.0, charts, metrics)  # the timeline ends on the last step
    return result


LATTICE_HEIGHT = 440  # nine tag rows, and room above them for a sentence's slanted words
CHARTS = [
    line_chart("loss", "Training loss (per token)", x_title="epoch", integer_x=True,
               y_title="negative log-likelihood", lines=[loss_line(h) for h in HEADS],
               log_y=True, y={"dtick": 1},
               summary="Line chart of both models' training loss against epochs."),
    line_chart("f1", "Dev entity F1 (exact spans)", x_title="epoch", y_title="F1",
               lines=[f1_line(h) for h in HEADS], integer_x=True, y={"range": [0, 1]},
               summary="Line chart of both models' entity-level F1 on the dev split after "
               "each epoch."),
    bar_chart("invalid", "Invalid BIO transitions decoded on dev", x_title="epoch",
              y_title="count", series=[invalid_bars(h) for h in HEADS], integer_x=True,
              y={"rangemode": "tozero"},
              summary="Bar chart: per epoch, how many I- tags each model put after a tag "
              "they cannot follow."),
    heatmap_chart("transitions", "CRF transition scores (from row tag to column tag)",
                  y={"autorange": "reversed"},
                  summary="Heatmap of the learned transition matrix; impossible moves turn "
                  "dark red."),
    full_width(heatmap_chart(
        "lattice", "Viterbi lattice of your sentence", y={"autorange": "reversed"},
        summary="Heatmap of tokens by tags with the CRF's best path drawn as a line, and the "
        "softmax tagger's choices as crosses."), LATTICE_HEIGHT),
]

demo = Demo(
    slug="crf-tagger",
    title="BiLSTM-CRF against BiLSTM-softmax on named entities",
    description="Train both taggers on the same sentences and compare their dev F1 and how "
    "often they break the BIO grammar. Then type a sentence to see its Viterbi lattice.",
    Params=Params,
    charts=CHARTS,
    run=run,
    frame_seconds=0.0,
    live=False,
)

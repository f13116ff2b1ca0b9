"""The transformer lesson's demos through the public API, as a student or script sees them."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.helpers import read_stream

SENTENCE = "the cat sat on the mat"


def run(client, slug: str, body: dict) -> dict:
    response = client.post(f"/api/demos/{slug}/run", json=body)
    assert response.status_code == 200, response.text
    return response.json()["result"]


@pytest.mark.parametrize("causal", [False, True])
def test_attention_weights_shape_rows_and_mask(client, causal):
    result = run(client, "attention", {"text": SENTENCE, "heads": 3, "d_model": 24,
                                       "causal": causal, "seed": 7})
    assert result["tokens"] == ["the", "cat", "sat", "on", "the", "mat"]
    assert result["labels"][0] == "the·1" and result["labels"][4] == "the·2"
    weights = torch.tensor(result["weights"])
    assert weights.shape == (3, 6, 6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 6), atol=1e-5, rtol=0)
    above = torch.ones(6, 6, dtype=torch.bool).triu(1)
    if causal:
        assert (weights[:, above] == 0).all()
        # Masked scores are -inf, which JSON carries as "-inf" (the contract's policy).
        assert all(s == "-inf" for head in result["scores"] for i, row in enumerate(head)
                   for s in row[i + 1:])
    else:
        assert (weights[:, above] > 0).all()


def test_same_sentence_same_map_and_a_new_seed_changes_it(client):
    body = {"text": SENTENCE, "heads": 2, "d_model": 16, "seed": 3}
    first, again = run(client, "attention", body), run(client, "attention", body)
    assert first["weights"] == again["weights"]
    other = run(client, "attention", {**body, "seed": 4})
    assert other["weights"] != first["weights"]


def test_identity_projections_pair_repeated_words(client):
    result = run(client, "attention", {"text": SENTENCE, "heads": 1, "d_model": 32,
                                       "projections": "identity", "positional": False})
    row = result["weights"][0][0]  # the first "the"
    assert row[4] == pytest.approx(row[0])  # its twin scores exactly like itself
    assert row[4] > max(row[1], row[2], row[3], row[5])


def test_temperature_sharpens_the_rows(client):
    body = {"text": SENTENCE, "heads": 2, "d_model": 16}
    cold = run(client, "attention", {**body, "temperature": 0.2})
    warm = run(client, "attention", {**body, "temperature": 5.0})
    assert cold["entropy"] < warm["entropy"]


@pytest.mark.parametrize("body,field,words", [
    ({"text": "word " * 33}, "text", "at most 32"),
    ({"text": "   "}, "text", "at least one"),
    ({"text": "x" * 301}, "text", "300"),
    ({"heads": 5, "d_model": 24}, "d_model", "divisible"),
])
def test_attention_refuses_bad_input_by_name(client, body, field, words):
    response = client.post("/api/demos/attention/run", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert errors[0]["field"] == field and words in errors[0]["message"]


def test_norms_statistics_match_torch(client):
    result = run(client, "norms", {"batch": 3, "sequence": 4, "features": 5, "seed": 2})
    x = torch.tensor(result["input"], dtype=torch.float64)
    assert x.shape == (3, 4, 5)
    layer = nn.LayerNorm(5, elementwise_affine=False).double()(x)
    batch = nn.BatchNorm1d(5, affine=False).double().train()(x.transpose(1, 2)).transpose(1, 2)
    def got(key: str) -> torch.Tensor:
        return torch.tensor(result[key], dtype=torch.float64)

    torch.testing.assert_close(got("layer_output"), layer, atol=1e-9, rtol=0)
    torch.testing.assert_close(got("batch_output"), batch, atol=1e-9, rtol=0)
    torch.testing.assert_close(got("batch_mean"), x.mean((0, 1)))
    torch.testing.assert_close(got("layer_mean"), x.mean(-1))


def test_transformer_learns_reverse_with_default_settings(client):
    result = run(client, "transformer-train", {"seed": 0})
    assert result["accuracy"] >= 0.95
    assert result["reached_goal_step"] is not None
    assert result["ended_at_goal"] is True
    attention = torch.tensor(result["attention"])
    assert attention.shape == (1, 2, 8, 8)  # [layers][heads][L][L], probe positions only
    # The heads have learned the anti-diagonal: position i looks at position 7 - i,
    # with over three times the uniform weight 1/8 on average.
    anti = attention[0].flip(-1).diagonal(dim1=-2, dim2=-1)
    assert float(anti.mean()) > 3 / 8
    right = sum(a == b for a, b in zip(result["probe_prediction"], result["probe_target"],
                                       strict=True))
    assert right >= 6


# What the lesson says the demos show without positions, and greedy against beam search
# with and without a length penalty, is checked in tests/lesson_claims/test_transformer.py.


def test_beam_search_refuses_a_width_out_of_range(client):
    response = client.post("/api/demos/beam-search/run", json={"beam_width": 9})
    assert response.status_code == 422
    assert "beam_width" in response.text and "8" in response.text


def test_a_diverged_transformer_reports_nan_loss_and_a_gap_in_the_curve(in_process_client,
                                                                       monkeypatch):
    # No setting of the demo diverges reliably, so the loss is made NaN from step 11 on.
    from app.ml import tiny_transformer
    from app.ml.tiny_transformer import TrainStep, training_steps

    def diverging(model, config):
        for step in training_steps(model, config):
            yield step if step.step <= 10 else TrainStep(step.step, float("nan"), 0.0)

    monkeypatch.setattr(tiny_transformer, "training_steps", diverging)
    body = {"steps": 20, "early_stop": False, "seed": 12345}
    events = read_stream(in_process_client, "/api/demos/transformer-train/stream",
                         params=body)
    frames = [data for event, data in events if event == "frame"]
    losses = [y for f in frames if f["charts"].get("loss", {}).get("op") == "extend"
              for y in f["charts"]["loss"]["y"][0]]
    assert len(losses) == 20 and losses[10:] == ["nan"] * 10  # drawn as a gap
    assert all(isinstance(y, float) for y in losses[:10])
    assert frames[-1]["metrics"]["loss"] == "nan"  # the contract's policy, for metrics too
    assert events[-1][1]["result"]["loss"] == "nan"

"""Notebook 05 (char-RNN): its own code, loaded from the notebook (utils.lessons), on tiny
problems: the stream layout, the count baselines, truncated BPTT's detach, the training loop
with checkpoint and resume, the carried state, sampling; and the exercise self-checks' power to
reject wrong answers."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from utils.checks import Exercises
from utils.lessons import load_lesson
from utils.text import Vocab
from utils.training import load_checkpoint

MUTATIONS = [
    ("return None if state is None else tuple(s.detach() for s in state)",
     "return None if state is None else tuple(s for s in state)",
     "detach keeps the history: the gradient crosses chunk boundaries"),
    ("return token_ids[: batch_size * length].view(batch_size, length)",
     "return token_ids[: batch_size * length].view(length, batch_size).T",
     "streams interleave the text instead of cutting it into consecutive pieces"),
    ("quoted = before.isspace()", "quoted = not quoted",
     "every quote mark toggles the quotation, instead of opening after a space and closing otherwise"),
    ("return torch.stack(cells, dim=1).reshape(-1, cells[0].shape[-1]).cpu().numpy()",
     "return torch.stack(cells, dim=0).reshape(-1, cells[0].shape[-1]).cpu().numpy()",
     "the cell states of the parallel streams come back interleaved, not in the text's order"),
    ("v = (values - values.mean(axis=-1, keepdims=True)) / values.std(axis=-1, keepdims=True).clip(1e-12)",
     "v = values / values.std(axis=-1, keepdims=True).clip(1e-12)",
     "the correlation does not centre the fact, so its mean leaks into r"),
    ('if character == "\\n" or column == width:', "if column == width:",
     "the coloured text ignores line breaks: rows wrap only at the width"),
]

PERIOD = "xaxbxcxdxe"       # after an x, the next letter follows the letter before the x


@pytest.fixture(scope="module")
def nb():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)      # tiny models: a second thread only adds waiting
    yield load_lesson("05_char_rnn", profile="smoke")
    torch.set_num_threads(threads)


def tiny_text_ids(n=4000, vocab_size=12):
    return torch.randint(0, vocab_size, (n,), generator=torch.Generator().manual_seed(0))


# ----------------------------------------------------------------------------- streams and chunks
def test_streams_are_consecutive_pieces_of_the_text(nb):
    ids = torch.arange(103)
    streams = nb.make_streams(ids, 4)
    assert streams.shape == (4, 25)
    assert torch.equal(streams.flatten(), ids[:100]), "row b is the b-th consecutive piece"


def test_chunks_shift_targets_and_continue_across_chunks(nb):
    streams = nb.make_streams(torch.arange(1000), 8)
    x0, y0 = nb.chunk(streams, 0, 10)
    x1, _ = nb.chunk(streams, 1, 10)
    assert torch.equal(y0, x0 + 1), "targets are the next characters"
    assert torch.equal(y0[:, -1], x1[:, 0]), "chunk k+1 starts where chunk k's targets end"


# ----------------------------------------------------------------------------- baselines and the model
def test_count_baselines_known_answers(nb):
    uniform_text = torch.arange(8).repeat(500)
    assert math.isclose(nb.unigram_bits(uniform_text, uniform_text, 8), 3.0, abs_tol=1e-3)
    alternating = torch.tensor([0, 1] * 1000)      # each character determines the next
    assert nb.bigram_bits(alternating, alternating, 2) < 0.01
    assert nb.unigram_bits(alternating, alternating, 2) > 0.99


def test_untrained_model_is_near_uniform_and_embedding_is_one_hot_times_table(nb):
    torch.manual_seed(0)
    model = nb.CharLSTM(40, 16, 32)
    ids = tiny_text_ids(600, 40).view(3, 200)
    logits, _ = model(ids[:, :-1])
    assert abs(nb.sequence_loss(logits, ids[:, 1:]).item() - math.log(40)) < 0.1
    assert torch.allclose(model.embed(ids[0]), F.one_hot(ids[0], 40).float() @ model.embed.weight)


def test_two_layer_model_with_dropout(nb):
    # the full profile's shape: two layers, dropout between them and before the readout
    torch.manual_seed(0)
    model = nb.CharLSTM(12, 8, 16, layers=2, dropout=0.3)
    ids = tiny_text_ids()[:60].view(3, 20)
    logits, (h, c) = model(ids)
    assert logits.shape == (3, 20, 12) and h.shape == c.shape == (2, 3, 16)
    model.eval()
    assert torch.equal(model(ids)[0], model(ids)[0]), "no dropout in eval mode"


# ----------------------------------------------------------------------------- truncated BPTT
def test_detach_cuts_the_gradient_but_keeps_the_state(nb):
    torch.manual_seed(0)
    model = nb.CharLSTM(12, 8, 16)
    ids = tiny_text_ids()[:40].view(2, 20)
    embeddings = model.embed(ids[:, :10]).detach().requires_grad_(True)
    _, state = model.lstm(embeddings)
    carried = nb.detach(state)
    outputs, _ = model.lstm(model.embed(ids[:, 10:]), carried)
    outputs.sum().backward()
    assert embeddings.grad is None, "no gradient reaches the previous chunk"
    assert all(torch.equal(a, b) for a, b in zip(carried, state, strict=True)), "the values are kept"
    assert nb.detach(None) is None
    with torch.no_grad():
        fresh, _ = model.lstm(model.embed(ids[:, 10:]))
    assert (outputs.detach() - fresh).abs().max() > 1e-3, "the carried state still changes the outputs"


def train(nb, checkpoint, max_steps, on_eval=None, config="default"):
    torch.manual_seed(0)
    model = nb.CharLSTM(12, 8, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = nb.train_char_lm(
        model, optimizer, tiny_text_ids(), batch_size=4, seq_len=10, max_steps=max_steps,
        time_budget_s=1e9, lr=3e-3, eval_every=4, on_eval=on_eval, checkpoint=checkpoint,
        config={"run": "tiny"} if config == "default" else config)
    return model, history


def test_checkpoint_needs_a_config(nb, tmp_path):
    with pytest.raises(ValueError, match="config"):
        train(nb, tmp_path / "run.pt", 4, config=None)


def test_interrupted_training_resumes_to_the_same_weights(nb, tmp_path):
    straight, straight_history = train(nb, tmp_path / "straight.pt", 12)

    def interrupt(model, history):
        if history.steps[-1] == 8:      # the checkpoint of step 4 is on disk, step 8's is not yet
            raise KeyboardInterrupt
        return {}

    with pytest.raises(KeyboardInterrupt):
        train(nb, tmp_path / "interrupted.pt", 12, on_eval=interrupt)
    assert load_checkpoint(tmp_path / "interrupted.pt", nb.CharLSTM(12, 8, 16))[0]["step"] == 4
    resumed, resumed_history = train(nb, tmp_path / "interrupted.pt", 12)
    assert resumed_history.steps == straight_history.steps == list(range(1, 13))
    np.testing.assert_allclose(resumed_history.loss, straight_history.loss, rtol=1e-5, atol=1e-6)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_finished_run_is_reused_and_a_new_config_retrains(nb, tmp_path):
    path = tmp_path / "run.pt"
    first, history = train(nb, path, 8)
    calls = []
    again, again_history = train(nb, path, 8, on_eval=lambda m, h: calls.append(1) or {})
    assert not calls and again_history.steps == history.steps            # loaded, not trained
    for a, b in zip(first.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    _, fresh_history = train(nb, path, 8, on_eval=lambda m, h: calls.append(1) or {}, config={"run": "other"})
    assert calls and len(fresh_history.steps) == 8                        # other config: trained anew


def test_the_evaluations_time_is_not_training_time(nb, tmp_path):
    import time

    def slow(model, history):
        time.sleep(0.1)
        return {"held_out_bits": 1.0}

    _, history = train(nb, tmp_path / "run.pt", 12, on_eval=slow)
    seconds, values = history.series_by_time("held_out_bits")
    assert len(values) == 3 and all(e["eval_seconds"] >= 0.1 for e in history.evals)
    assert all(a < b for a, b in zip(seconds, seconds[1:], strict=False))
    assert seconds[-1] < history.seconds - 0.3, "three evaluations of 0.1 s must not count as training"


# ----------------------------------------------------------------------------- a trained model
@pytest.fixture(scope="module")
def periodic(nb):
    """A model trained by the notebook's loop on a text of period 10: it must learn the cycle."""
    vocab = Vocab(sorted(set(PERIOD)), specials=())
    ids = torch.tensor(vocab.encode(PERIOD * 400))
    torch.manual_seed(0)
    model = nb.CharLSTM(len(vocab), 8, 32)
    assert len(vocab) == 6
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = nb.train_char_lm(model, optimizer, ids, batch_size=8, seq_len=20, max_steps=120,
                               time_budget_s=1e9, lr=1e-2, eval_every=1000)
    return model, vocab, ids, history


def test_training_learns_a_predictable_text(nb, periodic):
    model, _, ids, history = periodic
    assert history.loss[0] > 1.5, "starts near ln 6"
    assert nb.held_out_nats(model, ids[:1000], n_streams=4, seq_len=50) < 0.1


def test_carried_state_helps_most_at_the_start_of_a_chunk(nb, periodic):
    # reset every chunk, the letter after a first x is a guess among 5; carried, the cycle is known
    model, _, ids, _ = periodic
    losses = {}
    for carry in (True, False):
        logits, targets = nb.held_out_logits(model, ids[:2000], n_streams=4, seq_len=25, carry_state=carry)
        per_position = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        losses[carry] = per_position.view(4, -1, 25).mean(dim=(0, 1))
    assert losses[False][0] > 0.6, "without the state, the letter after a first x is a guess"
    assert losses[True][0] < losses[False][0] / 3, "the carried state tells the model where it is in the cycle"
    assert losses[False][0] > losses[False][10:].mean() + 0.4, "the loss falls as the chunk fills the state"


def test_sample_continues_the_prompt_and_temperature_flattens(nb, periodic):
    model, vocab, _, _ = periodic
    cold, hot = nb.sample(model, vocab, "xaxbxcx", 21, (0.3, 50.0), seed=0)
    assert cold == "dxexaxbxcxdxexaxbxcxd", "a low temperature follows the learned cycle"
    assert hot != cold and len(hot) == 21
    assert nb.sample(model, vocab, "xa", 10, (1.0,), seed=3) == nb.sample(model, vocab, "xa", 10, (1.0,), seed=3)


def test_temperature_probs(nb):
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    entropies = [-(p * p.log()).sum().item() for p in (nb.temperature_probs(logits, t) for t in (0.5, 1, 2))]
    assert entropies[0] < entropies[1] < entropies[2], "hotter is flatter"
    assert nb.temperature_probs(logits, 1e-3)[0] > 0.99, "towards arg-max as tau -> 0"
    torch.testing.assert_close(nb.temperature_probs(logits, 1.0), F.softmax(logits, dim=-1))


def test_real_word_rate(nb):
    known = {"the", "cat", "sat"}
    assert nb.real_word_rate("The cat, the hat.", known) == 0.75
    assert nb.real_word_rate("123 !", known) == 0.0


# ----------------------------------------------------------------------------- 11. inside the model
def test_text_properties_known_answers(nb):
    facts = nb.text_properties('Ab c.\n"Hi" x "y\nAB:\n')
    expected = {
        "position in the line":        [1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 0],
        "position in the word":        [1, 2, 0, 1, 0, 0, 0, 1, 2, 0, 0, 1, 0, 0, 1, 0, 1, 2, 0, 0],
        "characters since . ! or ?":   [1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        "inside double quotes":        [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0],
        "the line so far in capitals": [1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
    }
    assert list(facts) == list(expected)
    for name, values in expected.items():
        assert facts[name].tolist() == values, name


def test_a_quote_after_a_space_opens_even_when_the_last_one_was_not_closed(nb):
    # news style: a quotation that runs on into the next paragraph repeats the opening mark only
    quoted = nb.text_properties('"One. "Two." x')["inside double quotes"]
    assert quoted.tolist() == [1] * 11 + [0] * 3          # the closing mark itself is outside


def test_cell_states_are_the_lstms_cell_in_the_texts_order(nb):
    torch.manual_seed(0)
    model = nb.CharLSTM(12, 8, 16)
    ids = tiny_text_ids()[:123]
    cells = nb.cell_states(model, ids, n_streams=4)         # 4 streams of 30: the last 3 ids are left out
    assert cells.shape == (120, 16) and model.training, "the model goes back to training mode"
    with torch.no_grad():
        for b in range(4):
            piece = ids[30 * b:30 * (b + 1)]
            for t in (0, 11, 29):                           # the library's final c after t + 1 characters
                _, (_, c) = model.lstm(model.embed(piece[None, :t + 1]))
                np.testing.assert_allclose(cells[30 * b + t], c[0, 0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nb.cell_states(model, ids[:30], n_streams=1), cells[:30], rtol=1e-5, atol=1e-6)


def test_cell_states_of_a_two_layer_model_are_the_top_layers(nb):
    torch.manual_seed(1)
    model = nb.CharLSTM(12, 8, 16, layers=2, dropout=0.3)
    ids = tiny_text_ids()[:20]
    cells = nb.cell_states(model, ids, n_streams=1)
    model.eval()
    with torch.no_grad():
        _, (_, c) = model.lstm(model.embed(ids[None]))
    np.testing.assert_allclose(cells[-1], c[1, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_unit_correlations_are_pearsons_r(nb):
    rng = np.random.default_rng(0)
    fact = rng.integers(0, 30, size=500).astype(float) + 5.0          # a mean far from 0
    activations = np.column_stack([rng.normal(size=(500, 3)), 0.3 * fact - 2, -fact + rng.normal(size=500)])
    r = nb.unit_correlations(nb.standardised(activations), fact)
    expected = [np.corrcoef(activations[:, k], fact)[0, 1] for k in range(5)]
    np.testing.assert_allclose(r, expected, rtol=1e-6, atol=1e-9)
    assert r[3] == pytest.approx(1.0)
    two = nb.unit_correlations(nb.standardised(activations), np.stack([fact, -fact]))
    np.testing.assert_allclose(two, [expected, [-e for e in expected]], rtol=1e-6, atol=1e-9)
    assert np.abs(nb.unit_correlations(nb.standardised(activations), np.ones(500))).max() == 0.0


def test_chance_correlation_is_low_for_a_shifted_copy(nb):
    rng = np.random.default_rng(1)
    fact = rng.normal(size=2000)
    activations = np.column_stack([fact, rng.normal(size=(2000, 4))])   # unit 0 is the fact itself
    z = nb.standardised(activations)
    assert nb.unit_correlations(z, fact)[0] == pytest.approx(1.0)
    shifts = rng.integers(200, 1800, size=40)
    chance = nb.chance_correlation(z, fact, shifts)
    assert 0 < chance < 0.15, "shifted, the copy is as unrelated as noise"
    best = [np.abs(nb.unit_correlations(z, np.roll(fact, s))).max() for s in shifts]
    assert nb.chance_correlation(z, fact, shifts, quantile=1.0) == pytest.approx(max(best))


def test_text_rows_break_at_line_breaks_and_at_the_width(nb):
    assert nb.text_rows("ab\ncdefg", 3) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1)]
    assert nb.passage_length("ab\ncdefg", 3, 2) == 6
    assert nb.passage_length("ab", 3, 2) == 2


def test_value_entropy_and_the_liveliest_passage(nb):
    assert nb.value_entropy(np.array([1, 1, 2, 2])) == pytest.approx(np.log(2))
    assert nb.value_entropy(np.array([5, 5, 5])) == 0
    text = "aaaa\n" * 200
    values = np.zeros(len(text))
    values[700:730] = np.arange(30)                  # the only place where the fact varies
    assert nb.liveliest_passage(text, values, width=10, rows=2) == 700
    words = "abc " * 300                             # no line breaks: passages start at words
    values = np.zeros(len(words))
    values[800:812] = np.arange(12)
    assert nb.liveliest_passage(words, values, width=6, rows=2) == 800


def test_draw_activations_colours_each_character_at_its_place(nb):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    image = nb.draw_activations(ax, "ab\ncde", np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), width=4, rows=2)
    grid = np.ma.masked_invalid(image.get_array()).reshape(2, 4)
    np.testing.assert_allclose(grid[0, :3], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(grid[1, :3], [0.4, 0.5, 0.6])
    assert grid.mask[0, 3] and grid.mask[1, 3], "no character there"
    assert [t.get_text() for t in ax.texts] == ["a", "b", "↵", "c", "d", "e"]
    plt.close(fig)


# ----------------------------------------------------------------------------- exercise self-checks
@pytest.fixture(scope="module")
def exercises():
    return Exercises("05_char_rnn")


def test_exercise_1_check_rejects_wrong_units(exercises):
    assert exercises.check_close("bits_at_1_4_nats", 2.0198, atol=1e-3)
    assert not exercises.check_close("bits_at_1_4_nats", 1.4, atol=1e-3)                  # nats, not bits
    assert not exercises.check_close("bits_at_1_4_nats", 1.4 * math.log(2), atol=1e-3)   # wrong direction
    assert not exercises.check_close("bits_at_1_4_nats", ...)                              # unanswered stub
    assert exercises.check_close("perplexity_at_1_4_nats", 4.055, atol=1e-3)
    assert not exercises.check_close("perplexity_at_1_4_nats", 2 ** 1.4, atol=1e-3)       # 2^nats


def temperature_cases():
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(4, 65, generator=g), 1.0), (torch.randn(3, 65, generator=g), 0.5),
            (torch.randn(2, 5, 65, generator=g), 1.7), (torch.randn(2, 65, generator=g), 0.0)]


def test_exercise_2_check_rejects_wrong_answers(exercises):
    def written_differently(logits, temperature):
        if temperature == 0:
            return (logits == logits.max(dim=-1, keepdim=True).values).float()
        weights = torch.exp((logits - logits.max(dim=-1, keepdim=True).values) / temperature)
        return weights / weights.sum(dim=-1, keepdim=True)

    def ignores_temperature(logits, temperature):
        return F.softmax(logits, dim=-1)

    def multiplies(logits, temperature):
        return F.softmax(logits * max(temperature, 1e-6), dim=-1)

    def divides_by_zero(logits, temperature):
        return F.softmax(logits / temperature, dim=-1)

    def stub(logits, temperature):
        raise NotImplementedError

    cases = temperature_cases()
    assert exercises.check_function(written_differently, cases, name="temperature_softmax")
    for wrong in (ignores_temperature, multiplies, divides_by_zero, stub):
        assert not exercises.check_function(wrong, cases, name="temperature_softmax"), wrong.__name__


def test_exercise_3_check_rejects_wrong_answers(exercises):
    def sorted_cut(logits, k):
        kth = logits.sort(dim=-1, descending=True).values[..., k - 1:k]
        weights = torch.where(logits >= kth, logits.exp(), torch.zeros_like(logits))
        return weights / weights.sum(dim=-1, keepdim=True)

    def keeps_one_too_few(logits, k):
        return sorted_cut(logits, max(k - 1, 1)) if k > 1 else F.softmax(logits, dim=-1)

    def not_renormalised(logits, k):
        probs = F.softmax(logits, dim=-1)
        kth = torch.topk(probs, k, dim=-1).values[..., -1:]
        return probs.masked_fill(probs < kth, 0.0)

    def bottom_k(logits, k):
        return sorted_cut(-logits, k)

    def stub(logits, k):
        raise NotImplementedError

    g = torch.Generator().manual_seed(1)
    cases = [(torch.randn(4, 65, generator=g), 5), (torch.randn(2, 3, 65, generator=g), 1),
             (torch.randn(3, 65, generator=g), 65)]
    assert exercises.check_function(sorted_cut, cases, name="top_k_probs")
    for wrong in (keeps_one_too_few, not_renormalised, bottom_k, stub):
        assert not exercises.check_function(wrong, cases, name="top_k_probs"), wrong.__name__

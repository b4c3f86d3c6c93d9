"""Notebook 05 (char-RNN): the exercise self-checks, and the notebook's own training loop
(truncated BPTT, checkpoint and resume) run on a tiny problem outside the notebook."""
import ast
import math
import time

import nbformat
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm
from utils.notebooks import NOTEBOOK_DIR

from solutions import nb05
from utils.checks import check_close, check_function
from utils.training import History, load_checkpoint, save_checkpoint

V = 65
NOTEBOOK = NOTEBOOK_DIR / "05_char_rnn.ipynb"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # these models are tiny: a second thread only adds waiting, badly so on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- exercises
def test_exercise_1_units():
    assert math.isclose(2 ** nb05.BITS_AT_1_4_NATS, nb05.PERPLEXITY_AT_1_4_NATS)
    assert check_close(nb05.BITS_AT_1_4_NATS, nb05.BITS_AT_1_4_NATS, atol=1e-3)
    assert check_close(2.0198, nb05.BITS_AT_1_4_NATS, atol=1e-3)
    assert not check_close(1.4, nb05.BITS_AT_1_4_NATS, atol=1e-3)                  # nats, not bits
    assert not check_close(1.4 * math.log(2), nb05.BITS_AT_1_4_NATS, atol=1e-3)    # wrong direction
    assert check_close(4.055, nb05.PERPLEXITY_AT_1_4_NATS, atol=1e-3)
    assert not check_close(2 ** 1.4, nb05.PERPLEXITY_AT_1_4_NATS, atol=1e-3)       # 2^nats is wrong
    assert not check_close(..., nb05.BITS_AT_1_4_NATS)                               # unanswered stub


def _temperature_cases():
    torch.manual_seed(0)
    return [(torch.randn(4, V), 1.0), (torch.randn(3, V), 0.5), (torch.randn(2, 5, V), 1.7),
            (torch.randn(2, V), 0.0)]


def test_exercise_2_temperature_softmax():
    cases = _temperature_cases()
    assert check_function(nb05.temperature_softmax, nb05.temperature_softmax, cases, raise_on_fail=True)
    probs = nb05.temperature_softmax(torch.tensor([[1.0, 3.0, 2.0]]), 0.0)
    assert torch.equal(probs, torch.tensor([[0.0, 1.0, 0.0]]))

    def ignores_temperature(logits, temperature):
        return F.softmax(logits, dim=-1)

    def multiplies(logits, temperature):
        return F.softmax(logits * max(temperature, 1e-6), dim=-1)

    def divides_by_zero(logits, temperature):
        return F.softmax(logits / temperature, dim=-1)

    def stub(logits, temperature):
        raise NotImplementedError

    for wrong in (ignores_temperature, multiplies, divides_by_zero, stub):
        assert not check_function(wrong, nb05.temperature_softmax, cases), wrong.__name__


def test_exercise_3_top_k_probs():
    torch.manual_seed(1)
    cases = [(torch.randn(4, V), 5), (torch.randn(2, 3, V), 1), (torch.randn(3, V), V)]
    assert check_function(nb05.top_k_probs, nb05.top_k_probs, cases, raise_on_fail=True)
    probs = nb05.top_k_probs(torch.tensor([[0.0, 2.0, -1.0, 2.0 - math.log(3)]]), 2)
    torch.testing.assert_close(probs, torch.tensor([[0.0, 0.75, 0.0, 0.25]]))

    def keeps_one_too_few(logits, k):
        return nb05.top_k_probs(logits, max(k - 1, 1)) if k > 1 else F.softmax(logits, dim=-1)

    def not_renormalised(logits, k):
        probs = F.softmax(logits, dim=-1)
        kth = torch.topk(probs, k, dim=-1).values[..., -1:]
        return probs.masked_fill(probs < kth, 0.0)

    def bottom_k(logits, k):
        return nb05.top_k_probs(-logits, k)

    def stub(logits, k):
        raise NotImplementedError

    for wrong in (keeps_one_too_few, not_renormalised, bottom_k, stub):
        assert not check_function(wrong, nb05.top_k_probs, cases), wrong.__name__


def test_make_streams_rows_continue_the_text():
    ids = torch.arange(103)
    streams = nb05.make_streams(ids, 4)
    assert streams.shape == (4, 25)
    assert torch.equal(streams.flatten(), ids[:100])      # row b is the b-th consecutive piece


# ----------------------------------------------------------------------------- the notebook's code
def notebook_definitions(*names):
    """The functions and classes the notebook defines (only the definitions, not the cells'
    other statements), executed in a namespace with the notebook's imports."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace = {"torch": torch, "nn": nn, "F": F, "math": math, "np": np, "time": time, "tqdm": tqdm,
                 "History": History, "save_checkpoint": save_checkpoint,
                 "load_checkpoint": load_checkpoint, "DEVICE": torch.device("cpu"), "SEED": 0}
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.startswith("# Setup"):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                exec(compile(ast.Module([node], type_ignores=[]), str(NOTEBOOK), "exec"), namespace)
                found.add(node.name)
    missing = set(names) - found
    assert not missing, f"the notebook no longer defines {missing}"
    return namespace


@pytest.fixture(scope="module")
def nbcode():
    return notebook_definitions("make_streams", "chunk", "CharLSTM", "detach", "sequence_loss",
                                "train_char_lm", "unigram_bits", "bigram_bits", "held_out_logits")


def _tiny_text_ids():
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 12, (4000,), generator=generator)


def _train(nbcode, checkpoint, max_steps, on_eval=None, config=None):
    torch.manual_seed(0)
    model = nbcode["CharLSTM"](12, 8, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = nbcode["train_char_lm"](
        model, optimizer, _tiny_text_ids(), batch_size=4, seq_len=10, max_steps=max_steps,
        time_budget_s=1e9, lr=3e-3, eval_every=4, on_eval=on_eval, checkpoint=checkpoint,
        config=config or {"run": "tiny"})
    return model, history


def test_interrupted_training_resumes_to_the_same_weights(nbcode, tmp_path):
    straight, straight_history = _train(nbcode, tmp_path / "straight.pt", 12)

    def interrupt(model, history):
        if history.steps[-1] == 8:      # the checkpoint of step 4 is on disk, step 8's is not yet
            raise KeyboardInterrupt
        return {}

    with pytest.raises(KeyboardInterrupt):
        _train(nbcode, tmp_path / "interrupted.pt", 12, on_eval=interrupt)
    assert load_checkpoint(tmp_path / "interrupted.pt", nbcode["CharLSTM"](12, 8, 16))[0]["step"] == 4
    resumed, resumed_history = _train(nbcode, tmp_path / "interrupted.pt", 12)
    assert resumed_history.steps == straight_history.steps == list(range(1, 13))
    np.testing.assert_allclose(resumed_history.loss, straight_history.loss, rtol=1e-5, atol=1e-6)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_finished_run_is_reused_and_new_config_retrains(nbcode, tmp_path):
    path = tmp_path / "run.pt"
    first, history = _train(nbcode, path, 8)
    calls = []
    again, again_history = _train(nbcode, path, 8, on_eval=lambda m, h: calls.append(1) or {})
    assert not calls and again_history.steps == history.steps            # loaded, not trained
    for a, b in zip(first.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    _, fresh_history = _train(nbcode, path, 8, on_eval=lambda m, h: calls.append(1) or {},
                              config={"run": "other"})
    assert calls and len(fresh_history.steps) == 8                        # other config: trained anew


def test_training_lowers_the_loss_on_a_learnable_sequence(nbcode):
    # a repeating pattern of period 7: after training, the next character is nearly certain
    ids = torch.tensor([0, 3, 1, 4, 1, 5, 2] * 600)
    torch.manual_seed(0)
    model = nbcode["CharLSTM"](6, 8, 32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = nbcode["train_char_lm"](model, optimizer, ids, batch_size=8, seq_len=20, max_steps=120,
                                      time_budget_s=1e9, lr=1e-2, eval_every=1000)
    logits, targets = nbcode["held_out_logits"](model, ids[:1000], n_streams=4, seq_len=50)
    assert history.loss[0] > 1.5
    assert nbcode["sequence_loss"](logits, targets).item() < 0.1


def test_two_layer_model_with_dropout_runs_a_chunk(nbcode):
    # the full profile's shape of model: two layers, dropout between them and before the readout
    torch.manual_seed(0)
    model = nbcode["CharLSTM"](12, 8, 16, layers=2, dropout=0.3)
    ids = _tiny_text_ids()[:60].view(3, 20)
    logits, (h, c) = model(ids)
    assert logits.shape == (3, 20, 12) and h.shape == c.shape == (2, 3, 16)
    model.eval()
    assert torch.equal(model(ids)[0], model(ids)[0]), "no dropout in eval mode"


def test_count_baselines(nbcode):
    uniform_text = torch.arange(8).repeat(500)
    assert math.isclose(nbcode["unigram_bits"](uniform_text, uniform_text, 8), 3.0, abs_tol=1e-3)
    alternating = torch.tensor([0, 1] * 1000)      # each character determines the next
    assert nbcode["bigram_bits"](alternating, alternating, 2) < 0.01
    assert nbcode["unigram_bits"](alternating, alternating, 2) > 0.99


def test_detach_cuts_the_gradient_but_keeps_the_state(nbcode):
    torch.manual_seed(0)
    model = nbcode["CharLSTM"](12, 8, 16)
    ids = _tiny_text_ids()[:40].view(2, 20)
    embeddings = model.embed(ids[:, :10]).detach().requires_grad_(True)
    _, state = model.lstm(embeddings)
    outputs, _ = model.lstm(model.embed(ids[:, 10:]), nbcode["detach"](state))
    outputs.sum().backward()
    assert embeddings.grad is None
    assert torch.equal(nbcode["detach"](state)[0], state[0]) and nbcode["detach"](None) is None

"""Notebook 08 (attention): its score functions, masked attention, the Bahdanau and Luong decoders
(on notebook 07's encoder, decoded by notebook 07's decoders) and its memory network, loaded from
the notebooks (utils.lessons), and the discrimination of its exercise self-checks."""
import math

import pytest
import torch

from utils.checks import Exercises
from utils.lessons import load_lesson
from utils.text import PAD_ID, PairBatches, lengths_mask

MUTATIONS = [
    ("self.v(torch.tanh(self.W(queries)[:, :, None] + self.U(keys)[:, None]))",
     "self.v((self.W(queries)[:, :, None] + self.U(keys)[:, None]))",
     "Bahdanau's additive score without its tanh"),
    ('return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)', "return scores.softmax(dim=-1)",
     "the padding mask is not applied to the attention scores"),
    ("u = u + (p[:, :, None] * c).sum(1)", "u = (p[:, :, None] * c).sum(1)",
     "a memory hop replaces the query by the read instead of adding the read to it"),
    ("return steps * batch_size / n_examples", "return steps / n_examples",
     "epochs counted as steps over examples, forgetting that each step takes a batch"),
]


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("08_attention", profile="smoke")


@pytest.fixture(scope="module")
def nb07():
    return load_lesson("07_seq2seq", profile="smoke")


@pytest.fixture(scope="module")
def inputs():
    torch.manual_seed(0)
    queries, keys = torch.randn(3, 4, 8), torch.randn(3, 6, 8)
    return queries, keys, lengths_mask(torch.tensor([6, 2, 4]), 6)


@pytest.fixture(scope="module")
def dates(nb07):
    return nb07.date_data(200, 40, seed=0)


def models(nb, nb07, dates, hidden=16):
    n_src, n_tgt = len(dates.src_vocab), len(dates.tgt_vocab)
    torch.manual_seed(0)
    bahdanau = nb.BahdanauSeq2Seq(nb07.Encoder(n_src, 8, hidden), n_tgt, 8, hidden).eval()
    luong = nb.LuongSeq2Seq(nb07.Encoder(n_src, 8, hidden), n_tgt, 8, hidden, "general").eval()
    return bahdanau, luong


# ----------------------------------------------------------------------------- scores and attention
def test_each_score_function_equals_its_formula_for_every_pair(nb, inputs):
    queries, keys, _ = inputs
    torch.manual_seed(1)
    additive, dot, general = nb.AdditiveScore(8), nb.DotScore(), nb.GeneralScore(8)
    formulas = {
        "additive": (additive, lambda q, h: additive.v.weight[0] @ torch.tanh(additive.W.weight @ q + additive.U.weight @ h)),
        "dot": (dot, lambda q, h: q @ h),
        "general": (general, lambda q, h: q @ general.W.weight @ h)}
    with torch.no_grad():
        for name, (score, formula) in formulas.items():
            scores = score(queries, keys)
            assert scores.shape == (3, 4, 6), name
            by_formula = torch.tensor([[[formula(queries[b, t], keys[b, j]) for j in range(6)] for t in range(4)]
                                       for b in range(3)])
            assert torch.allclose(scores, by_formula, atol=1e-5), name


def test_masked_softmax_is_the_softmax_over_the_real_positions_only(nb, inputs):
    _, _, mask = inputs
    scores = torch.randn(3, 6).masked_fill(~mask, 1e4)           # huge garbage where the mask is False
    weights = nb.masked_softmax(scores, mask)
    for row, n in enumerate([6, 2, 4]):
        assert torch.allclose(weights[row, :n], scores[row, :n].softmax(-1))
        assert (weights[row, n:] == 0).all()


def test_attention_weights_are_a_distribution_with_zero_on_padding(nb, inputs):
    queries, keys, mask = inputs
    torch.manual_seed(2)
    for score in (nb.AdditiveScore(8), nb.DotScore(), nb.GeneralScore(8)):
        with torch.no_grad():
            context, weights = nb.attend(score, queries, keys, mask)
            garbage, _ = nb.attend(score, queries, keys.masked_fill(~mask[..., None], 1e3), mask)
        assert (weights >= 0).all() and torch.allclose(weights.sum(-1), torch.ones(3, 4))
        assert (weights.masked_select(~mask[:, None, :].expand_as(weights)) == 0).all()
        assert torch.allclose(context, torch.einsum("bts,bsh->bth", weights, keys), atol=1e-6), "c = sum_j a_j h_j"
        assert torch.allclose(context, garbage, atol=1e-5), "padded states do not reach the context"


# ----------------------------------------------------------------------------- decoders
def test_teacher_forced_forward_equals_step_by_step(nb, nb07, dates):
    src, lengths, tgt = next(iter(PairBatches(dates.train_ids[:8], batch_size=8, shuffle=False)))
    for model in models(nb, nb07, dates):
        with torch.no_grad():
            one_call = model(src, lengths, tgt[:, :-1])
            state, stepwise = model.start(src, lengths), []
            for t in range(tgt.shape[1] - 1):
                logits, state, weights = model.step(state, tgt[:, t])
                assert weights.shape == (8, src.shape[1])
                stepwise.append(logits)
        assert torch.allclose(one_call, torch.stack(stepwise, 1), atol=1e-5), type(model).__name__


def test_bahdanau_attends_before_the_step_and_luong_after_it(nb, nb07, dates):
    # Bahdanau's query is s_{t-1}: the first step's weights cannot depend on the token fed in;
    # Luong's query is s_t, computed from that token, so its weights do
    src, lengths, _ = next(iter(PairBatches(dates.test_ids[:4], batch_size=4, shuffle=False)))
    bahdanau, luong = models(nb, nb07, dates)
    with torch.no_grad():
        for model, depends in ((bahdanau, False), (luong, True)):
            state = model.start(src, lengths)
            _, _, w1 = model.step(state, torch.full((4,), 5))
            _, _, w2 = model.step(state, torch.full((4,), 9))
            assert (not torch.allclose(w1, w2)) == depends, type(model).__name__


def test_07s_greedy_decoding_and_beam_search_decode_the_attention_models(nb, nb07, dates):
    src, lengths, _ = next(iter(PairBatches(dates.test_ids[:6], batch_size=6, shuffle=False)))
    for model in models(nb, nb07, dates):
        rows, _, weights = nb07.greedy_decode(model, src, lengths, dates.max_len)
        real = lengths_mask(lengths, src.shape[1])[:, None, :].expand_as(weights)
        assert weights.shape[0] == 6 and weights.shape[1] <= dates.max_len and weights.shape[2] == src.shape[1]
        assert (weights[~real] == 0).all() and torch.allclose(weights.sum(-1), torch.ones(weights.shape[:2]), atol=1e-5)
        for i in range(3):           # width 1 equals greedy, through the reordered (states, mask, s) state
            ids = src[i, :lengths[i]].tolist()
            (tokens,), (score,), _ = nb07.greedy_decode(model, src[i:i + 1, :lengths[i]], lengths[i:i + 1], dates.max_len)
            beam_tokens, beam_score, _ = nb07.beam_search(model, ids, width=1, max_len=dates.max_len)
            assert beam_tokens == tokens and math.isclose(beam_score, score, abs_tol=1e-4)
        nb07.beam_search(model, src[0, :lengths[0]].tolist(), width=3, max_len=dates.max_len)


# ----------------------------------------------------------------------------- translation
def test_epochs_of_counts_passes_over_the_training_pairs(nb):
    assert nb.epochs_of(500, 64, 26946) == pytest.approx(1.1876, abs=1e-4), "not half an epoch"
    assert nb.epochs_of(421, 64, 26944) == pytest.approx(1.0, abs=1e-3)


def test_bleu_by_length_is_07s_one_definition(nb, nb07):
    # 08 compares BLEU by source length with 07's functions, loaded from 07, not a copy
    for function in (nb.corpus_bleu, nb.source_length_quartiles, nb.bleu_by_quartile, nb.greedy_bleu,
                     nb.Seq2Seq.forward):
        assert "07_seq2seq" in function.__code__.co_filename, function.__qualname__
    sources = ["a b c d e", "a", "a b c", "a b"]
    assert nb.source_length_quartiles(sources) == nb07.source_length_quartiles(sources) == [[1], [3], [2], [0]]


# ----------------------------------------------------------------------------- memory
def test_content_read_sharpens_with_beta(nb):
    torch.manual_seed(0)
    keys, values = torch.randn(6, 16), torch.randn(6, 4)
    query = keys[3] + 0.3 * torch.randn(16)
    _, soft = nb.content_read(query, keys, values, 0.5)
    read, sharp = nb.content_read(query, keys, values, 100.0)
    assert torch.allclose(soft.sum(), torch.tensor(1.0)) and soft.argmax() == sharp.argmax() == 3
    assert sharp.max() > soft.max() and torch.allclose(read, values[3], atol=1e-2)


def test_position_encoding_is_the_papers_formula(nb):
    weight = nb.position_encoding(4, 2)                # J = 4 words, d = 2
    for j in range(1, 5):
        for k in range(1, 3):
            assert math.isclose(weight[j - 1, k - 1].item(), (1 - j / 4) - (k / 2) * (1 - 2 * j / 4), abs_tol=1e-6)


def test_story_tensors_pad_sentences_and_index_answers(nb):
    from utils.data.generated import memory_qa
    from utils.text import Vocab

    stories = memory_qa(5, n_sentences=4, seed=0)
    words = Vocab.build(s.lower().split() for example in stories for s in example[0] + [example[1]])
    places = Vocab(sorted({a for _, _, a, _ in stories}), specials=())
    memory, questions, answers, supports = nb.story_tensors(stories, words, places, 9)
    assert memory.shape == (5, 4, 9) and questions.shape == (5, 9)
    story, question, answer, support = stories[0]
    assert words.decode(memory[0, 0][memory[0, 0] != PAD_ID]) == story[0].lower().split()
    assert places.itos[answers[0]] == answer and supports[0] == support


@pytest.mark.parametrize("hops", [1, 2])
def test_memory_network_hops_are_the_papers_equations(nb, hops):
    torch.manual_seed(0)
    model = nb.MemN2N(n_words=12, n_answers=5, n_slots=4, dim=6, hops=hops, max_words=3)
    memory, questions = torch.randint(1, 12, (2, 4, 3)), torch.randint(1, 12, (2, 3))
    position = nb.position_encoding(3, 6)
    bag = lambda k, ids: (model.embeddings[k](ids) * position).sum(-2)          # position-weighted bag of words
    u, weights = bag(0, questions), []
    for k in range(hops):
        m = bag(k, memory) + model.slot_vectors[k]                        # keys of hop k: embedding k
        c = bag(k + 1, memory) + model.slot_vectors[k + 1]                # values: embedding k + 1 (tied)
        p = torch.softmax(torch.einsum("bsd,bd->bs", m, u), -1)
        u = u + torch.einsum("bs,bsd->bd", p, c)                           # u^{k+1} = u^k + o^k
        weights.append(p)
    logits, hop_weights = model(memory, questions)
    assert torch.allclose(logits, model.answer(u), atol=1e-5)
    assert torch.allclose(hop_weights, torch.stack(weights, 1), atol=1e-6)


# ----------------------------------------------------------------------------- exercises
@pytest.fixture(scope="module")
def exercises():
    return Exercises("08_attention")


def test_exercise_1_masked_softmax_check_rejects_leaks(nb, exercises):
    from solutions import nb08

    scores, mask = torch.randn(3, 6), lengths_mask(torch.tensor([6, 2, 4]), 6)
    cases = [(scores, mask), (scores.masked_fill(~mask, 1e4), mask)]          # as in the notebook
    assert torch.allclose(nb08.masked_softmax_by_hand(scores, mask), nb.masked_softmax(scores, mask)), "the notebook's"
    assert exercises.check_function(nb08.masked_softmax_by_hand, cases)

    def leaky(s, m):     # exponentiates the padded scores too: overflows to inf * 0 = nan
        e = torch.exp(s - s.max(-1, keepdim=True).values) * m
        return e / e.sum(-1, keepdim=True)

    name = "masked_softmax_by_hand"
    assert exercises.check_function(leaky, cases[:1], name=name), "fine without garbage"
    assert not exercises.check_function(leaky, cases, name=name)
    assert not exercises.check_function(lambda s, m: s.softmax(-1), cases, name=name)
    assert not exercises.check_function(lambda s, m: s.softmax(-1) * m, cases, name=name)


def test_exercise_2_general_scores_check_rejects_a_transposed_matrix(nb, exercises):
    from solutions import nb08

    torch.manual_seed(0)
    q, k, W = torch.randn(2, 3, 5), torch.randn(2, 4, 5), torch.randn(5, 5)
    general = nb.GeneralScore(5)
    with torch.no_grad():
        general.W.weight.copy_(W)
        assert torch.allclose(nb08.general_scores(q, k, W), general(q, k), atol=1e-5), "the notebook's score"
    assert exercises.check_function(nb08.general_scores, [(q, k, W)])
    assert not exercises.check_function(lambda q, k, W: q @ W.T @ k.transpose(1, 2), [(q, k, W)],
                                        name="general_scores")


def test_exercise_3_memory_hop_check_rejects_swapped_keys_and_values(exercises):
    from solutions import nb08

    torch.manual_seed(0)
    u, m, c = torch.randn(2, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    new_u, p = nb08.memory_hop(u, m, c)
    assert torch.allclose(new_u[0], u[0] + sum(p[0, i] * c[0, i] for i in range(5)), atol=1e-5)
    cases = [(u, m, c)]
    assert exercises.check_function(nb08.memory_hop, cases)
    assert not exercises.check_function(lambda u, m, c: nb08.memory_hop(u, c, m), cases, name="memory_hop")
    assert not exercises.check_function(lambda u, m, c: (nb08.memory_hop(u, m, c)[0] - u, nb08.memory_hop(u, m, c)[1]),
                                        cases, name="memory_hop")

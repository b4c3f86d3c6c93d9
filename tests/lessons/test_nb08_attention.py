"""Notebook 08 (attention): its score functions, masked attention, the Bahdanau and Luong decoders
(on notebook 07's encoder, decoded by notebook 07's decoders), its memory network, the Neural Turing
machine's addressing and writing (against values computed by hand), and attention over the regions
of a CNN feature map, loaded from the notebooks (utils.lessons), and the discrimination of its
exercise self-checks."""
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
    ("return content_read(key, memory, memory, beta)[1]", "return content_read(key, memory, memory, 1.0)[1]",
     "the NTM's content weights ignore the key strength beta"),
    ("return gate * content + (1 - gate) * previous", "return gate * previous + (1 - gate) * content",
     "the interpolation gate weights the previous weighting instead of the content weights"),
    ("s * torch.roll(weights, o)", "s * torch.roll(weights, -o)",
     "the circular convolution shifts the focus the wrong way"),
    ("powered = (weights / weights.max()) ** gamma", "powered = (weights / weights.max()) * gamma",
     "sharpening scales the weights instead of raising them to the power gamma"),
    ("return memory * (1 - weights[:, None] * erase[None]) + weights[:, None] * add[None]",
     "return memory * (1 - erase[None]) + weights[:, None] * add[None]",
     "the NTM write erases every slot, not in proportion to its weight"),
    ("starts = np.cumsum(gaps[:k]) + size * np.arange(k)", "starts = np.cumsum(gaps[:k])",
     "digits on a canvas placed by their gaps alone, so they overlap"),
    ("regions = maps.flatten(2).transpose(1, 2) + self.where", "regions = maps.flatten(2).transpose(1, 2)",
     "the image regions carry no learned vector saying where they are"),
    ("return regions, mask, torch.tanh(self.bridge(summary))", "return regions, mask, torch.tanh(self.bridge(regions[:, 0]))",
     "the image decoder starts from the first region instead of the mean of the regions"),
    ("on_digit = ((region_starts < left + size) & (region_starts + region > left)).repeat(rows)",
     "on_digit = ((region_starts < left + size) & (region_starts + region > left)).repeat_interleave(rows)",
     "the regions on a digit looked up column by column, while the map numbers them row by row"),
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


# ----------------------------------------------------------------------------- Neural Turing machine
HAND_MEMORY = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [-1.0, 0.0]])


def test_ntm_addressing_stages_equal_the_case_worked_by_hand(nb):
    # cosines 1, 0, 0, -1 and beta = ln 2: exp(beta K) = 2, 1, 1, 1/2
    content = nb.content_weights(HAND_MEMORY, torch.tensor([2.0, 0.0]), math.log(2))
    assert torch.allclose(content, torch.tensor([4, 2, 2, 1]) / 9, atol=1e-6)
    gated = nb.interpolate(content, torch.tensor([0.0, 0.0, 0.0, 1.0]), 0.5)
    assert torch.allclose(gated, torch.tensor([4, 2, 2, 10]) / 18, atol=1e-6)
    shifted = nb.shift(gated, torch.tensor([0.0, 0.5, 0.5]))        # stay or move one slot on
    assert torch.allclose(shifted, torch.tensor([7, 3, 2, 6]) / 18, atol=1e-6)
    sharpened = nb.sharpen(shifted, 2.0)
    assert torch.allclose(sharpened, torch.tensor([49, 9, 4, 36]) / 98, atol=1e-6)
    assert torch.allclose(nb.read(HAND_MEMORY, sharpened), torch.tensor([13, 5]) / 98, atol=1e-6)
    composed = nb.address(HAND_MEMORY, torch.tensor([0.0, 0.0, 0.0, 1.0]), torch.tensor([2.0, 0.0]), math.log(2),
                          0.5, torch.tensor([0.0, 0.5, 0.5]), 2.0)
    assert torch.allclose(composed, sharpened, atol=1e-6)


def test_content_weights_are_a_softmax_of_scaled_cosines(nb):
    torch.manual_seed(0)
    memory, key = torch.randn(7, 4), torch.randn(4)
    for beta in (0.0, 1.0, 5.0):
        cosines = torch.stack([row @ key / (row.norm() * key.norm()) for row in memory])
        assert torch.allclose(nb.content_weights(memory, key, beta), torch.softmax(beta * cosines, 0), atol=1e-6)


def test_shift_is_the_circular_convolution_of_the_paper(nb):
    torch.manual_seed(1)
    n = 6
    for _ in range(5):
        weights, shift_weights = torch.softmax(torch.randn(n), 0), torch.softmax(torch.randn(3), 0)
        s = torch.zeros(n)                                     # s as a function of the offset mod n
        for offset, value in zip(nb.SHIFT_OFFSETS, shift_weights, strict=True):
            s[offset % n] += value
        expected = torch.tensor([sum(weights[j] * s[(i - j) % n] for j in range(n)) for i in range(n)])
        assert torch.allclose(nb.shift(weights, shift_weights), expected, atol=1e-6)
    one_hot = torch.eye(n)
    assert torch.equal(nb.shift(one_hot[n - 1], torch.tensor([0.0, 0.0, 1.0])), one_hot[0])
    assert torch.equal(nb.shift(one_hot[0], torch.tensor([1.0, 0.0, 0.0])), one_hot[n - 1])


def test_interpolation_and_sharpening_limits(nb):
    torch.manual_seed(2)
    content, previous = torch.softmax(torch.randn(8), 0), torch.softmax(torch.randn(8), 0)
    assert torch.equal(nb.interpolate(content, previous, 0.0), previous)
    assert torch.equal(nb.interpolate(content, previous, 1.0), content)
    mixed = nb.interpolate(content, previous, 0.3)
    assert torch.allclose(mixed, 0.3 * content + 0.7 * previous) and torch.isclose(mixed.sum(), torch.tensor(1.0))
    assert torch.allclose(nb.sharpen(previous, 1.0), previous, atol=1e-6), "gamma = 1 changes nothing"
    sharper = nb.sharpen(previous, 3.0)
    assert torch.allclose(sharper, previous ** 3 / (previous ** 3).sum(), atol=1e-6) and sharper.max() > previous.max()
    spread = torch.tensor([0.2, 0.3, 0.25, 0.25])              # the largest leads the next by 0.3 / 0.25 = 1.2
    assert torch.allclose(nb.sharpen(spread, 200.0), torch.eye(4)[1], atol=1e-6), "1.2^-200: all on the largest"


def test_write_erases_then_adds_in_proportion_to_the_weight(nb):
    written = nb.write(HAND_MEMORY, torch.tensor([0.5, 0.5, 0.0, 0.0]), torch.tensor([1.0, 0.5]), torch.tensor([2.0, 0.0]))
    assert torch.allclose(written, torch.tensor([[1.5, 0.0], [1.0, 0.75], [0.0, -1.0], [-1.0, 0.0]]))
    torch.manual_seed(3)
    memory, weights = torch.randn(5, 3), torch.softmax(torch.randn(5), 0)
    erase, add = torch.rand(3), torch.randn(3)
    expected = torch.tensor([[memory[i, m] * (1 - weights[i] * erase[m]) + weights[i] * add[m] for m in range(3)]
                             for i in range(5)])
    assert torch.allclose(nb.write(memory, weights, erase, add), expected, atol=1e-6)
    overwritten = nb.write(memory, torch.eye(5)[2], torch.ones(3), add)
    assert torch.equal(overwritten[2], add) and torch.equal(overwritten[[0, 1, 3, 4]], memory[[0, 1, 3, 4]])


# ----------------------------------------------------------------------------- attention over image regions
@pytest.fixture(scope="module")
def canvas_model(nb):
    torch.manual_seed(0)
    model = nb.ShowAttendTell(nb.RegionEncoder(n_regions=3 * 10, hidden=16, channels=4), 14, 8, 16)   # 10 digits, 4 specials
    return model.eval()


def test_digit_canvases_put_the_digits_left_to_right_without_overlap(nb):
    labels = torch.arange(10)
    images = ((labels + 1) / 10)[:, None, None, None].expand(10, 1, 8, 8)    # digit d: an 8x8 square of (d + 1) / 10
    canvases, captions, lefts = nb.digit_canvases(images, labels, 40, 12, 40, (2, 4), seed=0)
    assert canvases.shape == (40, 1, 12, 40)
    for canvas, caption, starts in zip(canvases[:, 0], captions, lefts, strict=True):
        assert 2 <= len(caption) <= 4 and len(starts) == len(caption)
        assert all(b >= a + 8 for a, b in zip(starts, starts[1:], strict=False)) and starts[0] >= 0 and starts[-1] + 8 <= 40
        covered = torch.zeros(40, dtype=torch.bool)
        for digit, left in zip(caption, starts, strict=True):
            block = canvas[:, left:left + 8]
            rows = (block > 0).all(1).nonzero().flatten()
            assert len(rows) == 8 and rows[-1] - rows[0] == 7, "the whole digit, in one piece"
            assert torch.allclose(block[rows], torch.full((8, 8), (int(digit) + 1) / 10))
            covered[left:left + 8] = True
        assert (canvas[:, ~covered] == 0).all(), "nothing outside the digits"


def test_region_encoder_is_01s_cnn_with_one_vector_per_region_row_by_row(nb):
    assert "01_cnn_review" in nb.SmallCNN.__init__.__code__.co_filename, "notebook 01's CNN, loaded, not copied"
    torch.manual_seed(0)
    encoder = nb.RegionEncoder(n_regions=3 * 10, hidden=16, channels=4).eval()
    images = torch.rand(2, 1, 12, 40)
    with torch.no_grad():
        regions, summary = encoder(images)
        maps = encoder.cnn(images)
    assert maps.shape == (2, 16, 3, 10) and regions.shape == (2, 30, 16)
    for r in range(3):
        for c in range(10):
            assert torch.allclose(regions[:, r * 10 + c], maps[:, :, r, c] + encoder.where[r * 10 + c], atol=1e-6)
    assert torch.allclose(summary, regions.mean(1), atol=1e-6)


def test_show_attend_tell_attends_over_every_region_and_starts_from_their_mean(nb, nb07, canvas_model):
    images = torch.rand(3, 1, 12, 40)
    with torch.no_grad():
        regions, mask, s0 = canvas_model.start(images)
        expected_regions, _ = canvas_model.encoder(images)
        assert mask.all() and mask.shape == (3, 30) and torch.allclose(regions, expected_regions)
        assert torch.allclose(s0, torch.tanh(canvas_model.bridge(regions.mean(1))), atol=1e-6)
        _, _, weights = canvas_model.step((regions, mask, s0), torch.full((3,), 1))
    assert weights.shape == (3, 30) and torch.allclose(weights.sum(-1), torch.ones(3)) and (weights > 0).all()
    targets = torch.tensor([[1, 5, 6, 2, 0], [1, 7, 8, 9, 2], [1, 4, 2, 0, 0]])
    assert nb07.teacher_forcing_gap(canvas_model, images, None, targets) < 1e-5
    vocab = nb.Vocab.build([list("0123456789")])
    captions, canvas_weights = nb.read_canvases(canvas_model, images, vocab, 5)
    rows, _, weights = nb07.greedy_decode(canvas_model, images, None, 5)     # 07's decoder, unchanged
    assert captions == ["".join(vocab.decode(row)) for row in rows] and torch.equal(canvas_weights, weights)
    assert canvas_weights.shape[0] == 3 and canvas_weights.shape[2] == 30


def test_uniform_score_makes_the_context_the_mean_of_the_regions(nb):
    queries, keys = torch.randn(2, 3, 5), torch.randn(2, 7, 5)
    context, weights = nb.attend(nb.UniformScore(), queries, keys, torch.ones(2, 7, dtype=torch.bool))
    assert torch.allclose(weights, torch.full((2, 3, 7), 1 / 7))
    assert torch.allclose(context, keys.mean(1, keepdim=True).expand(-1, 3, -1), atol=1e-6)


def test_canvas_batches_are_07s_seq2seq_batches_without_lengths(nb):
    canvases, targets = torch.arange(10.0)[:, None, None, None], torch.arange(10)[:, None].repeat(1, 3)
    batches = nb.CanvasBatches((canvases, targets), 4)
    seen = []
    for images, lengths, tgt in batches:
        assert lengths is None and (images.flatten().long() == tgt[:, 0]).all(), "each canvas with its own caption"
        seen += tgt[:, 0].tolist()
    assert sorted(seen) == list(range(10)) and len(batches) == 3


def test_on_target_share_against_the_regions_counted_by_hand(nb):
    # a 2 x 10 grid of 4-pixel regions; an 8-pixel digit at column 8 overlaps region columns 2 and 3,
    # one at column 6 overlaps columns 1, 2 and 3
    weights = torch.zeros(1, 2, 20)
    weights[0, 0, [2, 13, 0]] = torch.tensor([0.5, 0.25, 0.25])      # step 1: 0.75 on columns 2, 3 (either row)
    weights[0, 1, [11, 3, 9]] = torch.tensor([0.5, 0.3, 0.2])        # step 2: 0.8 on columns 1, 2, 3
    share, uniform = nb.on_target_share(weights, [[8, 6]], grid=(2, 10), region=4, size=8)
    assert share == pytest.approx((0.75 + 0.8) / 2) and uniform == pytest.approx((2 / 10 + 3 / 10) / 2)

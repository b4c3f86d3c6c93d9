"""Notebook 06 (word2vec): its own code, loaded from the notebook (utils.lessons), on tiny
corpora: subsampling and the noise distribution, the skip-gram pair generator, the full softmax,
the SGNS loss and its hand-derived gradients against autograd, the plain SGD step against autograd
and against torch.optim, the Huffman tree and hierarchical softmax, the fast trainer against the
plain autograd version, the row cap, gensim on the same subsampling, the evaluation helpers; and
the exercise self-checks' power to reject wrong answers."""
import math
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gensim.models import Word2Vec

from solutions import nb06 as reference
from utils.checks import Exercises
from utils.lessons import load_lesson

MUTATIONS = [
    ("u_pos.view(-1, D, 1)).view(-1)) - 1", "u_pos.view(-1, D, 1)).view(-1))",
     "the true context's gradient factor is sigma(x) where sigma(x) - 1 belongs"),
    ("g_neg = torch.sigmoid(torch.bmm(v_grouped, u_neg.transpose(1, 2)))",
     "g_neg = 1 - torch.sigmoid(torch.bmm(v_grouped, u_neg.transpose(1, 2)))",
     "the noise words' gradient factor is 1 - sigma(x) where sigma(x) belongs"),
    ("grad_u_pos = g_pos[:, None] * v", "grad_u_pos = -g_pos[:, None] * v",
     "the sign of the context vector's gradient is flipped"),
    ("def noise_distribution(counts, power=0.75):", "def noise_distribution(counts, power=1.0):",
     "noise words drawn from the unigram distribution, not unigram^(3/4)"),
    ("left = same & (reach[d:] >= d)", "left = same & (reach[:-d] >= d)",
     "left contexts use the window drawn for the wrong position"),
    ("W_in.index_add_(0, centers, grad_v, alpha=-lr)", "W_in[centers] = W_in[centers] - lr * grad_v",
     "the plain step assigns rows: of a center word repeated in the batch, only one gradient lands"),
    ("parent[right], turn[right] = inner, -1.0", "parent[right], turn[right] = inner, 1.0",
     "both branches of a Huffman node take the same sign: sigma(x) twice, not sigma(x) + sigma(-x)"),
    ("return (F.logsigmoid(signs * scores) * (signs != 0)).sum(1)", "return F.logsigmoid(signs * scores).sum(1)",
     "the padding of short paths adds log sigma(0) = -log 2 per padded step"),
    ("cosines[np.arange(len(rows)), rows] = -np.inf", "cosines[np.arange(len(rows)), rows] = np.inf",
     "a query word counts as its own nearest neighbour"),
    ("return np.array([len(set(a) & set(b)) / k for a, b in zip(in_full, in_map, strict=True)])",
     "return np.array([np.mean(a == b) for a, b in zip(in_full, in_map, strict=True)])",
     "the neighbour lists are compared rank by rank, so a map that keeps a word's neighbours in another order loses them"),
    ("return distances[neighbours].mean() / np.median(np.delete(distances, query))",
     "return distances[neighbours].mean() / np.median(distances)",
     "the query's distance to itself (zero) counts among the distances to the other words"),
]

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def nb():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)      # tiny tensors: a second thread only adds waiting
    yield load_lesson("06_word2vec", profile="smoke")
    torch.set_num_threads(threads)


def zipf_counts(n_words=200, total=100_000):
    return np.maximum(1, np.round(total / np.arange(1, n_words + 1) / np.log(n_words))).astype(np.float64)


# ----------------------------------------------------------------------------- subsampling
def test_keep_probability_known_values(nb):
    keep = nb.gensim_keep_probability(np.array([4.0, 6.0]), 0.1)        # z = 4t and 6t
    np.testing.assert_allclose(keep, [(2 + 1) / 4, (math.sqrt(6) + 1) / 6])


def test_words_below_golden_ratio_squared_times_t_are_always_kept(nb):
    t, phi_squared = 1e-3, (3 + math.sqrt(5)) / 2                  # (sqrt(x) + 1) / x = 1 at x = phi^2
    z = np.array([0.5, 1.0, 2.0, 2.6, 2.63, 10.0, 100.0]) * t
    keep = nb.gensim_keep_probability(np.append(z, 1 - z.sum()), t)[:-1]
    assert np.all(keep[z <= 2.6 * t] == 1.0) and np.all(keep[z > phi_squared * t] < 1.0)
    assert np.all(np.diff(keep[z > phi_squared * t]) < 0), "more frequent words lose more"


def test_the_c_code_keeps_more_than_the_paper(nb):
    # exercise 1's reference (the paper's rule) never keeps more than the notebook's (gensim's) rule
    counts = zipf_counts()
    for t in (1e-5, 1e-3):
        assert np.all(reference.paper_keep_probability(counts, t) <= nb.gensim_keep_probability(counts, t) + 1e-12)


# ----------------------------------------------------------------------------- noise distribution
def test_noise_distribution_is_unigram_to_the_three_quarters(nb):
    np.testing.assert_allclose(nb.noise_distribution(np.array([16.0, 1.0])), [8 / 9, 1 / 9])   # 16^0.75 = 8
    counts = zipf_counts()
    noise, unigram = nb.noise_distribution(counts), counts / counts.sum()
    entropy = lambda p: -(p * np.log(p)).sum()
    assert entropy(noise) > entropy(unigram), "the power 3/4 flattens the distribution"
    assert noise[0] < unigram[0] and noise[-1] > unigram[-1], "frequent words drawn less, rare words more"


def test_noise_table_reproduces_the_distribution(nb):
    noise = nb.noise_distribution(zipf_counts(50))
    table = nb.noise_table_of(noise, 10_000)
    assert abs(len(table) - 10_000) <= 50
    np.testing.assert_allclose(np.bincount(table.numpy(), minlength=50) / len(table), noise, atol=5e-4)


# ----------------------------------------------------------------------------- skip-gram pairs
def test_vectorised_pairs_equal_the_slow_loop_on_the_same_draws(nb):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 30, 2000)
    sentences = np.sort(rng.integers(0, 60, 2000))
    c, o, n_kept = nb.skipgram_pairs(ids, sentences, np.ones(30), nb.WINDOW, np.random.default_rng(1))
    draws = np.random.default_rng(1)
    draws.random(len(ids))                                          # the keep draw comes first
    reach = draws.integers(1, nb.WINDOW + 1, size=len(ids))
    assert n_kept == len(ids)
    vectorised = Counter(zip(c.tolist(), o.tolist(), strict=True))
    looped = Counter(nb.skipgram_pairs_loop(ids.tolist(), sentences.tolist(), reach))
    # compared as multisets with a short message: pytest's diff of two long lists takes hours
    missing, extra = looped - vectorised, vectorised - looped
    assert not missing and not extra, (f"{sum(missing.values())} pairs of the loop are missing, "
                                       f"{sum(extra.values())} are extra, e.g. {list((missing or extra))[:3]}")


def test_dynamic_window_weights_near_words_more(nb):
    # one long sentence of distinct ids: the distance of a pair is |center - context|
    n, W = 20_000, nb.WINDOW
    c, o, n_kept = nb.skipgram_pairs(np.arange(n), np.zeros(n, dtype=np.int64), np.ones(n), W,
                                     np.random.default_rng(0))
    distance = np.abs(c - o)
    assert distance.min() == 1 and distance.max() == W
    share = np.bincount(distance, minlength=W + 1)[1:] / (2 * n)    # both sides of each position
    np.testing.assert_allclose(share, [(W - j + 1) / W for j in range(1, W + 1)], atol=0.02)
    assert abs(len(c) / n_kept - (W + 1)) < 0.05, "on average W + 1 contexts per center word"


def test_pairs_stay_in_their_sentence_and_dropped_words_never_appear(nb):
    # distinct ids (id = position), sentences of 7 words, every 50th word dropped by subsampling
    ids = np.arange(3000)
    sentences = ids // 7
    keep = np.where(ids % 50 == 0, 0.0, 1.0)
    c, o, n_kept = nb.skipgram_pairs(ids, sentences, keep, nb.WINDOW, np.random.default_rng(0))
    assert n_kept == 3000 - 60 and not np.any(c % 50 == 0) and not np.any(o % 50 == 0)
    assert np.array_equal(sentences[c], sentences[o]), "no pair crosses a sentence boundary"


# ----------------------------------------------------------------------------- the SGNS loss and gradients
def test_loss_at_zero_is_one_plus_k_log_2_and_equals_logistic_regressions(nb):
    B, K, D = 6, 5, 4
    zeros = torch.zeros(B, D)
    assert math.isclose(nb.sgns_loss(zeros, zeros, torch.zeros(B, K, D)).item(), B * (1 + K) * math.log(2),
                        rel_tol=1e-6)
    g = torch.Generator().manual_seed(0)
    v, u_pos, u_neg = torch.randn(B, D, generator=g), torch.randn(B, D, generator=g), torch.randn(B, K, D, generator=g)
    positive = F.binary_cross_entropy_with_logits((v * u_pos).sum(1), torch.ones(B), reduction="sum")
    negative = F.binary_cross_entropy_with_logits(torch.einsum("bd,bkd->bk", v, u_neg), torch.zeros(B, K),
                                                  reduction="sum")
    torch.testing.assert_close(nb.sgns_loss(v, u_pos, u_neg), positive + negative)


@pytest.mark.parametrize("pairs_per_group", [1, 4])
def test_hand_derived_gradients_equal_autograd(nb, pairs_per_group):
    B, K, D = 8, 5, 6
    g = torch.Generator().manual_seed(pairs_per_group)
    v = torch.randn(B, D, generator=g, dtype=torch.float64, requires_grad=True)
    u_pos = torch.randn(B, D, generator=g, dtype=torch.float64, requires_grad=True)
    u_neg = torch.randn(B // pairs_per_group, K, D, generator=g, dtype=torch.float64, requires_grad=True)
    nb.sgns_loss(v, u_pos, u_neg).backward()
    by_hand = nb.sgns_gradients(v.detach(), u_pos.detach(), u_neg.detach())
    for name, mine, auto in zip(("v_c", "u_o", "u_n"), by_hand, (v.grad, u_pos.grad, u_neg.grad), strict=True):
        torch.testing.assert_close(mine, auto, rtol=1e-12, atol=1e-12, msg=name)


def test_row_scales_multiply_each_rows_gradient(nb):
    B, K, D, groups = 8, 5, 6, 2
    g = torch.Generator().manual_seed(0)
    v, u_pos, u_neg = torch.randn(B, D, generator=g), torch.randn(B, D, generator=g), torch.randn(groups, K, D, generator=g)
    s_center, s_pos, s_neg = torch.rand(B, generator=g), torch.rand(B, generator=g), torch.rand(groups, K, generator=g)
    plain = nb.sgns_gradients(v, u_pos, u_neg)
    scaled = nb.sgns_gradients(v, u_pos, u_neg, s_center, s_pos, s_neg)
    torch.testing.assert_close(scaled[0], plain[0] * s_center[:, None])
    torch.testing.assert_close(scaled[1], plain[1] * s_pos[:, None])
    torch.testing.assert_close(scaled[2], plain[2] * s_neg[:, :, None])


# ----------------------------------------------------------------------------- the full softmax
def test_full_softmax_is_minus_log_softmax_of_all_scores(nb):
    g = torch.Generator().manual_seed(0)
    B, V, D = 5, 40, 6
    v = torch.randn(B, D, generator=g, dtype=torch.float64)
    U = torch.randn(V, D, generator=g, dtype=torch.float64)
    o = torch.randint(V, (B,), generator=g)
    expected = -torch.log_softmax(v @ U.T, dim=1)[torch.arange(B), o].sum()
    torch.testing.assert_close(nb.full_softmax_loss(v, U, o), expected, rtol=1e-12, atol=1e-12)
    written = -(v * U[o]).sum(1) + torch.logsumexp(v @ U.T, dim=1)         # -u_o.v_c + log sum_w exp(u_w.v_c)
    torch.testing.assert_close(nb.full_softmax_loss(v, U, o), written.sum(), rtol=1e-12, atol=1e-12)
    assert math.isclose(nb.full_softmax_loss(v, torch.zeros(V, D, dtype=torch.float64), o).item(), B * math.log(V))


# ----------------------------------------------------------------------------- one plain SGD step
def repeated_batch(V=30, B=64, K=5, seed=0):
    """A batch in which words repeat (few words, many pairs), as frequent words do in a real batch."""
    g = torch.Generator().manual_seed(seed)
    c, o, n = torch.randint(V, (B,), generator=g), torch.randint(V, (B,), generator=g), torch.randint(V, (B, K), generator=g)
    assert len(c.unique()) < B and len(o.unique()) < B
    return c, o, n, g


def test_sgd_step_by_hand_equals_autograd_with_repeated_words(nb):
    V, D, lr = 30, 6, 0.1
    c, o, n, g = repeated_batch(V)
    W_in = torch.randn(V, D, generator=g, dtype=torch.float64) * 0.3
    W_out = torch.randn(V, D, generator=g, dtype=torch.float64) * 0.3
    auto_in, auto_out = W_in.clone().requires_grad_(), W_out.clone().requires_grad_()
    nb.batch_sgns_loss(auto_in, auto_out, c, o, n).backward()
    by_hand_in, by_hand_out = W_in.clone(), W_out.clone()
    nb.sgns_sgd_step(by_hand_in, by_hand_out, c, o, n, lr)
    torch.testing.assert_close(by_hand_in, W_in - lr * auto_in.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(by_hand_out, W_out - lr * auto_out.grad, rtol=1e-12, atol=1e-12)


def test_sgd_step_lowers_the_batch_loss_by_lr_times_the_squared_gradient(nb):
    V, D = 30, 6
    c, o, n, g = repeated_batch(V, seed=1)
    W_in, W_out = torch.randn(V, D, generator=g, dtype=torch.float64), torch.randn(V, D, generator=g, dtype=torch.float64)
    auto_in, auto_out = W_in.clone().requires_grad_(), W_out.clone().requires_grad_()
    before = nb.batch_sgns_loss(auto_in, auto_out, c, o, n)
    before.backward()
    squared = (auto_in.grad.square().sum() + auto_out.grad.square().sum()).item()
    for lr in (1e-4, 1e-3):
        stepped_in, stepped_out = W_in.clone(), W_out.clone()
        nb.sgns_sgd_step(stepped_in, stepped_out, c, o, n, lr)
        drop = (before - nb.batch_sgns_loss(stepped_in, stepped_out, c, o, n)).item()
        assert drop > 0 and math.isclose(drop, lr * squared, rel_tol=0.05), (lr, drop, lr * squared)


def test_sgd_step_equals_the_naive_models_torch_optim_step(nb):
    V, D, lr = 30, 6, 0.05
    c, o, n, _ = repeated_batch(V, seed=2)
    torch.manual_seed(0)
    naive = nb.NaiveSkipGram(V, D)
    W_in, W_out = naive.center.weight.detach().clone(), naive.context.weight.detach().clone()
    start = W_in.clone()
    optimizer = torch.optim.SGD(naive.parameters(), lr=lr * len(c))      # the model's loss is a mean
    for _ in range(3):                     # U = 0 at the start: the second step is the first to move v
        optimizer.zero_grad()
        naive(c, o, n).backward()
        optimizer.step()
        nb.sgns_sgd_step(W_in, W_out, c, o, n, lr)
    assert (W_in - start).abs().max() > 1e-3, "the center vectors moved"
    torch.testing.assert_close(naive.center.weight.detach(), W_in, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(naive.context.weight.detach(), W_out, rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------- hierarchical softmax
def test_huffman_code_lengths_on_a_known_case(nb):
    # counts 5, 2, 1, 1: join 1 + 1, then 2 + 2, then 4 + 5 -> path lengths 1, 2, 3, 3
    _, signs = nb.huffman_paths(np.array([5.0, 2.0, 1.0, 1.0]))
    assert (signs != 0).sum(1).tolist() == [1, 2, 3, 3]
    _, signs = nb.huffman_paths(np.ones(8))
    assert (signs != 0).sum(1).tolist() == [3] * 8, "equal counts: a balanced tree"


def test_huffman_paths_form_a_prefix_code_within_one_bit_of_the_entropy(nb):
    counts = zipf_counts(300)
    nodes, signs = nb.huffman_paths(counts)
    lengths = (signs != 0).sum(1)
    codes = [tuple(zip(nodes[w, :lengths[w]].tolist(), signs[w, :lengths[w]].tolist(), strict=True)) for w in range(300)]
    assert all(code[0][0] == codes[0][0][0] for code in codes), "every path starts at the root"
    as_set = set(codes)
    assert len(as_set) == 300 and not any(code[:k] in as_set for code in codes for k in range(1, len(code))), \
        "no word's path is the beginning of another's"
    assert nodes.max() == 298 and set(nodes[signs != 0].tolist()) == set(range(299)), "V - 1 inner nodes, all used"
    z = counts / counts.sum()
    entropy, mean_length = -(z * np.log2(z)).sum(), (z * lengths.numpy()).sum()
    assert entropy <= mean_length < entropy + 1
    more_frequent, longer = counts[:, None] > counts[None, :], lengths[:, None] > lengths[None, :]
    assert not (torch.from_numpy(more_frequent) & longer).any(), "a more frequent word never has a longer path"


def test_huffman_tree_is_as_short_as_gensims(nb):
    counts = zipf_counts(200, 20_000).astype(np.int64)
    words = np.repeat(np.arange(200), counts)
    np.random.default_rng(0).shuffle(words)
    model = Word2Vec(vector_size=4, min_count=1, hs=1, negative=0)
    model.build_vocab([[f"w{i}" for i in piece] for piece in np.array_split(words, 100)])
    gensim_total = sum(model.wv.get_vecattr(w, "count") * len(model.wv.get_vecattr(w, "code")) for w in model.wv.index_to_key)
    _, signs = nb.huffman_paths(counts.astype(np.float64))
    assert int((counts * (signs != 0).sum(1).numpy()).sum()) == gensim_total


def test_hierarchical_softmax_is_a_distribution_and_a_product_of_sigmoids(nb):
    V, D = 50, 5
    g = torch.Generator().manual_seed(0)
    nodes, signs = nb.huffman_paths(zipf_counts(V))
    node_vectors = torch.randn(V - 1, D, generator=g, dtype=torch.float64)
    for center in torch.randn(3, D, generator=g, dtype=torch.float64):
        words = torch.arange(V)
        log_p = nb.hs_log_probability(center.expand(V, D), node_vectors[nodes[words]], signs[words])
        assert abs(log_p.exp().sum().item() - 1) < 1e-12, "the leaves' probabilities sum to one"
        word = V - 1                                             # the rarest word: the longest path
        product = 1.0
        for node, sign in zip(nodes[word].tolist(), signs[word].tolist(), strict=True):
            if sign != 0:
                product *= torch.sigmoid(sign * node_vectors[node] @ center).item()
        assert math.isclose(log_p[word].exp().item(), product, rel_tol=1e-12)


# ----------------------------------------------------------------------------- the row cap's count
def test_pair_gradients_per_row_counts_what_each_row_receives(nb):
    centers, contexts = torch.tensor([0, 0, 1, 2]), torch.tensor([1, 3, 0, 0])
    noise = torch.tensor([[3, 3], [1, 2]])                       # 2 groups of 2 pairs, K = 2
    hits_in, hits_out = nb.pair_gradients_per_row(centers, contexts, noise, 5, 2)
    assert hits_in.tolist() == [6, 3, 3, 0, 0]                   # (1 + K) per occurrence as a center
    assert hits_out.tolist() == [2, 1 + 2, 2, 1 + 4, 0]          # 1 per context, group size per noise draw


# ----------------------------------------------------------------------------- the fast trainer
def two_word_sentences(n_sentences=40, vocab_size=12):
    """Sentences of two words: every window holds the other word, whatever the draws, so an
    epoch's pairs are known: (a, b) and (b, a) for each sentence."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, vocab_size - 1, size=2 * n_sentences)
    return ids, np.repeat(np.arange(n_sentences), 2)


@pytest.mark.parametrize("group", [1, 2, 4])
def test_fast_trainer_takes_the_plain_autograd_sgd_steps(nb, group):
    # noise table of one word (the last): the noise draws are known too, so the fused, index_add_,
    # shared-negative update must equal plain SGD on the notebook's NaiveSkipGram, step by step
    V, D, epochs, lr = 12, 6, 3, 0.1
    ids, sentences = two_word_sentences(vocab_size=V)
    table = torch.full((10,), V - 1)
    args = (ids, sentences, np.ones(V), table)
    start, _, _ = nb.train_sgns(*args, 0, D, 10_000, group, lr, float("inf"), 1, CPU, 3)   # 0 epochs: the init
    fast, losses, stats = nb.train_sgns(*args, epochs, D, 10_000, group, lr, float("inf"), 1, CPU, 3)
    assert stats["pairs"] == epochs * len(ids) and math.isclose(losses[0][1], (1 + nb.NEGATIVES) * math.log(2), rel_tol=1e-6)

    plain = nb.NaiveSkipGram(V, D)
    with torch.no_grad():
        plain.center.weight.copy_(start)
    c = torch.from_numpy(np.stack([ids[0::2], ids[1::2]], 1).ravel())
    o = torch.from_numpy(np.stack([ids[1::2], ids[0::2]], 1).ravel())
    n = torch.full((len(c), nb.NEGATIVES), V - 1)
    optimizer = torch.optim.SGD(plain.parameters(), lr=1.0)
    for epoch in range(epochs):
        optimizer.param_groups[0]["lr"] = lr * (1 - epoch / epochs) * len(c)    # the loss is a mean
        optimizer.zero_grad()
        plain(c, o, n).backward()
        optimizer.step()
    assert (fast - start).abs().max() > 0.1, "the vectors moved"
    torch.testing.assert_close(fast, plain.center.weight.detach(), rtol=1e-4, atol=1e-5)


def test_row_cap_keeps_a_large_batch_stable(nb):
    # one word is half the corpus, one batch per epoch: without the cap its summed step explodes
    rng = np.random.default_rng(0)
    ids = np.where(rng.random(10_000) < 0.5, 0, rng.integers(1, 200, 10_000))
    sentences = np.repeat(np.arange(100), 100)
    table = nb.noise_table_of(nb.noise_distribution(np.bincount(ids, minlength=200).astype(float)), 100_000)
    largest = {}
    for cap in (nb.ROW_CAP, float("inf")):
        vectors, losses, _ = nb.train_sgns(ids, sentences, np.ones(200), table, 2, 16, 1 << 20, 64, 0.05, cap,
                                           1, CPU, 0)
        largest[cap] = vectors.abs().max().item()
        if cap == nb.ROW_CAP:
            assert losses[1][1] < losses[0][1], "capped: the loss falls"
    assert largest[nb.ROW_CAP] < 1.0 and largest[float("inf")] > 100 * largest[nb.ROW_CAP]


def test_fast_trainer_learns_planted_topics(nb):
    # two topics of 10 words; every sentence uses one topic: vectors of a topic must cluster
    rng = np.random.default_rng(0)
    topic = rng.integers(0, 2, 300)
    ids = (rng.integers(0, 10, (300, 10)) + 10 * topic[:, None]).ravel()
    sentences = np.repeat(np.arange(300), 10)
    table = nb.noise_table_of(nb.noise_distribution(np.bincount(ids, minlength=20).astype(float)), 100_000)
    vectors, losses, _ = nb.train_sgns(ids, sentences, np.ones(20), table, 5, 16, 512, 8, 0.05, nb.ROW_CAP,
                                       1, CPU, 0)
    assert losses[-1][1] < 0.7 * losses[0][1], "the loss falls"
    unit = F.normalize(vectors, dim=1)
    cosines, label = unit @ unit.T, torch.arange(20) // 10
    same = (label[:, None] == label[None]) & ~torch.eye(20, dtype=torch.bool)
    assert cosines[same].mean() > cosines[label[:, None] != label[None]].mean() + 0.2


# ----------------------------------------------------------------------------- gensim on the same corpus
def test_gensim_keeps_the_words_our_subsampling_keeps(nb):
    counts = zipf_counts(300, 60_000).astype(np.int64)
    words = np.repeat(np.arange(300), counts)
    np.random.default_rng(0).shuffle(words)
    sentences = [[f"w{i}" for i in piece] for piece in np.array_split(words, len(words) // 100)]
    model, stats = nb.train_gensim(Word2Vec, sentences, 2, vector_size=8, window=nb.WINDOW, negative=2,
                                   sample=1e-3, min_count=1, workers=1, seed=0)
    assert len(model.wv) == 300
    expected = 2 * (nb.gensim_keep_probability(counts.astype(np.float64), 1e-3) * counts).sum()
    assert abs(stats["effective_words"] / expected - 1) < 0.02
    assert stats["seconds"] > 0


# ----------------------------------------------------------------------------- evaluation helpers
def test_related_pairs_beat_shuffled_partners(nb):
    g = torch.Generator().manual_seed(0)
    base = torch.randn(10, 16, generator=g)
    matrix = torch.cat([base, base + 0.05 * torch.randn(10, 16, generator=g)]).numpy()
    words = [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)]
    kv = nb.as_keyed_vectors(matrix, words)
    assert kv.index_to_key == words
    related, shuffled = nb.related_vs_shuffled(kv, [(f"a{i}", f"b{i}") for i in range(10)], seed=0)
    assert related.min() > 0.99 and shuffled.mean() < 0.5


def test_read_scored_pairs_and_section_accuracy(nb, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# Word 1\tWord 2\tScore\nTiger\tcat\t7.35\nbook\tpaper\t7.46\n", encoding="utf-8")
    assert nb.read_scored_pairs(path) == [("tiger", "cat", 7.35), ("book", "paper", 7.46)]
    sections = [{"section": "capital-common-countries", "correct": [1, 2], "incorrect": [3]},
                {"section": "gram1-adjective-to-adverb", "correct": [1], "incorrect": [2, 3, 4]},
                {"section": "Total accuracy", "correct": [], "incorrect": []}]
    assert nb.section_accuracy(sections, syntactic=False) == 2 / 3
    assert nb.section_accuracy(sections, syntactic=True) == 1 / 4


def test_unseen_variant_drops_a_middle_letter_not_in_the_vocabulary(nb):
    assert nb.unseen_variant("example", known={"example"}) == "exaple"
    assert nb.unseen_variant("example", known={"example", "exaple"}) == "examle"
    assert nb.unseen_variant("ab", known=set()) is None


# ----------------------------------------------------------------------------- the look inside: 2-D maps
def circle(n=12):
    """n unit vectors around a circle: the neighbours of a point are known, the points beside it."""
    angles = 2 * np.pi * np.arange(n) / n
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def test_nearest_neighbours_are_by_cosine_nearest_first_and_leave_the_word_out(nb):
    unit = circle(12)
    neighbours = nb.nearest_neighbours(unit, np.array([0, 5]), 4)
    assert sorted(neighbours[0][:2]) == [1, 11] and sorted(neighbours[0][2:]) == [2, 10]
    assert sorted(neighbours[1][:2]) == [4, 6] and 5 not in neighbours[1]
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((50, 8))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = unit @ unit.T
    for row, found in zip([3, 17, 42], nb.nearest_neighbours(unit, np.array([3, 17, 42]), 5), strict=True):
        expected = [i for i in np.argsort(-cosines[row]) if i != row][:5]
        assert found.tolist() == expected


def test_neighbour_retention_is_one_for_a_faithful_map_and_chance_for_a_random_one(nb):
    rng = np.random.default_rng(0)
    points = rng.standard_normal((400, 2))
    k = 10
    assert nb.neighbour_retention(points, points, k).tolist() == [1.0] * 400
    assert nb.neighbour_retention(points, 3 * points + 1, k).mean() == 1.0, "scaling keeps every neighbour"
    shuffled = nb.neighbour_retention(points, rng.permutation(points), k)
    assert abs(shuffled.mean() - k / 399) < 0.01, "a random map keeps k / (n - 1)"
    # points on 3 far-apart lines in 3-D, flattened onto the plane that puts the lines on top of each other:
    # a point keeps about a third of its neighbours (those from its own line)
    line = np.repeat(np.arange(3), 100)
    full = np.stack([np.tile(np.linspace(0, 1, 100), 3), np.zeros(300), 100.0 * line], axis=1)
    full[:, 1] = rng.normal(0, 0.001, 300)
    kept = nb.neighbour_retention(full, full[:, :2], 6).mean()
    assert 0.2 < kept < 0.5, kept


def test_neighbour_retention_compares_the_neighbour_sets_not_their_order(nb):
    # four points on a line at 0, 1, 3, 6: point 0's two nearest are 1 and 3; a map that keeps the sets but
    # swaps their order still keeps them all
    full = np.array([[0.0], [1.0], [3.0], [6.0]])
    swapped = np.array([[0.0], [2.0], [1.5], [6.0]])            # point 0's nearest: 2 then 1
    assert nb.neighbour_retention(full, swapped, 2)[0] == 1.0
    assert nb.neighbour_retention(full, np.array([[0.0], [5.0], [1.0], [2.0]]), 2)[0] == 0.5   # 3 kept, 1 lost


def test_neighbourhood_spread_is_the_neighbours_distance_over_the_median(nb):
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [4.0, 0.0], [0.0, 6.0], [8.0, 0.0]])
    # from point 0: neighbours 1 and 2 at distance 1; the others at 1, 1, 4, 6, 8 -> median 4
    assert math.isclose(nb.neighbourhood_spread(points, 0, [1, 2]), 1 / 4)
    assert math.isclose(nb.neighbourhood_spread(points, 0, [3, 5]), 6 / 4)
    assert nb.neighbourhood_spread(points, 3, [1, 5]) < 1 < nb.neighbourhood_spread(points, 3, [4])


def test_zoom_window_frames_the_group_with_a_margin(nb):
    points = np.array([[0.0, 0.0], [2.0, 1.0], [10.0, 10.0]])
    assert nb.zoom_window(points, [0, 1], margin=0.5) == (-1.0, 3.0, -1.0, 2.0)
    x0, x1, y0, y1 = nb.zoom_window(points, [2])                # one point: still a window around it
    assert x0 < 10 < x1 and y0 < 10 < y1


def test_draw_neighbourhoods_colours_each_group_and_labels_its_words(nb):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = np.random.default_rng(0).standard_normal((20, 2))
    labels = [f"w{i}" for i in range(20)]
    _, ax = plt.subplots()
    nb.draw_neighbourhoods(ax, points, [[0, 1, 2], [5, 6]], labels, "map")
    assert [t.get_text() for t in ax.texts] == ["w0", "w1", "w2", "w5", "w6"]
    assert ax.texts[0].get_fontweight() == "bold" and ax.texts[1].get_fontweight() == "normal"
    _, ax = plt.subplots()
    nb.draw_neighbourhoods(ax, points, [[0, 1, 2], [5, 6]], labels, "map", label_neighbours=False)
    assert [t.get_text() for t in ax.texts] == ["w0", "w5"], "only the queries"
    plt.close("all")


# ----------------------------------------------------------------------------- exercise self-checks
@pytest.fixture(scope="module")
def exercises():
    return Exercises("06_word2vec")


def test_exercise_1_check_rejects_wrong_answers(exercises):
    cases = [(zipf_counts(), 1e-5), (np.array([1, 10, 100, 10_000]), 1e-3)]

    def written_differently(counts, threshold):
        counts = np.asarray(counts, dtype=float)
        return np.clip((threshold * counts.sum() / counts) ** 0.5, None, 1.0)

    def discard_probability(counts, threshold):       # the complement: a classic mix-up
        return 1 - written_differently(counts, threshold)

    def unclipped(counts, threshold):
        counts = np.asarray(counts, dtype=float)
        return np.sqrt(threshold / (counts / counts.sum()))

    assert exercises.check_function(written_differently, cases, name="paper_keep_probability")
    for wrong in (discard_probability, unclipped):
        assert not exercises.check_function(wrong, cases, name="paper_keep_probability"), wrong.__name__


def test_exercise_2_check_rejects_wrong_answers(exercises):
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn(4, 8, generator=g), torch.randn(8, generator=g), torch.randn(5, 8, generator=g))]

    def as_logistic_regressions(context, target, negatives):
        h = context.mean(0)
        return F.binary_cross_entropy_with_logits(torch.cat([(target @ h)[None], negatives @ h]),
                                                  torch.tensor([1.0] + [0.0] * len(negatives)), reduction="sum")

    def summed_context(context, target, negatives):
        return as_logistic_regressions(context * len(context), target, negatives)

    def positive_only(context, target, negatives):
        return -F.logsigmoid(target @ context.mean(0))

    assert exercises.check_function(as_logistic_regressions, cases, name="cbow_negative_sampling_loss")
    for wrong in (summed_context, positive_only):
        assert not exercises.check_function(wrong, cases, name="cbow_negative_sampling_loss"), wrong.__name__


def test_exercise_3_check_rejects_wrong_answers(exercises):
    g = torch.Generator().manual_seed(0)
    words = [f"w{i}" for i in range(30)]
    vectors = torch.randn(30, 10, generator=g)
    planted = vectors.clone()
    planted[7] = F.normalize(planted[1], dim=0) - F.normalize(planted[0], dim=0) + F.normalize(planted[2], dim=0)
    assert reference.analogy(planted, words, "w0", "w1", "w2") == "w7"
    cases = [(vectors, words, "w0", "w1", "w2"), (vectors, words, "w5", "w3", "w9"), (planted, words, "w0", "w1", "w2")]

    def not_excluding(vectors, words, a, b, c):
        unit = F.normalize(torch.as_tensor(vectors), dim=1)
        i = {w: k for k, w in enumerate(words)}
        return words[int((unit @ (unit[i[b]] - unit[i[a]] + unit[i[c]])).argmax())]

    def wrong_direction(vectors, words, a, b, c):
        return reference.analogy(vectors, words, b, a, c)

    for wrong in (not_excluding, wrong_direction):
        assert not exercises.check_function(wrong, cases, name="analogy"), wrong.__name__

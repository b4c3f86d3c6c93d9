"""Notebook 07 (sequence to sequence): its own encoder, decoder, loss, greedy decoding, beam search,
copy task and translation data, loaded from the notebook (utils.lessons), and the discrimination
of its exercise self-checks."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils.checks import Exercises
from utils.lessons import load_lesson
from utils.text import BOS_ID, EOS_ID, PAD_ID, PairBatches

MUTATIONS = [
    ("top = candidates.flatten().topk(min(width, candidates.numel()))",
     "top = candidates.flatten().topk(min(width, candidates.numel()), largest=False)",
     "beam search keeps the worst candidates instead of the best"),
    ("pack_padded_sequence(self.embed(src), lengths.cpu(),",
     "pack_padded_sequence(self.embed(src), torch.full_like(lengths.cpu(), src.shape[1]),",
     "the encoder packs every row at full length, so it runs over the padding"),
    ("targets.reshape(-1), ignore_index=PAD_ID)", "targets.reshape(-1))",
     "the loss averages over padding positions too"),
    ('metric = BLEU(tokenize="none", force=True)', "metric = BLEU(force=True)",
     "BLEU re-tokenises the words with 13a, which cuts every <unk> into the three tokens < unk >"),
    ("key=lambda i: len(word_tokenize(sources[i])))", "key=lambda i: len(sources[i]))",
     "the sentences are sorted by characters instead of words"),
    ("np.array_split(np.array(order, dtype=int), 4)", "np.array_split(np.array(order, dtype=int)[::-1], 4)",
     "the quarters come longest first, so the 'longest quartile' holds the shortest sentences"),
    ("[references[i] for i in group]", "[references[i] for i in quartiles[0]]",
     "each quarter's hypotheses are scored against the first quarter's references"),
    ("f[1] / length_penalty(len(f[0]) + 1, alpha)", "f[1] / length_penalty(len(f[0]), alpha)",
     "the length penalty leaves out the <eos> that each finished hypothesis ends with"),
    ('tree.append(BeamNode(step, parent_nodes[parent], token, score, "finished"',
     'tree.append(BeamNode(step, parent, token, score, "finished"',
     "the tree records the beam's row as the parent instead of that beam's node"),
    ("if i not in in_beam]", "]",
     "the candidates 'pruned at the cut' include the ones the beam kept"),
]

A, B, C = 3, 4, 5          # three ordinary tokens after the specials <pad> <bos> <eos> <unk>


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("07_seq2seq", profile="smoke")


@pytest.fixture(scope="module")
def batch(nb):
    dates = nb.date_data(200, 40, seed=0)
    src, lengths, tgt = next(iter(PairBatches(dates.test_ids[:16], batch_size=16, shuffle=False)))
    return dates, src, lengths, tgt


def small_model(nb, dates, seed=0):
    torch.manual_seed(seed)
    return nb.Seq2Seq(len(dates.src_vocab), len(dates.tgt_vocab), 8, 16).eval()


class FixedModel(nn.Module):
    """A decoder with fixed next-token probabilities, ``table[tokens so far] = {token: p}``, written
    to notebook 07's decoder interface (start / step, the tokens so far as the state)."""

    def __init__(self, table, default, vocab_size=6):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))       # the decoders take the device from here
        self.table, self.default, self.vocab_size = table, default, vocab_size

    def start(self, src, lengths):
        return (torch.zeros(len(src), 0, dtype=torch.long, device=src.device),)

    def step(self, state, y_prev):
        prefix = torch.cat([state[0], y_prev[:, None]], dim=1)
        logits = torch.full((len(prefix), self.vocab_size), -30.0)
        for i, row in enumerate(prefix.tolist()):
            for token, p in self.table.get(tuple(row[1:]), self.default).items():
                logits[i, token] = math.log(p)
        return logits, (prefix,), None


class Copier(nn.Module):
    """Writes its input back, at most ``limit`` symbols, then <eos>: a perfect copier up to limit."""

    def __init__(self, vocab_size, limit=1000):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))
        self.vocab_size, self.limit = vocab_size, limit

    def start(self, src, lengths):
        return src, torch.zeros(len(src), dtype=torch.long, device=src.device)

    def step(self, state, y_prev):
        src, position = state
        token = src.gather(1, position.clamp(max=src.shape[1] - 1)[:, None])[:, 0]
        stop = (position >= min(src.shape[1], self.limit)) | (token == PAD_ID)
        token = torch.where(stop, torch.full_like(token, EOS_ID), token)
        return 10.0 * F.one_hot(token, self.vocab_size).float(), (src, position + 1), None


# ----------------------------------------------------------------------------- data
def test_date_data_uses_the_course_special_ids_and_keeps_test_inputs_out_of_training(nb):
    dates = nb.date_data(300, 50, seed=0)
    assert (dates.src_vocab.pad_id, dates.tgt_vocab.bos_id, dates.tgt_vocab.eos_id) == (PAD_ID, BOS_ID, EOS_ID)
    assert not {h for h, _ in dates.test} & {h for h, _ in dates.train}
    assert dates.max_len == 11                                  # "YYYY-MM-DD" and <eos>
    (src, tgt), (human, iso) = dates.test_ids[0], dates.test[0]
    assert "".join(dates.src_vocab.decode(src)) == human
    assert tgt[0] == BOS_ID and tgt[-1] == EOS_ID and "".join(dates.tgt_vocab.decode(tgt[1:-1])) == iso
    assert nb.date_data(300, 50, seed=0).train == dates.train   # the same seed, the same data


def test_copy_task_data_is_the_same_as_before_the_refactoring(nb):
    task = nb.copy_task(20, (2, 14), 50, 4, seed=0)
    # the strings the notebook's copy task produced before its code moved into copy_task
    assert [s for s, _ in nb.copy_pairs(3, 0, task.alphabet, (2, 14))] == ["nbiqpmjp", "sgqejed", "irtejdckprd"]
    assert list(task.test) == list(range(2, 15))
    assert all(len(s) == n and s == t for n, pairs in task.test.items() for s, t in pairs)
    assert all(len(pairs) == 4 for pairs in task.test.values())
    assert all(2 <= len(src) <= 14 and tgt[1:-1] == src for src, tgt in task.train_ids)


def test_translation_data_filters_encodes_and_tokenises_references(nb):
    corpus = {"train": [("A dog runs.", "Ein Hund rennt."), ("A dog runs fast.", "Ein Hund rennt schnell."),
                        ("one two three four five six seven", "eins zwei"), ("A cat.", "Eine Katze.")],
              "test": [("A dog sleeps.", "Ein Hund schläft.")]}
    data = nb.translation_data(corpus, max_len=5, train_limit=2, min_count=2)
    assert data.train == corpus["train"][:2]                    # 8 tokens > 5 dropped, then the limit
    assert "dog" in data.src_vocab and "fast" not in data.src_vocab   # seen once < min_count
    assert data.references == ["ein hund schläft ."]
    assert data.src_vocab.decode(data.test_ids[0][0]) == ["a", "dog", "<unk>", "."]


# ----------------------------------------------------------------------------- encoder and decoder
def test_packing_keeps_padding_out_of_the_thought_vector(nb, batch):
    dates, src, lengths, _ = batch
    assert (lengths < src.shape[1]).any(), "the batch must have padded rows"
    torch.manual_seed(0)
    encoder = nb.Encoder(len(dates.src_vocab), 8, 16).eval()
    with torch.no_grad():
        states, thought = encoder(src, lengths)
        alone = torch.cat([encoder(src[i:i + 1, :lengths[i]], lengths[i:i + 1])[1] for i in range(len(src))])
        _, unpacked = encoder.rnn(encoder.embed(src))
    assert thought.shape == (16, 16) and states.shape == (16, src.shape[1], 16)
    assert torch.allclose(thought, alone, atol=1e-5)
    padded = lengths < src.shape[1]
    leaked = torch.cat([unpacked[0], unpacked[1]], -1)
    assert (leaked - alone)[padded].abs().max() > 1e-3, "the negative control: without packing padding leaks in"
    assert (states[~(torch.arange(src.shape[1])[None] < lengths[:, None])] == 0).all(), "states at padding are zero"


def test_teacher_forced_forward_equals_step_by_step(nb, batch):
    dates, src, lengths, tgt = batch
    model = small_model(nb, dates)
    with torch.no_grad():
        one_call = model(src, lengths, tgt[:, :-1])
        state, stepwise = model.start(src, lengths), []
        for t in range(tgt.shape[1] - 1):
            logits, state, weights = model.step(state, tgt[:, t])
            assert weights is None
            stepwise.append(logits)
    assert torch.allclose(one_call, torch.stack(stepwise, 1), atol=1e-5)


def test_masked_loss_is_the_mean_nll_over_real_tokens_and_ignores_padding(nb, batch):
    dates, src, lengths, tgt = batch
    torch.manual_seed(0)
    logits = torch.randn(*tgt.shape, len(dates.tgt_vocab))
    real = tgt != PAD_ID
    by_hand = -logits.log_softmax(-1).gather(-1, tgt[..., None])[..., 0][real].mean()
    assert torch.allclose(nb.sequence_loss(logits, tgt), by_hand, atol=1e-6)
    longer_logits = torch.cat([logits, torch.randn(len(tgt), 5, logits.shape[-1])], 1)
    longer_tgt = torch.cat([tgt, torch.full((len(tgt), 5), PAD_ID)], 1)
    assert torch.allclose(nb.sequence_loss(longer_logits, longer_tgt), by_hand, atol=1e-6)


def test_training_steps_lower_the_loss(nb):
    task = nb.copy_task(6, (2, 4), 256, 2, seed=0)
    torch.manual_seed(0)
    model = nb.Seq2Seq(len(task.vocab), len(task.vocab), 8, 16)
    history = nb.train_seq2seq(model, task.train_ids, 25, 16, 2e-2, 0, desc="test", progress=False)
    assert len(history.loss) == 25
    assert sum(history.loss[-5:]) / 5 < 0.8 * sum(history.loss[:5]) / 5


# ----------------------------------------------------------------------------- decoding
def test_cut_at_eos(nb):
    assert nb.cut_at_eos([A, B, EOS_ID, C]) == [A, B] and nb.cut_at_eos([A, B]) == [A, B]


def test_greedy_decode_returns_argmax_tokens_and_their_log_probability(nb, batch):
    dates, src, lengths, _ = batch
    model = small_model(nb, dates)
    with torch.no_grad():
        model.out.bias[EOS_ID] += 3.0                  # let the random model stop at various lengths
    rows, log_probs, weights = nb.greedy_decode(model, src, lengths, 12)
    assert weights is None and len(rows) == len(src)
    for i, row in enumerate(rows):
        ended = len(row) < 12
        y = torch.tensor([[BOS_ID] + row + ([EOS_ID] if ended else [])])
        with torch.no_grad():
            step_log_probs = model(src[i:i + 1, :lengths[i]], lengths[i:i + 1], y[:, :-1]).log_softmax(-1)[0]
        assert (step_log_probs.argmax(-1) == y[0, 1:]).all(), "each token is the most probable one"
        assert math.isclose(log_probs[i], step_log_probs.gather(1, y[0, 1:, None]).sum().item(), abs_tol=1e-4)


def test_greedy_decode_and_generate_use_only_the_decoder_interface(nb):
    task = nb.copy_task(6, (2, 9), 10, 3, seed=0)
    assert nb.copy_curve(Copier(len(task.vocab)), task) == [1.0] * 8
    curve = nb.copy_curve(Copier(len(task.vocab), limit=5), task)
    assert curve == [1.0] * 4 + [0.0] * 4, "scored per length, shortest first"
    assert nb.short_long(curve) == (1.0, 0.0)
    assert nb.short_long([1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0]) == (0.75, 0.25)


def test_greedy_bleu_of_a_perfect_translator_is_100(nb):
    sentences = [("the dog runs in the park", "the dog runs in the park"),
                 ("a cat sleeps on the red mat", "a cat sleeps on the red mat")]
    data = nb.translation_data({"train": sentences, "test": sentences}, 20, None, 1)
    assert data.src_vocab.itos == data.tgt_vocab.itos
    score, translations = nb.greedy_bleu(Copier(len(data.tgt_vocab)), data, max_len=10)
    assert translations == data.references and score == pytest.approx(100.0)


def test_corpus_bleu_scores_the_words_as_they_are_and_keeps_unk_one_word(nb):
    reference = ["ein mann mit einem roten hut spielt gitarre ."]
    assert nb.corpus_bleu(reference, reference)[0] == pytest.approx(100.0)
    with_unk, signature = nb.corpus_bleu(["ein mann mit einem <unk> hut spielt gitarre ."], reference)
    with_word, _ = nb.corpus_bleu(["ein mann mit einem blauen hut spielt gitarre ."], reference)
    assert with_unk == pytest.approx(with_word), "<unk> is one wrong word, like any other wrong word"
    assert 0 < with_unk < 100
    assert "tok:none" in signature and "nrefs:1" in signature, signature
    # the default 13a tokenizer would split <unk> into three tokens and score another figure
    from sacrebleu.metrics import BLEU
    split = BLEU().corpus_score(["ein mann mit einem <unk> hut spielt gitarre ."], [reference]).score
    assert split != pytest.approx(with_unk)


def test_source_length_quartiles_split_by_words_shortest_first_in_equal_groups(nb):
    # word counts 3, 1, 2, 5, 4, 1, 2, 3 (punctuation is a word); characters would order them otherwise
    sources = ["a b c", "extraordinarily", "hello there", "a b c d .", "x y z !", "unbelievably",
               "good morning", "one two three"]
    assert nb.source_length_quartiles(sources) == [[1, 5], [2, 6], [0, 7], [4, 3]]
    ten = nb.source_length_quartiles([" ".join("w" * k for k in range(1, n + 1)) for n in range(10, 0, -1)])
    assert [len(group) for group in ten] == [3, 3, 2, 2], "equal sizes up to one"
    assert ten[0] == [9, 8, 7] and ten[-1] == [1, 0], "shortest first, every sentence once"


def test_bleu_by_quartile_scores_each_group_against_its_own_references(nb):
    references = ["ein hund rennt schnell .", "eine frau liest ein buch .", "zwei kinder spielen fußball .",
                  "ein mann fährt ein rotes fahrrad ."]
    hypotheses = [references[0], "xx yy zz ww vv", references[2], references[3]]
    scores = nb.bleu_by_quartile(hypotheses, references, [[0, 2], [1], [3]])
    assert scores[0] == pytest.approx(100.0) and scores[2] == pytest.approx(100.0)
    assert scores[1] == pytest.approx(0.0)


def test_best_hypothesis_divides_by_the_length_penalty_of_tokens_and_eos(nb):
    short, long = ([A], -1.0), ([A, B, C, A], -1.46)
    assert nb.best_hypothesis([short, long], 0.0) == short, "raw scores: the more probable one"
    # alpha = 1: -1.0 / lp(2) = -0.857 beats -1.46 / lp(5) = -0.876 (counting <eos>; without it the long one wins)
    assert nb.best_hypothesis([short, long], 1.0) == short
    assert nb.best_hypothesis([short, ([A, B, C, A], -1.4)], 1.0)[0] == [A, B, C, A]


def test_beam_width_one_is_greedy_decoding(nb, batch):
    dates, src, lengths, _ = batch
    model = small_model(nb, dates, seed=1)
    with torch.no_grad():
        model.out.bias[EOS_ID] += 3.0
    for i in range(8):
        ids = src[i, :lengths[i]].tolist()
        (greedy_tokens,), (greedy_score,), _ = nb.greedy_decode(model, src[i:i + 1, :lengths[i]], lengths[i:i + 1], 12)
        tokens, score, _ = nb.beam_search(model, ids, width=1, max_len=12)
        assert tokens == greedy_tokens and math.isclose(score, greedy_score, abs_tol=1e-4)


def test_beam_search_finds_the_more_probable_output_that_greedy_misses(nb):
    # greedy: a (0.6), then c (0.4), then <eos>: p = 0.24; the beam also keeps b (0.4), then <eos> (0.9): p = 0.36
    model = FixedModel({(): {A: 0.6, B: 0.4}, (A,): {A: 0.3, B: 0.3, C: 0.4}, (A, C): {EOS_ID: 1.0},
                        (B,): {EOS_ID: 0.9, C: 0.1}}, default={C: 1.0})
    src, lengths = torch.tensor([[A]]), torch.tensor([1])
    (greedy_tokens,), (greedy_score,), _ = nb.greedy_decode(model, src, lengths, 10)
    tokens, score, finished = nb.beam_search(model, [A], width=2, max_len=10)
    assert greedy_tokens == [A, C] and math.isclose(greedy_score, math.log(0.24), abs_tol=1e-6)
    assert tokens == [B] and math.isclose(score, math.log(0.36), abs_tol=1e-6)
    assert sorted(t for t, _ in finished) == [[A, C], [B]]


def test_length_normalisation_lets_a_longer_output_win(nb):
    # raw: "b" (p 0.5) beats "a c c c c" (p 0.45); divided by lp with alpha = 1 the long one wins
    table = {(): {B: 0.5, A: 0.45, C: 0.05}, (B,): {EOS_ID: 1.0}, (A,): {C: 1.0}, (A, C): {C: 1.0},
             (A, C, C): {C: 1.0}, (A, C, C, C): {C: 1.0}, (A, C, C, C, C): {EOS_ID: 1.0}}
    model = FixedModel(table, default={C: 1.0})
    assert nb.beam_search(model, [A], width=2, max_len=10, alpha=0.0)[0] == [B]
    assert nb.beam_search(model, [A], width=2, max_len=10, alpha=1.0)[0] == [A, C, C, C, C]
    assert nb.length_penalty(1, 1.0) == 1.0 and math.isclose(nb.length_penalty(4, 1.0), 1.5)
    assert nb.length_penalty(10, 0.0) == 1.0


def test_beam_search_is_at_least_as_probable_as_greedy_and_reports_true_scores(nb, batch):
    dates, src, lengths, _ = batch
    model = small_model(nb, dates, seed=2)
    with torch.no_grad():
        model.out.weight.mul_(4.0)                      # a peaked random model, where choices matter
        model.out.bias[EOS_ID] += 2.0
    greedy, beam = [], []
    for i in range(len(src)):
        ids = src[i, :lengths[i]].tolist()
        (_,), (greedy_score,), _ = nb.greedy_decode(model, src[i:i + 1, :lengths[i]], lengths[i:i + 1], 12)
        tokens, score, _ = nb.beam_search(model, ids, width=4, max_len=12)
        greedy.append(greedy_score)
        beam.append(score)
        y = torch.tensor([[BOS_ID] + tokens + ([EOS_ID] if len(tokens) < 12 else [])])
        with torch.no_grad():
            log_p = model(src[i:i + 1, :lengths[i]], lengths[i:i + 1], y[:, :-1]).log_softmax(-1)[0]
        assert math.isclose(score, log_p.gather(1, y[0, 1:, None]).sum().item(), abs_tol=1e-4), \
            "the reported score is the output's log-probability under the model"
    assert sum(beam) >= sum(greedy) - 1e-6
    assert sum(b > g + 1e-6 for b, g in zip(beam, greedy, strict=True)) > 0, "on a peaked random model beam search finds better"


# ----------------------------------------------------------------------------- the look inside: the beam tree
def peaked_models(nb, dates):
    for seed in (3, 4):
        model = small_model(nb, dates, seed=seed)
        with torch.no_grad():
            model.out.weight.mul_(4.0)
            model.out.bias[EOS_ID] += 2.0
        yield model


def greedy_missing_model():
    # the model of test_beam_search_finds_the_more_probable_output_that_greedy_misses
    return FixedModel({(): {A: 0.6, B: 0.4}, (A,): {A: 0.3, B: 0.3, C: 0.4}, (A, C): {EOS_ID: 1.0},
                       (B,): {EOS_ID: 0.9, C: 0.1}}, default={C: 1.0})


def test_recording_the_tree_leaves_the_search_unchanged(nb, batch):
    dates, src, lengths, _ = batch
    for model in [greedy_missing_model(), *peaked_models(nb, dates)]:
        for i in range(4):
            ids = src[i, :lengths[i]].tolist()
            for width in (1, 3, 5):
                tree = []
                assert nb.beam_search(model, ids, width, 12, tree=tree) == nb.beam_search(model, ids, width, 12)
                assert tree, "something was recorded"


def test_the_tree_of_a_known_search(nb):
    # width 2. Step 0: a (0.6) and b (0.4) live. Step 1: b <eos> (0.36) finishes, a c (0.24) stays live,
    # a a and a b (0.18 each) are the best below the cut. Step 2: a c <eos> (0.24) finishes: two finished, stop
    close = lambda a, b: math.isclose(a, b, abs_tol=1e-6)      # float32 log-probabilities
    tree = []
    tokens, score, finished = nb.beam_search(greedy_missing_model(), [A], width=2, max_len=10, tree=tree)
    by_step = [[n for n in tree if n.step == t] for t in range(3)]
    assert len(tree) == 3 * 4 and all(len(nodes) == 4 for nodes in by_step)
    assert all(n.parent == -1 for n in by_step[0]), "the first tokens extend the start"
    step0 = {(n.token, n.status) for n in by_step[0] if n.status != "pruned"}
    assert step0 == {(A, "live"), (B, "live")}
    node_of = {tree[i].token: i for i in range(2)}
    kept = {(n.parent, n.token): (n.status, n.score) for n in by_step[1]}
    assert kept[(node_of[B], EOS_ID)][0] == "finished" and close(kept[(node_of[B], EOS_ID)][1], math.log(0.36))
    assert kept[(node_of[A], C)][0] == "live" and close(kept[(node_of[A], C)][1], math.log(0.24))
    assert {key for key, (status, _) in kept.items() if status == "pruned"} == {(node_of[A], A), (node_of[A], B)}
    assert all(close(s, math.log(0.18)) for status, s in kept.values() if status == "pruned")
    hypotheses = nb.tree_hypotheses(tree)
    assert sorted((t, round(s, 6)) for t, s, _ in hypotheses) == sorted((t, round(s, 6)) for t, s in finished)
    best_tokens, best_score, best_node = nb.best_hypothesis(hypotheses, 0.0)
    assert (best_tokens, best_score) == (tokens, score) == ([B], pytest.approx(math.log(0.36)))
    assert [tree[i].token for i in nb.tree_path(tree, best_node)] == [B, EOS_ID]


def test_the_tree_keeps_at_most_width_live_nodes_each_extending_a_live_node(nb, batch):
    dates, src, lengths, _ = batch
    for model in peaked_models(nb, dates):
        for i in range(6):
            width = 4
            tree = []
            tokens, score, _ = nb.beam_search(model, src[i, :lengths[i]].tolist(), width, 12, tree=tree)
            for step in range(max(n.step for n in tree) + 1):
                nodes = [n for n in tree if n.step == step]
                beam = [n for n in nodes if n.status != "pruned"]
                pruned = [n for n in nodes if n.status == "pruned"]
                assert len(beam) == width, "the beam takes `width` candidates each step"
                assert sum(n.status == "live" for n in nodes) <= width
                assert len(pruned) == width, "the best `width` candidates below the cut"
                assert not {(n.parent, n.token) for n in pruned} & {(n.parent, n.token) for n in beam}, \
                    "a pruned candidate is not one the beam kept"
                assert max(n.score for n in pruned) <= min(n.score for n in beam) + 1e-6
                assert all(n.status == ("finished" if n.token == EOS_ID else "live") for n in beam)
                for n in nodes:
                    if step == 0:
                        assert n.parent == -1
                    else:
                        parent = tree[n.parent]
                        assert parent.status == "live" and parent.step == step - 1
                        assert n.score <= parent.score + 1e-6, "scores only fall along a path"
            best_tokens, best_score, best_node = nb.best_hypothesis(nb.tree_hypotheses(tree), 0.0)
            assert best_tokens == tokens and best_score == score
            assert [tree[j].token for j in nb.tree_path(tree, best_node)][:len(tokens)] == tokens


def test_tree_scores_are_the_prefixes_log_probabilities(nb, batch):
    dates, src, lengths, _ = batch
    model = next(peaked_models(nb, dates))
    tree = []
    ids = src[0, :lengths[0]].tolist()
    nb.beam_search(model, ids, 3, 12, tree=tree)
    for node_index in range(0, len(tree), 5):
        path = [tree[j].token for j in nb.tree_path(tree, node_index)]
        y = torch.tensor([[BOS_ID] + path])
        with torch.no_grad():
            log_p = model(src[:1, :lengths[0]], lengths[:1], y[:, :-1]).log_softmax(-1)[0]
        assert math.isclose(tree[node_index].score, log_p.gather(1, y[0, 1:, None]).sum().item(), abs_tol=1e-4)


def test_tree_hypotheses_at_the_length_limit_are_the_live_prefixes(nb):
    model = FixedModel({}, default={C: 0.7, A: 0.3})             # never <eos>
    tree = []
    tokens, score, finished = nb.beam_search(model, [A], width=2, max_len=3, tree=tree)
    hypotheses = nb.tree_hypotheses(tree)
    assert all(tree[node].step == 2 and tree[node].status == "live" for _, _, node in hypotheses)
    assert sorted((t, round(s, 6)) for t, s, _ in hypotheses) == sorted((t, round(s, 6)) for t, s in finished)
    assert nb.best_hypothesis(hypotheses, 0.0)[:2] == (tokens, score) and tokens == [C, C, C]


def test_draw_beam_tree_highlights_the_chosen_path_and_draws_every_node(nb):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tree = []
    tokens, _, _ = nb.beam_search(greedy_missing_model(), [A], width=2, max_len=10, tree=tree)
    chosen = nb.best_hypothesis(nb.tree_hypotheses(tree), 0.0)[2]
    _, ax = plt.subplots()
    highlighted = nb.draw_beam_tree(ax, tree, chosen, str)
    assert highlighted == nb.tree_path(tree, chosen) and [tree[i].token for i in highlighted] == tokens + [EOS_ID]
    assert len(ax.texts) == len(tree) + 1, "every node and the start"
    red = [line for line in ax.lines if line.get_color() == "C3" and line.get_linewidth() == 2.5]
    assert len(red) == len(highlighted), "one red edge into each node of the chosen path"
    plt.close("all")


# ----------------------------------------------------------------------------- exercises
@pytest.fixture(scope="module")
def exercises():
    return Exercises("07_seq2seq")


def test_exercise_1_masked_nll_check_rejects_an_unmasked_mean(nb, exercises):
    from solutions import nb07

    logits = torch.randn(3, 5, 7)
    targets = torch.tensor([[4, 5, 2, 0, 0], [6, 2, 0, 0, 0], [3, 3, 4, 5, 2]])
    assert torch.allclose(nb07.masked_nll(logits, targets, 0), nb.sequence_loss(logits, targets), atol=1e-6)
    cases = [(logits, targets, 0)]
    assert exercises.check_function(nb07.masked_nll, cases)

    def unmasked(logits, targets, pad_id):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    assert not exercises.check_function(unmasked, cases, name="masked_nll")

    def masked_nll(logits, targets, pad_id):
        raise NotImplementedError

    assert not exercises.check_function(masked_nll, cases)


def test_exercise_2_normalised_score_and_winners(nb, exercises):
    from solutions import nb07

    cases = [(-2.0, 4, 0.0), (-3.2, 10, 1.0), (-7.5, 3, 0.6)]
    for log_prob, length, alpha in cases:
        assert math.isclose(nb07.normalised_score(log_prob, length, alpha), log_prob / nb.length_penalty(length, alpha))
    assert exercises.check_function(nb07.normalised_score, cases)
    assert not exercises.check_function(lambda lp, n, a: lp / n ** a, cases, name="normalised_score")
    assert (nb07.winner_alpha_0, nb07.winner_alpha_1) == ("short", "long")
    assert exercises.check_equal("winner_alpha_0", "short") and not exercises.check_equal("winner_alpha_0", "long")
    assert exercises.check_equal("winner_alpha_1", "long") and not exercises.check_equal("winner_alpha_1", "short")
    assert not exercises.check_equal("winner_alpha_1", ...)


def test_exercise_3_reverse_source_check_rejects_flipping_the_padding(exercises):
    from solutions import nb07

    src, lengths = torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0], [4, 5, 6, 7]]), torch.tensor([3, 2, 4])
    assert nb07.reverse_source(src, lengths).tolist() == [[7, 6, 5, 0], [9, 8, 0, 0], [7, 6, 5, 4]]
    assert src.tolist()[0] == [5, 6, 7, 0], "the input is left untouched"
    assert exercises.check_function(nb07.reverse_source, [(src, lengths)])
    assert not exercises.check_function(lambda s, n: s.flip(1), [(src, lengths)], name="reverse_source")

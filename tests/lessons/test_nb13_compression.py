"""Notebook 13 (compression), on the notebook's own definitions: the distillation loss (by hand,
against F.kl_div / F.cross_entropy, its gradient and the T^2 factor), symmetric int8 (half a
step, PyTorch's dynamic-quantization integers, the size saving), magnitude pruning (the target
sparsity, dense storage), the teacher's pooling and caching, the student's bags and training;
and the exercise self-checks' power to reject wrong answers."""
import math
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils.checks import Exercises

NOTEBOOK = "13_compression"

MUTATIONS = [
    ('reduction="batchmean") * temperature ** 2', 'reduction="batchmean")',
     "the soft term loses its T^2 factor"),
    ("    if scale is None:\n        scale = weight.abs().max() / 127\n",
     "    if scale is None:\n        scale = weight.abs().max() / 255\n",
     "the int8 scale uses only half of the integer range"),
    ("pruning_method=prune.L1Unstructured", "pruning_method=prune.RandomUnstructured",
     "pruning drops random weights instead of the smallest"),
    ("p_teacher = F.softmax(teacher_logits / temperature, dim=-1)", "p_teacher = F.softmax(teacher_logits, dim=-1)",
     "the teacher's distribution is not softened by T"),
    ("return distillation_loss(z, t, y, temperature, ALPHA)", "return distillation_loss(z, t, y, 1.0, ALPHA)",
     "train_student ignores the temperature it is given"),
    ("(ids, both_logits, with_transfer(teacher_logits[\"transfer\"].argmax(-1)), None)",
     "(ids, both_logits, with_transfer(teacher_logits[\"transfer\"].argmin(-1)), None)",
     "the pseudo-label recipe takes the teacher's wrong label"),
    ("recipes[f\"+ transfer, soft targets T = {T:g}\"] = (\n            ids, both_logits, with_transfer(torch.full((len(pieces[\"transfer\"]),), -1)), T)",
     "recipes[f\"+ transfer, soft targets T = {T:g}\"] = (\n            ids, both_logits, with_transfer(torch.full((len(pieces[\"transfer\"]),), 0)), T)",
     "the soft-target recipe gives the transfer sentences a made-up hard label"),
    ("    return logits[:, 1] - logits[:, 0]", "    return logits[:, 1] + logits[:, 0]",
     "the margin adds the two logits instead of subtracting them"),
]


@pytest.fixture(scope="module")
def tiny_encoder(tiny_bert_config):
    """A small random BERT encoder on the MiniLM tokenizer's vocabulary (no pooler, as in 13)."""
    from transformers import BertModel

    torch.manual_seed(0)
    return BertModel(tiny_bert_config, add_pooling_layer=False).eval()


TEXTS = ["a good film .", "simplistic , silly and tedious .", "it ponders the reasons we need stories so much .",
         "no", "the skewed melodrama of the circumstantial situation , exhumed instead of studied ."]


# ----------------------------------------------------------------------------- distillation
def _softmax(z):
    return [math.exp(v) / sum(math.exp(u) for u in z) for v in z]


def test_distillation_loss_by_hand(nb):
    z_s, z_t, T, a = [0.5, -1.0], [2.0, -2.0], 2.0, 0.7
    p_t, p_s = _softmax([v / T for v in z_t]), _softmax([v / T for v in z_s])
    kl = sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s, strict=True))
    for label, expected in [(0, a * T * T * kl + (1 - a) * -math.log(_softmax(z_s)[0])),
                            (1, a * T * T * kl + (1 - a) * -math.log(_softmax(z_s)[1])),
                            (-1, a * T * T * kl)]:                  # -1: unlabelled, soft term only
        got = nb.distillation_loss(torch.tensor([z_s]), torch.tensor([z_t]), torch.tensor([label]), T, a)
        assert got.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.9), (2.0, 0.5), (4.0, 0.3)])
def test_distillation_loss_matches_kl_div_and_cross_entropy(nb, temperature, alpha):
    g = torch.Generator().manual_seed(1)
    z_s, z_t = torch.randn(12, 3, generator=g) * 2, torch.randn(12, 3, generator=g) * 2
    labels = torch.tensor([0, 2, -1, 1, -1, -1, 0, 1, 2, -1, 0, -1])
    soft = F.kl_div(F.log_softmax(z_s / temperature, -1), F.log_softmax(z_t / temperature, -1),
                    reduction="batchmean", log_target=True)
    hard = F.cross_entropy(z_s[labels >= 0], labels[labels >= 0])
    expected = alpha * temperature ** 2 * soft + (1 - alpha) * hard
    assert nb.distillation_loss(z_s, z_t, labels, temperature, alpha).item() == pytest.approx(expected.item(), abs=1e-5)
    # a batch of unlabelled sentences only: the soft term, and a finite gradient
    z = z_s.clone().requires_grad_(True)
    only_soft = nb.distillation_loss(z, z_t, torch.full((12,), -1), temperature, alpha)
    assert only_soft.item() == pytest.approx((alpha * temperature ** 2 * soft).item(), abs=1e-5)
    only_soft.backward()
    assert torch.isfinite(z.grad).all()


def test_the_soft_terms_gradient_is_the_difference_of_the_softened_distributions(nb):
    # d/dz_s [T^2 KL(p_t^T || p_s^T)] = T (p_s^T - p_t^T), averaged over the batch
    g = torch.Generator().manual_seed(2)
    z_s, z_t = torch.randn(16, 4, generator=g), torch.randn(16, 4, generator=g)
    for T in (1.0, 3.0, 10.0):
        z = z_s.clone().requires_grad_(True)
        nb.distillation_loss(z, z_t, torch.full((16,), -1), T, 1.0).backward()
        expected = T * (F.softmax(z_s / T, -1) - F.softmax(z_t / T, -1)) / 16
        torch.testing.assert_close(z.grad, expected, atol=1e-6, rtol=1e-4)


def test_t_squared_keeps_the_soft_gradient_constant(nb):
    g = torch.Generator().manual_seed(0)
    z_s, z_t = torch.randn(256, 2, generator=g) * 2, torch.randn(256, 2, generator=g) * 2
    norms = {}
    for T in (8, 16, 32):
        z = z_s.clone().requires_grad_(True)
        nb.distillation_loss(z, z_t, torch.full((256,), -1), T, 1.0).backward()
        norms[T] = z.grad.norm().item()
    assert 0.8 < norms[8] / norms[16] < 1.2 and 0.8 < norms[16] / norms[32] < 1.2
    assert 3.2 < (norms[8] / 64) / (norms[16] / 256) < 4.8      # without the factor: 1/T^2


def test_at_high_temperature_the_soft_term_matches_logits(nb):
    # Hinton et al. 2.1: for large T, T^2 KL -> (1/2n) sum_i (z_s,i - z_t,i)^2 of zero-mean logits
    g = torch.Generator().manual_seed(4)
    for n in (2, 5):
        z_s, z_t = torch.randn(32, n, generator=g) * 2, torch.randn(32, n, generator=g) * 2
        centred = (z_s - z_s.mean(-1, keepdim=True)) - (z_t - z_t.mean(-1, keepdim=True))
        logit_matching = (centred ** 2).sum(-1).mean() / (2 * n)
        got = nb.distillation_loss(z_s, z_t, torch.full((32,), -1), 1000.0, 1.0)
        assert got.item() == pytest.approx(logit_matching.item(), rel=1e-2)
        assert nb.distillation_loss(z_s, z_t, torch.full((32,), -1), 1.0, 1.0).item() != pytest.approx(
            logit_matching.item(), rel=0.1)                                   # at T = 1 it is not


def test_a_sure_teacher_at_t1_gives_the_cross_entropy_on_its_labels(nb):
    g = torch.Generator().manual_seed(5)
    z_s, labels = torch.randn(20, 3, generator=g), torch.randint(0, 3, (20,), generator=g)
    sure_teacher = 60.0 * F.one_hot(labels, 3).float()                       # p_teacher one-hot
    soft_only = nb.distillation_loss(z_s, sure_teacher, torch.full((20,), -1), 1.0, 1.0)
    assert soft_only.item() == pytest.approx(F.cross_entropy(z_s, labels).item(), abs=1e-4)
    # alpha = 0: the hard term alone, whatever the teacher says
    hard_only = nb.distillation_loss(z_s, torch.randn(20, 3, generator=g), labels, 4.0, 0.0)
    assert hard_only.item() == pytest.approx(F.cross_entropy(z_s, labels).item(), abs=1e-6)


def test_t_squared_keeps_the_soft_terms_pull_beside_the_hard_terms(nb):
    # the gradient of the soft term relative to the hard one stays about constant as T grows
    g = torch.Generator().manual_seed(6)
    z_s, z_t = torch.randn(256, 2, generator=g) * 2, torch.randn(256, 2, generator=g) * 2
    labels = torch.randint(0, 2, (256,), generator=g)

    def grad_norm(T, alpha):
        z = z_s.clone().requires_grad_(True)
        nb.distillation_loss(z, z_t, labels, T, alpha).backward()
        return z.grad.norm().item()

    hard = grad_norm(1.0, 0.0)
    ratios = [grad_norm(T, 1.0) / hard for T in (4.0, 8.0, 16.0)]
    assert max(ratios) / min(ratios) < 1.3, ratios


# ----------------------------------------------------------------------------- int8
def test_symmetric_int8_error_is_at_most_half_a_step(nb):
    g = torch.Generator().manual_seed(3)
    for w in (torch.randn(64, 32, generator=g) * 0.05, torch.randn(5, 7, generator=g) * 30):
        q, scale = nb.symmetric_int8(w)
        assert q.dtype == torch.int8 and q.abs().max() == 127
        assert scale.item() == pytest.approx(w.abs().max().item() / 127)
        assert ((w - q.float() * scale).abs() <= scale / 2 + 1e-6 * scale).all()


def _quantize_dynamic(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def test_symmetric_int8_with_pytorchs_scale_gives_pytorchs_integers(nb):
    torch.manual_seed(0)
    for shape in [(8, 16), (64, 48), (3, 300)]:
        model = nn.Sequential(nn.Linear(shape[1], shape[0]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            packed = _quantize_dynamic(model)[0].weight()
        w = model[0].weight.detach()
        q, scale = nb.symmetric_int8(w, scale=w.abs().max() / 127.5)
        assert packed.q_zero_point() == 0 and math.isclose(packed.q_scale(), scale.item(), rel_tol=1e-5)
        assert torch.equal(packed.int_repr(), q)


def test_int8_saves_three_quarters_of_the_linear_weights_only(nb):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(1000, 128), nn.Linear(128, 512), nn.Linear(512, 128))
    linear = sum(m.weight.numel() for m in model if isinstance(m, nn.Linear))
    total = sum(p.numel() for p in model.parameters())
    predicted = (total - linear + linear / 4) / total
    ratio = nb.state_dict_bytes(_quantize_dynamic(model)) / nb.state_dict_bytes(model)
    assert abs(ratio - predicted) < 0.03, (ratio, predicted)


# ----------------------------------------------------------------------------- pruning
class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 10))
        self.head = nn.Linear(10, 2)


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.6, 0.9])
def test_prune_encoder_reaches_the_target_sparsity_with_one_global_threshold(nb, sparsity):
    torch.manual_seed(0)
    model = Toy()
    linears = [m for m in model.encoder if isinstance(m, nn.Linear)]
    before = [m.weight.detach().clone() for m in linears]
    pruned, achieved = nb.prune_encoder(model, sparsity)
    assert achieved == pytest.approx(round(sparsity * 900) / 900, abs=1e-9)
    after = [m.weight.detach() for m in pruned.encoder if isinstance(m, nn.Linear)]
    assert sum(int((w == 0).sum()) for w in after) == round(sparsity * 900)
    assert all(torch.equal(b, m.weight) for b, m in zip(before, linears, strict=True)), "the original stays dense"
    assert torch.equal(pruned.head.weight, model.head.weight), "only the encoder is pruned"
    assert not any(name.endswith(("_orig", "_mask")) for name in pruned.state_dict()), "the masks are baked in"
    kept = torch.cat([w[w != 0].abs() for w in after])
    dropped = torch.cat([b[a == 0].abs() for b, a in zip(before, after, strict=True)])
    if len(dropped):
        assert kept.min() >= dropped.max(), "one threshold over all layers: every kept weight is larger"
    assert abs(nb.state_dict_bytes(pruned) / nb.state_dict_bytes(model) - 1) < 0.01, "zeros save nothing dense"


def test_prune_encoder_on_a_bert_encoder(nb, tiny_encoder):
    teacher = nb.Teacher(tiny_encoder, nn.Linear(32, 2))
    pruned, achieved = nb.prune_encoder(teacher, 0.5)
    assert achieved == pytest.approx(0.5, abs=1e-4)
    assert all(float((m.weight == 0).float().mean()) == 0 for m in teacher.encoder.modules() if isinstance(m, nn.Linear))


def test_csr_bytes_count_values_column_indices_and_row_pointers(nb):
    matrix = torch.zeros(10, 20)
    matrix[torch.arange(10), torch.arange(10) * 2] = 1.0
    matrix[3, 5] = 2.0
    assert nb.csr_bytes(matrix) == 11 * 4 + 11 * 8 + 11 * 8      # fp32 values, int64 columns, 10 + 1 pointers


# ----------------------------------------------------------------------------- teacher
def test_mean_pool_ignores_padding(nb):
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(2, 5, 4, generator=g)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    pooled = nb.mean_pool(hidden, mask)
    torch.testing.assert_close(pooled[0], hidden[0, :3].mean(0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(0))
    garbage = hidden.clone()
    garbage[0, 3:] = 1e4
    torch.testing.assert_close(nb.mean_pool(garbage, mask), pooled)


def test_the_teacher_end_to_end_equals_the_head_on_cached_features(nb, tokenizer, tiny_encoder):
    head = nn.Linear(32, 2)
    teacher = nb.Teacher(tiny_encoder, head).eval()
    cached = nb.encode(tiny_encoder, tokenizer, TEXTS, batch_size=2)       # batches sorted by length
    alone = torch.cat([nb.encode(tiny_encoder, tokenizer, [t], batch_size=1) for t in TEXTS])
    torch.testing.assert_close(cached, alone, atol=1e-5, rtol=1e-4)        # rows back in their order
    end_to_end = nb.predict_logits(teacher, tokenizer, TEXTS, batch_size=3)
    with torch.no_grad():
        torch.testing.assert_close(end_to_end, head(alone), atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------------- student
def test_word_pieces_are_the_tokens_without_special_ones(nb, tokenizer):
    pieces = nb.word_pieces(tokenizer, ["A good film.", "no"])
    assert pieces == [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(t)) for t in ["A good film.", "no"]]
    assert not set(tokenizer.all_special_ids) & {i for p in pieces for i in p}


def test_to_bags_flattens_sentences_and_marks_unknown_pieces(nb):
    flat, offsets = nb.to_bags([[5, 6, 9], [7], []], {5: 1, 6: 2, 7: 3})
    assert flat.tolist() == [1, 2, 0, 3, 0] and offsets.tolist() == [0, 3, 4]
    bag = nb.BagOfPieces(4, 8)
    assert bag(flat, offsets).shape == (3, 2)


def test_median_latencies_alternate_the_models(nb):
    calls = []
    times = nb.median_latencies({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3)
    assert calls == ["a", "b"] * 4 and set(times) == {"a", "b"}        # one warm-up, then alternating


def _rule_task():
    # A rule the teacher knows: a sentence is positive when it holds more pieces of 100..119 than of 120..139.
    g = torch.Generator().manual_seed(0)

    def sentences(n):
        return [torch.randint(100, 140, (int(torch.randint(3, 9, (1,), generator=g)),), generator=g).tolist()
                for _ in range(n)]

    def rule(ids):
        return int(sum(i < 120 for i in ids) > sum(i >= 120 for i in ids))

    pieces = {"labelled": sentences(24), "transfer": sentences(400), "test": sentences(300)}
    logits = {name: torch.tensor([[0.0, 3.0] if rule(s) else [3.0, 0.0] for s in ids]) for name, ids in pieces.items()}
    truth = {name: torch.tensor([rule(s) for s in ids]) for name, ids in pieces.items()}
    used = sorted({i for ids in pieces["labelled"] + pieces["transfer"] for i in ids})
    return pieces, logits, truth, {piece: k + 1 for k, piece in enumerate(used)}


def test_student_recipes_differ_only_in_their_targets(nb):
    pieces, logits, truth, _ = _rule_task()
    logits["transfer"][:5] = logits["transfer"][:5].flip(-1)               # the teacher is wrong on five
    wrong_true = 1 - truth["transfer"]                                     # any labels, to see them passed on
    recipes = nb.student_recipes(pieces, logits, truth["labelled"], wrong_true)
    n_l, n_t = len(pieces["labelled"]), len(pieces["transfer"])
    hard = recipes["hard labels only"]
    assert hard[0] == pieces["labelled"] and torch.equal(hard[2], truth["labelled"]) and hard[3] is None
    pseudo, soft_t1 = recipes["+ transfer, teacher's hard labels"], recipes["+ transfer, soft targets T = 1"]
    soft, true = recipes[f"+ transfer, soft targets T = {nb.TEMPERATURE:g}"], recipes["+ transfer, true labels"]
    assert nb.TEMPERATURE > 1 and soft_t1[3] == 1.0 and soft[3] == nb.TEMPERATURE
    for ids, t_logits, labels, _ in (pseudo, soft_t1, soft, true):           # same sentences, same order
        assert ids == pieces["labelled"] + pieces["transfer"] and len(labels) == n_l + n_t
        torch.testing.assert_close(t_logits, torch.cat([logits["labelled"], logits["transfer"]]))
        assert torch.equal(labels[:n_l], truth["labelled"])                # the true labels where known
    assert torch.equal(pseudo[2][n_l:], logits["transfer"].argmax(-1)) and pseudo[3] is None
    assert (soft[2][n_l:] == -1).all() and (soft_t1[2][n_l:] == -1).all()  # unlabelled: soft term only
    assert torch.equal(true[2][n_l:], wrong_true) and true[3] is None
    assert "+ transfer, true labels" not in nb.student_recipes(pieces, logits, truth["labelled"])


def test_margin_is_the_log_odds_of_positive(nb):
    logits = torch.tensor([[0.0, 2.0], [1.5, -0.5], [3.0, 3.0]])
    torch.testing.assert_close(nb.margin(logits), torch.log_softmax(logits, -1)[:, 1] - torch.log_softmax(logits, -1)[:, 0])
    assert nb.margin(logits).tolist() == [2.0, -2.0, 0.0]


def test_a_distilled_student_learns_the_teachers_labels_of_unlabelled_sentences(nb):
    pieces, logits, truth, student_index = _rule_task()
    recipes = nb.student_recipes(pieces, logits, truth["labelled"])
    test_bags = nb.to_bags(pieces["test"], student_index)
    accuracy = {}
    for name in ("hard labels only", f"+ transfer, soft targets T = {nb.TEMPERATURE:g}"):
        ids, t_logits, labels, T = recipes[name]
        student, history = nb.train_student(ids, t_logits, labels, student_index, T)
        with torch.no_grad():
            accuracy[name] = (student(*test_bags).argmax(-1) == truth["test"]).float().mean().item()
    soft = accuracy[f"+ transfer, soft targets T = {nb.TEMPERATURE:g}"]
    assert soft > 0.85, accuracy
    assert soft > accuracy["hard labels only"] + 0.1, accuracy


def test_train_student_uses_its_temperature_and_ignores_the_teacher_without_one(nb):
    pieces, logits, truth, student_index = _rule_task()
    ids, labels = pieces["labelled"], truth["labelled"]
    t_logits = torch.randn(len(ids), 2, generator=torch.Generator().manual_seed(1)) * 3

    def weights(student):
        return torch.cat([p.detach().flatten() for p in student.parameters()])

    at_1, _ = nb.train_student(ids, t_logits, labels, student_index, 1.0)
    at_8, _ = nb.train_student(ids, t_logits, labels, student_index, 8.0)
    assert not torch.allclose(weights(at_1), weights(at_8)), "the temperature must reach the loss"
    again, _ = nb.train_student(ids, t_logits, labels, student_index, 1.0)
    assert torch.equal(weights(at_1), weights(again)), "same seed, same student"
    plain, _ = nb.train_student(ids, t_logits, labels, student_index, None)
    other_teacher, _ = nb.train_student(ids, -t_logits, labels, student_index, None)
    assert torch.equal(weights(plain), weights(other_teacher)), "no temperature: plain cross-entropy on the labels"
    other_seed, _ = nb.train_student(ids, t_logits, labels, student_index, None, seed=nb.SEED + 1)
    assert not torch.equal(weights(plain), weights(other_seed))


# ----------------------------------------------------------------------------- exercises
@pytest.fixture(scope="module")
def exercises():
    return Exercises(NOTEBOOK)


def test_exercise_checks_reject_wrong_answers(exercises):
    import solutions.nb13 as reference

    cases1 = exercises.cases("soft_target_cases")
    assert exercises.check_function(reference.soft_targets, cases1)
    assert not exercises.check_function(lambda z, T: torch.softmax(z, -1), cases1, name="soft_targets")
    assert not exercises.check_function(lambda z, T: torch.softmax(z * T, -1), cases1, name="soft_targets")
    assert not exercises.check_function(lambda z, T: torch.softmax(z / T, 0), cases1, name="soft_targets")

    cases2 = exercises.cases("int8_cases")
    assert exercises.check_function(reference.quantize_int8, cases2)

    def wrong_scale(w):
        scale = w.abs().max() / 255
        return torch.clamp(torch.round(w / scale), -127, 127).to(torch.int8), scale

    assert not exercises.check_function(wrong_scale, cases2, name="quantize_int8")

    assert reference.size_ratio == pytest.approx(182 / 440)
    assert exercises.check_close("size_ratio", 0.4136, atol=0.005)
    assert not exercises.check_close("size_ratio", 0.25, atol=0.005)
    assert not exercises.check_close("size_ratio", ..., atol=0.005)

    cases4 = exercises.cases("breakeven_cases")
    assert exercises.check_function(reference.breakeven_sparsity, cases4)
    assert reference.breakeven_sparsity(8) == pytest.approx(2 / 3) and reference.breakeven_sparsity(4) == 0.5
    assert not exercises.check_function(lambda i, v=4: v / (v + i), cases4, name="breakeven_sparsity")


def test_the_int8_exercise_reference_agrees_with_the_notebooks_rule(nb, exercises):
    import solutions.nb13 as reference

    for (w,) in exercises.cases("int8_cases"):
        q, scale = reference.quantize_int8(w)
        ours, our_scale = nb.symmetric_int8(w)
        assert torch.equal(q, ours) and torch.equal(scale, our_scale)

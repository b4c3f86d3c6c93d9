"""Notebook 09 (the Transformer): its attention, masks, multi-head attention, layers, positional
encoding, schedule, label smoothing and synthesizers, loaded from the notebook (utils.lessons) and
checked against PyTorch's versions on the same weights; its model decoded by notebook 07's decoders;
the measure beside its head view (the year digits' cross-attention on the source's year, against a
uniform head); and the discrimination of its exercise self-checks."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils.checks import Exercises
from utils.lessons import load_lesson
from utils.text import BOS_ID, PAD_ID, pad_batch

MUTATIONS = [
    ("scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)", "scores = q @ k.transpose(-2, -1)",
     "the plain attention without its 1/sqrt(d_k)"),
    ("weights = torch.softmax(scores, dim=-1)                # each row",
     "weights = torch.softmax(scores, dim=-2)                # each row",
     "the plain attention normalises over the queries instead of the keys"),
    ("scale = d_k ** -0.5", "scale = 1.0", "the fused attention without its 1/sqrt(d_k)"),
    ("weights = torch.softmax(scores, dim=-1, out=scores)", "weights = scores.exp_()",
     "the fused attention's in-place softmax forgets to normalise"),
    ("logits if bias is None else logits + bias", "logits",
     "the synthesizers ignore the padding and causal masks"),
    ("self.logits(torch.relu(self.hidden(query)))", "self.logits(self.hidden(query))",
     "the dense synthesizer's MLP without its ReLU"),
    ("logits = logits[..., : memory.size(1)].transpose(1, 2)", "logits = logits[..., -memory.size(1):].transpose(1, 2)",
     "the dense synthesizer reads its logits from the wrong end of the max_len row"),
    ("synthetic_attention(self.logits[:, :L, :S], v, bias)", "synthetic_attention(self.logits[:, :S, :L], v, bias)",
     "the random synthesizer's matrix read transposed (keys as rows)"),
    ('device=device).triu_(1)', 'device=device).triu_(2)',
     "the causal mask lets every position see the next one"),
    ("bias.masked_fill_(tokens == pad_id,", "bias.masked_fill_(tokens == -1,", "the padding mask hides nothing"),
    ("cross_attention_maps(model, src, tgt_in)[:, :, :, 0:4]", "cross_attention_maps(model, src, tgt_in)[:, :, :, 1:5]",
     "the year's digits read one position late (the position that reads <bos> writes the first digit)"),
    ("uniform = (4 / (src != 0).sum(1).float()).mean().item()", "uniform = 4 / src.size(1)",
     "the uniform head spreads its weight over the padding too"),
    ("return list(range(at, at + 4))", "return list(range(at + 1, at + 5))",
     "the year's characters taken one place to the right"),
]


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("09_transformer", profile="smoke")


@pytest.fixture(scope="module")
def nb07():
    return load_lesson("07_seq2seq", profile="smoke")


TOKENS = torch.tensor([[5, 6, 7, 8, 9, 4], [5, 6, 7, 0, 0, 0], [5, 6, 7, 8, 0, 0]])   # 0 = <pad>
KEEP_CAUSAL = torch.ones(6, 6, dtype=torch.bool).tril()


def probe(nb, seed=0, **sizes):
    torch.manual_seed(seed)
    settings = dict(d_model=32, n_heads=4, d_ff=64, n_layers=2, dropout=0.0) | sizes
    return nb.Transformer(20, 20, **settings).eval()


# ----------------------------------------------------------------------------- attention and masks
def test_masks_are_additive_biases_of_zero_and_minus_infinity(nb):
    bias = nb.padding_bias(TOKENS)
    assert bias.shape == (3, 1, 1, 6)
    assert torch.equal(bias[:, 0, 0] == float("-inf"), TOKENS == PAD_ID) and (bias[TOKENS[:, None, None] != 0] == 0).all()
    causal = nb.causal_bias(4)
    assert torch.equal(causal == 0, torch.ones(4, 4, dtype=torch.bool).tril())
    assert (causal.triu(1) == float("-inf")).sum() == 6


def test_attention_equals_sdpa_with_padding_and_causal_masks(nb):
    torch.manual_seed(0)
    q, k, v = (torch.randn(3, 2, 6, 8) for _ in range(3))
    keep_padding = (TOKENS != 0)[:, None, None, :]
    for bias, keep in [(None, None), (nb.padding_bias(TOKENS), keep_padding),
                       (nb.padding_bias(TOKENS) + nb.causal_bias(6), keep_padding & KEEP_CAUSAL)]:
        with torch.no_grad():
            out, weights = nb.attention(q, k, v, bias)
        assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=keep), atol=1e-5)
        assert torch.allclose(weights.sum(-1), torch.ones(3, 2, 6))
        if keep is not None:
            assert (weights.masked_select(~keep.expand_as(weights)) == 0).all(), "masked keys get zero weight"


def test_plain_attention_is_the_equation_written_out(nb):
    torch.manual_seed(4)
    q, k, v = torch.randn(2, 5, 8), torch.randn(2, 7, 8), torch.randn(2, 7, 8)
    bias = torch.zeros(5, 7).masked_fill_(torch.rand(5, 7) < 0.3, float("-inf"))
    bias[:, 0] = 0.0                                       # every query may see key 0
    out, weights = nb.attention(q, k, v, bias)
    want = torch.softmax(torch.einsum("bld,bsd->bls", q, k) / math.sqrt(8) + bias, dim=-1)
    assert torch.allclose(weights, want, atol=1e-6) and torch.allclose(out, torch.einsum("bls,bsd->bld", want, v), atol=1e-5)
    keys = 5.0 * torch.eye(7, 8)
    out, weights = nb.attention(keys[3:4], keys, v[0])
    assert weights[0, 3] > 0.99 and torch.allclose(out[0], v[0, 3], atol=0.05), "a matching query reads out its value"


@pytest.mark.parametrize("masked", [False, True])
def test_fused_attention_equals_the_plain_one_in_place_and_with_gradients(nb, masked):
    torch.manual_seed(5)
    q, k, v = torch.randn(3, 2, 6, 16), torch.randn(3, 2, 9, 16), torch.randn(3, 2, 9, 16)
    tokens = torch.tensor([[5] * 9, [5] * 4 + [0] * 5, [5] * 7 + [0] * 2])
    bias = nb.padding_bias(tokens).expand(3, 2, 6, 9).contiguous() if masked else None
    want_out, want_weights = nb.attention(q, k, v, bias)
    with torch.no_grad():                                  # the in-place softmax
        out, weights = nb.fused_attention(q, k, v, bias)
    assert torch.allclose(out, want_out, atol=1e-5) and torch.allclose(weights, want_weights, atol=1e-6)
    q1, q2 = q.clone().requires_grad_(), q.clone().requires_grad_()
    out1, _ = nb.fused_attention(q1, k, v, bias)
    out2, _ = nb.attention(q2, k, v, bias)
    assert torch.allclose(out1, out2, atol=1e-5)
    (g1,), (g2,) = torch.autograd.grad(out1.square().sum(), q1), torch.autograd.grad(out2.square().sum(), q2)
    assert torch.allclose(g1, g2, atol=1e-4)


def test_attention_with_gradients_equals_sdpa_and_has_finite_gradients(nb):
    torch.manual_seed(1)
    q, k, v = (torch.randn(2, 3, 5, 16, requires_grad=True) for _ in range(3))
    out, _ = nb.attention(q, k, v, nb.causal_bias(5))
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(out, want, atol=1e-5)
    grads = torch.autograd.grad(out.sum(), (q, k, v))
    want_grads = torch.autograd.grad(want.sum(), (q, k, v))
    assert all(torch.allclose(g, w, atol=1e-5) for g, w in zip(grads, want_grads, strict=True))


def test_multi_head_attention_equals_torch_on_copied_weights(nb):
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(32, 4, batch_first=True).eval()
    own = nb.MultiHeadAttention(32, 4).eval()
    nb.copy_from_torch_attention(own, reference)
    queries, memory = torch.randn(3, 6, 32), torch.randn(3, 6, 32)
    with torch.no_grad():
        for bias, masks in [(nb.padding_bias(TOKENS), dict(key_padding_mask=TOKENS == 0)),
                            (nb.padding_bias(TOKENS) + nb.causal_bias(6),
                             dict(key_padding_mask=TOKENS == 0, attn_mask=~KEEP_CAUSAL))]:
            want, want_weights = reference(queries, memory, memory, need_weights=True,
                                           average_attn_weights=False, **masks)
            assert torch.allclose(own(queries, memory, bias), want, atol=1e-5)
            assert torch.allclose(own.weights, want_weights, atol=1e-5)
    with pytest.raises(ValueError):
        nb.MultiHeadAttention(30, 4)


def test_encoder_and_decoder_layers_equal_torchs(nb):
    torch.manual_seed(0)
    src_tokens, tgt_tokens = TOKENS[:2], torch.tensor([[3, 4, 5, 6], [3, 4, 0, 0]])
    x, y = torch.randn(2, 6, 32), torch.randn(2, 4, 32)
    torch_encoder = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True).eval()
    torch_decoder = nn.TransformerDecoderLayer(32, 4, 64, dropout=0.0, batch_first=True).eval()
    own_encoder, own_decoder = nb.EncoderLayer(32, 4, 64, dropout=0.0).eval(), nb.DecoderLayer(32, 4, 64, dropout=0.0).eval()
    nb.copy_from_torch_layer(own_encoder, torch_encoder)
    nb.copy_from_torch_layer(own_decoder, torch_decoder)
    real_src, real_tgt = src_tokens != 0, tgt_tokens != 0
    with torch.no_grad():
        memory = own_encoder(x, nb.padding_bias(src_tokens))
        want = torch_encoder(x, src_key_padding_mask=~real_src)
        assert torch.allclose(memory[real_src], want[real_src], atol=1e-5)   # outputs at padding are never used
        got = own_decoder(y, memory, nb.causal_bias(4), nb.padding_bias(src_tokens))
        want = torch_decoder(y, memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4),
                             memory_key_padding_mask=~real_src)
        assert torch.allclose(got[real_tgt], want[real_tgt], atol=1e-5)


def test_the_causal_mask_hides_the_future(nb):
    model = probe(nb)
    torch.manual_seed(1)
    src, tgt = torch.randint(4, 20, (2, 9)), torch.randint(4, 20, (2, 8))
    t = 5
    changed = tgt.clone()
    changed[:, t] = (tgt[:, t] + 1 - 4) % 16 + 4
    masked = nb.decoder_change(model, src, tgt, changed)
    assert (masked[:t] == 0).all() and (masked[t:] > 1e-4).all()
    unmasked = nb.decoder_change(model, src, tgt, changed, no_mask=True)
    assert (unmasked[:t] > 1e-4).all(), "the negative control: without the mask the future leaks into the past"


# ----------------------------------------------------------------------------- the model and 07's decoders
def test_step_by_step_decoding_equals_the_teacher_forced_forward(nb):
    model = probe(nb)
    torch.manual_seed(2)
    src = pad_batch([[5, 6, 7, 8, 9], [5, 6, 7]])
    tgt_in = torch.cat([torch.full((2, 1), BOS_ID), torch.randint(4, 20, (2, 6))], 1)
    with torch.no_grad():
        one_call = model(src, tgt_in)
        state, stepwise = model.start(src, torch.tensor([5, 3])), []
        for t in range(tgt_in.shape[1]):
            logits, state, weights = model.step(state, tgt_in[:, t])
            stepwise.append(logits)
            assert weights.shape == (2, 5) and torch.allclose(weights.sum(-1), torch.ones(2), atol=1e-5)
            assert (weights[1, 3:] == 0).all(), "no cross-attention to the source's padding"
    assert torch.allclose(one_call, torch.stack(stepwise, 1), atol=1e-5)


def test_07s_greedy_decoding_and_beam_search_decode_the_transformer(nb, nb07):
    model = probe(nb, seed=3)
    src = pad_batch([[5, 6, 7, 8, 9], [5, 6, 7], [9, 8, 7, 6]])
    lengths = torch.tensor([5, 3, 4])
    rows, log_probs, weights = nb07.greedy_decode(model, src, lengths, 8)
    with torch.no_grad():            # greedy = the argmax of the model's own teacher-forced logits
        for i, row in enumerate(rows):
            tgt_in = torch.tensor([[BOS_ID] + row])
            assert (model(src[i:i + 1], tgt_in).argmax(-1)[0, :len(row)] == torch.tensor(row)).all()
    for i in range(3):
        tokens, score, _ = nb07.beam_search(model, src[i, :lengths[i]].tolist(), width=1, max_len=8)
        assert tokens == rows[i] and math.isclose(score, log_probs[i], abs_tol=1e-4)
    assert weights.shape[0] == 3 and weights.shape[1] <= 8 and weights.shape[2] == src.shape[1]


def test_length_batches_cover_every_pair_once_per_epoch(nb):
    pairs = [([4] * n, [BOS_ID, 5, 2]) for n in range(1, 50)]
    batches = nb.LengthBatches(pairs, batch_size=4, seed=0, pool=3)
    for _ in range(2):
        lengths = sorted(int((src != 0).sum(1)[i]) for src, _ in batches for i in range(len(src)))
        assert lengths == list(range(1, 50))
    assert len(batches) == 13


# ----------------------------------------------------------------------------- positions, layers, training
def test_positional_encoding_is_a_rotation_and_starts_at_sin_0_cos_1(nb):
    pe = nb.sinusoidal_encoding(60, 16)
    assert pe.shape == (60, 16) and pe.abs().max() <= 1.0
    assert torch.allclose(pe[0, 0::2], torch.zeros(8)) and torch.allclose(pe[0, 1::2], torch.ones(8))
    offset, frequency = 7, 10000.0 ** (-torch.arange(0, 16, 2, dtype=torch.float) / 16)
    c, s = torch.cos(offset * frequency), torch.sin(offset * frequency)
    rotated = torch.empty_like(pe[:-offset])
    rotated[:, 0::2] = pe[:-offset, 0::2] * c + pe[:-offset, 1::2] * s
    rotated[:, 1::2] = pe[:-offset, 1::2] * c - pe[:-offset, 0::2] * s
    assert torch.allclose(rotated, pe[offset:], atol=1e-4), "PE[pos + k] is a fixed rotation of PE[pos]"


def test_layer_norm_equals_torch_and_the_feed_forward_never_mixes_positions(nb):
    torch.manual_seed(0)
    x, gamma, beta = torch.randn(4, 9, 32) * 3 + 1, torch.randn(32), torch.randn(32)
    assert torch.allclose(nb.layer_norm(x, gamma, beta), F.layer_norm(x, (32,), gamma, beta), atol=1e-5)
    ffn, changed = nb.PositionwiseFeedForward(32, 64), x.clone()
    changed[:, 4] += 1.0
    with torch.no_grad():
        moved = (ffn(changed) - ffn(x)).abs().amax(dim=(0, 2))
    assert moved[4] > 0 and (moved[torch.arange(9) != 4] == 0).all()


def test_schedule_peaks_at_the_end_of_warmup_and_cools_down_to_zero(nb):
    rates = [nb.transformer_lr(s, 512, 4000) for s in range(1, 10001)]
    assert rates.index(max(rates)) + 1 == 4000 and math.isclose(max(rates), (512 * 4000) ** -0.5)
    assert math.isclose(nb.transformer_lr(100, 64, 200, factor=0.3), 0.3 * 64 ** -0.5 * 100 * 200 ** -1.5)
    cool = nb.with_cooldown
    assert cool(2.0, 100, 1000, 0.3) == 2.0 and cool(2.0, 700, 1000, 0.3) == 2.0
    assert math.isclose(cool(2.0, 850, 1000, 0.3), 1.0) and cool(2.0, 1000, 1000, 0.3) == 0.0
    assert cool(2.0, 999, 1000, 0.0) == 2.0


def test_label_smoothing_equals_torch_and_ignores_padding(nb):
    torch.manual_seed(0)
    logits, target = torch.randn(3, 6, 11), torch.randint(0, 11, (3, 6))
    ours = nb.label_smoothed_cross_entropy(logits, target, 0.1)
    theirs = F.cross_entropy(logits.reshape(-1, 11), target.reshape(-1), ignore_index=0, label_smoothing=0.1)
    assert torch.allclose(ours, theirs, atol=1e-5)
    plain = nb.label_smoothed_cross_entropy(logits, target, 0.0)
    assert torch.allclose(plain, F.cross_entropy(logits.reshape(-1, 11), target.reshape(-1), ignore_index=0), atol=1e-5)


def test_synthesizers_respect_the_masks_and_the_random_one_ignores_the_input(nb):
    torch.manual_seed(0)
    bias = (nb.padding_bias(TOKENS) + nb.causal_bias(6)).expand(3, 4, 6, 6)
    for make in (nb.DenseSynthesizer, nb.RandomSynthesizer):
        layer = make(32, 4, 10).eval()
        with torch.no_grad():
            out = layer(torch.randn(3, 6, 32), torch.randn(3, 6, 32), bias)
        assert out.shape == (3, 6, 32)
        keep = bias == 0
        assert (layer.weights[~keep] == 0).all() and torch.allclose(layer.weights[:, :, 3].sum(-1), torch.ones(3, 4))
    random_layer, dense_layer, seen = nb.RandomSynthesizer(32, 4, 10), nb.DenseSynthesizer(32, 4, 10), []
    with torch.no_grad():
        for x in (torch.randn(1, 6, 32), torch.randn(1, 6, 32)):
            random_layer(x, x, bias[:1])
            dense_layer(x, x, bias[:1])
            seen.append((random_layer.weights[0], dense_layer.weights[0]))
    assert torch.allclose(seen[0][0], seen[1][0]), "random: the same weights for every input"
    assert not torch.allclose(seen[0][1], seen[1][1]), "dense: weights predicted from the input"


def test_dense_synthesizer_is_a_per_token_mlp_with_no_token_token_interaction(nb):
    torch.manual_seed(6)
    layer = nb.DenseSynthesizer(32, 4, 10).eval()
    x = torch.randn(2, 6, 32)
    bias = nb.causal_bias(6)
    with torch.no_grad():
        out = layer(x, x, bias)
        logits = layer.logits(torch.relu(layer.hidden(x))).view(2, 6, 4, 10)[..., :6].transpose(1, 2)
    assert out.shape == (2, 6, 32) and layer.weights.shape == (2, 4, 6, 6)
    assert torch.allclose(layer.weights, torch.softmax(logits + bias, -1), atol=1e-6), "B_i = W2 relu(W1 x_i + b1) + b2"
    assert torch.allclose(layer.weights.sum(-1), torch.ones(2, 4, 6), atol=1e-6)
    changed = x.clone()
    changed[:, 4] += 1.0
    with torch.no_grad():
        layer(changed, changed, bias)
    moved = (layer.weights - torch.softmax(logits + bias, -1)).abs().amax(dim=(0, 1, 3))
    assert moved[4] > 1e-4 and (moved[torch.arange(6) != 4] == 0).all(), "row i is predicted from x_i alone"


def test_random_synthesizer_weights_are_its_matrix_whatever_the_tokens(nb):
    torch.manual_seed(7)
    layer = nb.RandomSynthesizer(32, 4, 10).eval()
    bias = nb.padding_bias(TOKENS[:, :5]) + nb.causal_bias(5)
    want = torch.softmax(layer.logits.detach()[:, :5, :5] + bias, -1)         # (3, 4, 5, 5)
    for x in (torch.randn(3, 5, 32), torch.zeros(3, 5, 32), 10 * torch.randn(3, 5, 32)):
        with torch.no_grad():
            out = layer(x, x, bias)
        assert out.shape == (3, 5, 32)
        assert torch.allclose(layer.weights, want, atol=1e-6), "softmax(R + M), the same for every input"
    assert torch.allclose(layer.weights.sum(-1), torch.ones(3, 4, 5), atol=1e-6)
    rows = nb.RandomSynthesizer(32, 4, 10).eval()
    with torch.no_grad():
        rows(torch.randn(1, 3, 32), torch.randn(1, 5, 32))
    assert torch.allclose(rows.weights, torch.softmax(rows.logits.detach()[:, :3, :5], -1)), "R[:L, :S]: queries are rows"


# ----------------------------------------------------------------------------- looking inside: the head view's measure
def test_year_positions_are_the_four_digits_of_the_year_in_the_source(nb):
    assert nb.year_positions("Sunday, February 24th, 2008", "2008-02-24") == [23, 24, 25, 26]
    assert nb.year_positions("2044, april 29", "2044-04-29") == [0, 1, 2, 3]
    assert nb.year_positions("10/13/02", "2002-10-13") is None, "a two-digit year is not the year in four digits"
    assert nb.year_positions("2012 2012", "2012-01-01") is None, "a year written twice has no single place"


def test_cross_attention_maps_are_every_decoder_layers_teacher_forced_weights(nb):
    model = probe(nb, seed=4)
    src = pad_batch([[5, 6, 7, 8, 9], [5, 6, 7]])
    tgt_in = torch.cat([torch.full((2, 1), BOS_ID), torch.randint(4, 20, (2, 3))], 1)
    maps = nb.cross_attention_maps(model, src, tgt_in)
    assert maps.shape == (2, 2, 4, 4, 5), "(layers, batch, heads, T, S)"
    assert torch.allclose(maps.sum(-1), torch.ones(2, 2, 4, 4), atol=1e-5)
    assert (maps[:, 1, :, :, 3:] == 0).all(), "no weight on the source's padding"
    assert all(torch.equal(maps[i], layer.cross_attn.weights) for i, layer in enumerate(model.decoder))
    with torch.no_grad():
        model(src[:1], tgt_in[:1])
    assert torch.allclose(maps[:, :1], torch.stack([layer.cross_attn.weights for layer in model.decoder]), atol=1e-6)


class YearReader(nn.Module):
    """One decoder layer, two cross-attention heads: head 0 spreads evenly over the real source
    characters; head 1 sends ISO position t < 4 to the t-th character of the source's year."""

    def __init__(self, year_starts):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))
        self.year_starts = year_starts
        self.decoder = [nn.Module()]
        self.decoder[0].cross_attn = nn.Module()

    def forward(self, src, tgt_in):
        real = (src != PAD_ID).float()
        even = (real / real.sum(1, keepdim=True))[:, None, :].expand(len(src), tgt_in.size(1), src.size(1))
        weights = torch.stack([even, even.clone()], 1)
        for row, start in enumerate(self.year_starts):
            weights[row, 1, :4] = 0.0
            weights[row, 1, torch.arange(4), start + torch.arange(4)] = 1.0
        self.decoder[0].cross_attn.weights = weights


def test_year_attention_mass_finds_the_head_that_reads_the_year_against_a_uniform_head(nb):
    dates = nb.date_data(200, 80, seed=0)
    pairs = dates.test
    with_year = [(s, t) for s, t in pairs if s.count(t[:4]) == 1]
    assert 10 < len(with_year) < len(pairs), "the sample holds dates with and without a four-digit year"
    assert len({len(s) for s, _ in with_year}) > 3, "sources of several lengths, so padding matters"
    mass, uniform, n = nb.year_attention_mass(YearReader([s.index(t[:4]) for s, t in with_year]), dates, pairs)
    even = sum(4 / len(s) for s, _ in with_year) / len(with_year)
    assert n == len(with_year) and mass.shape == (1, 2)
    assert uniform == pytest.approx(even, rel=1e-5), "4 / the source's own length, padding left out"
    assert mass[0, 0].item() == pytest.approx(even, rel=1e-5), "a head spreading evenly scores the uniform share"
    assert mass[0, 1].item() == pytest.approx(1.0, abs=1e-6), "the year digits read the year: all their weight"


# ----------------------------------------------------------------------------- exercises
@pytest.fixture(scope="module")
def exercises():
    return Exercises("09_transformer")


def test_exercise_1_causal_keep_mask_check_rejects_the_wrong_triangle(nb, exercises):
    from solutions import nb09

    cases = [(1,), (4,), (7,)]
    assert torch.equal(nb09.causal_keep_mask(5), nb.causal_bias(5) == 0), "the notebook's causal mask"
    assert exercises.check_function(nb09.causal_keep_mask, cases)
    for wrong in (lambda n: torch.ones(n, n, dtype=torch.bool).triu(), lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1)):
        assert not exercises.check_function(wrong, cases, name="causal_keep_mask")

    def causal_keep_mask(n):
        raise NotImplementedError

    assert not exercises.check_function(causal_keep_mask, cases)


def test_exercise_2_padding_bias_from_lengths_check_rejects_near_misses(nb, exercises):
    from solutions import nb09

    cases = [(torch.tensor([3, 1, 4]), 4), (torch.tensor([2]), 5)]
    tokens = torch.tensor([[7, 7, 7, 0], [7, 0, 0, 0], [7, 7, 7, 7]])
    assert torch.equal(nb09.padding_bias_from_lengths(torch.tensor([3, 1, 4]), 4), nb.padding_bias(tokens))
    assert exercises.check_function(nb09.padding_bias_from_lengths, cases)
    wrong_shape = lambda lengths, n: nb09.padding_bias_from_lengths(lengths, n)[:, 0, 0, :]
    off_by_one = lambda lengths, n: nb09.padding_bias_from_lengths(lengths + 1, n)
    boolean = lambda lengths, n: (torch.arange(n)[None, :] < lengths[:, None])[:, None, None, :]
    for wrong in (wrong_shape, off_by_one, boolean):
        assert not exercises.check_function(wrong, cases, name="padding_bias_from_lengths")


def test_exercise_3_numbers_check_rejects_the_variance_and_the_wrong_peak(nb, exercises):
    from solutions import nb09

    assert nb09.unscaled_std_at_64 == 8.0
    assert math.isclose(nb09.peak_lr_512_4000, max(nb.transformer_lr(s, 512, 4000) for s in range(1, 8001)))
    assert exercises.check_close("unscaled_std_at_64", 8.0, atol=1e-3)
    for wrong in (64.0, 1.0, ...):                       # the variance; the scaled one; no answer
        assert not exercises.check_close("unscaled_std_at_64", wrong, atol=1e-3)
    assert exercises.check_close("peak_lr_512_4000", 6.988e-4, atol=1e-6)
    for wrong in (512 ** -0.5, 4000 ** -0.5):
        assert not exercises.check_close("peak_lr_512_4000", wrong, atol=1e-6)

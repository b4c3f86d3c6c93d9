"""Notebook 12 (GPT-2 generation), its own code loaded from the notebook (utils.lessons): the
byte-level BPE, perplexity by hand, and every hand-written decoding rule (greedy, beam search,
temperature, top-k, top-p, repetition penalty, the sampler that combines them) against
transformers' generate() and logits processors, token for token, on a small seeded GPT-2; and
the exercise self-checks reject wrong answers."""
import math

import pytest
import torch

from utils.checks import Exercises
from utils.data.tiny_shakespeare import load_text
from utils.lessons import load_lesson

MUTATIONS = [
    ("mass_before = probs.cumsum(-1) - probs", "mass_before = probs.cumsum(-1)",
     "top-p keeps the wrong side of the cumulative sum: the token that reaches p is dropped"),
    ("    return logits / temperature", "    return logits * temperature",
     "temperature multiplies the logits instead of dividing them"),
    ("penalised = torch.where(logits > 0, logits / penalty, logits * penalty)",
     "penalised = torch.where(logits > 0, logits * penalty, logits / penalty)",
     "the repetition penalty raises the logits of tokens already used"),
    ("    return ids[:int(ends[0])] if len(ends) else ids", "    return ids[:int(ends[-1])] if len(ends) else ids",
     "a continuation is cut at its last end-of-text token instead of its first"),
    ("(not stopped_early or int(theirs[0, -1]) == eos_token_id)", "True",
     "the token-for-token check accepts generate() stopping early without an end-of-text token"),
]

VOCAB = 96


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("12_gpt2_generation", profile="smoke")


@pytest.fixture(scope="module")
def model():
    """A small GPT-2, randomly initialised with a seed (wide initial weights: peaked distributions)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=2, initializer_range=0.3,
                        bos_token_id=None, eos_token_id=None, pad_token_id=0)
    return GPT2LMHeadModel(config).eval()


@pytest.fixture(scope="module")
def prompts():
    generator = torch.Generator().manual_seed(1)
    return [torch.randint(1, VOCAB, (1, n), generator=generator) for n in (3, 5, 8)]


@pytest.fixture(scope="module")
def tokenizer(nb):
    text, _ = load_text()                       # offline: gensim's Lee corpus
    return nb.train_byte_level_bpe([text[i:i + 10_000] for i in range(0, 40_000, 10_000)], 400)


def generate(model, prompt, n_new, **settings):
    return model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n_new, pad_token_id=0,
                          **settings)


# ----------------------------------------------------------------------------- tokenizer and perplexity
def test_byte_level_bpe_is_lossless_and_has_every_byte(nb, tokenizer):
    for text in ("The fire crossed the highway.\n", "naïve café ☕ ∑ 東京", "  two  spaces\tand a tab"):
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert len(tokenizer) <= 400 and tokenizer.convert_tokens_to_ids(nb.EOS) == 0
    vocabulary = tokenizer.get_vocab()
    from tokenizers import pre_tokenizers

    assert set(pre_tokenizers.ByteLevel.alphabet()) <= set(vocabulary), "all 256 bytes are tokens"


def test_prompt_from_ends_at_a_word_boundary(nb, tokenizer):
    text = "Residents of the southern highlands were evacuated overnight as the fire crossed the highway."
    ids = tokenizer(text)["input_ids"]
    for n_tokens in (5, 8, 12):
        prompt = nb.prompt_from(tokenizer, text, n_tokens)
        n = prompt.shape[1]
        assert prompt[0].tolist() == ids[:n] and 3 <= n <= n_tokens
        assert n == 3 or tokenizer.convert_ids_to_tokens(ids[n]).startswith(("Ġ", "Ċ"))


def test_perplexity_by_hand_equals_exp_of_the_models_loss(nb, model):
    ids = torch.randint(0, VOCAB, (2, 20), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(nb.perplexity_by_hand(model, ids), torch.exp(model(ids, labels=ids).loss), rtol=1e-5)


def test_evaluate_lm_per_token_and_per_character(nb, tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    lm = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=32, n_embd=32, n_layer=1, n_head=2)).eval()
    text = "The fire crossed the highway near the town, and hundreds of residents left their homes. " * 8
    ids = torch.tensor(tokenizer(text)["input_ids"])
    windows = ids[:len(ids) // 16 * 16].view(-1, 16)
    with torch.no_grad():
        figures = nb.evaluate_lm(lm, windows, tokenizer)
        loss = torch.stack([lm(w[None], labels=w[None]).loss for w in windows]).mean()   # same length each
    assert figures["val_perplexity"] == pytest.approx(math.exp(loss.item()), rel=1e-4)
    chars = sum(len(tokenizer.decode(w[1:])) for w in windows)
    tokens = windows[:, 1:].numel()
    assert figures["val_bits_per_char"] == pytest.approx(loss.item() * tokens / chars / math.log(2), rel=1e-4)


def test_random_windows_are_slices_of_the_text(nb):
    ids = torch.arange(100)
    batches = list(nb.RandomWindows(ids, 10, 4, steps_per_epoch=3, seed=0))
    assert len(batches) == 3 and all(b.shape == (4, 10) for b in batches)
    assert all(torch.equal(w, torch.arange(int(w[0]), int(w[0]) + 10)) for b in batches for w in b)
    again = list(nb.RandomWindows(ids, 10, 4, steps_per_epoch=3, seed=0))
    assert all(torch.equal(x, y) for x, y in zip(batches, again, strict=True)), "seeded"


# ----------------------------------------------------------------------------- deterministic decoding
def test_the_kv_cache_changes_no_logit(nb, model, prompts):
    ids, past = prompts[1], None
    for _ in range(6):
        cached, past = nb.next_token_logits(model, ids, past)
        full, _ = nb.next_token_logits(model, ids)
        assert torch.allclose(cached, full, atol=1e-5)
        ids = torch.cat([ids, cached.argmax(-1, keepdim=True)], dim=1)


def test_greedy_equals_generate(nb, model, prompts):
    for prompt in prompts:
        assert torch.equal(nb.greedy_decode(model, prompt, 15), generate(model, prompt, 15, do_sample=False))


def test_beam_search_equals_generate_and_scores_by_log_probability(nb, model, prompts):
    for prompt in prompts:
        beams = nb.beam_search(model, prompt, 8, 4)
        out = generate(model, prompt, 8, do_sample=False, num_beams=4, length_penalty=1.0, early_stopping=False,
                       output_scores=True, return_dict_in_generate=True)
        assert torch.equal(beams[0][1], out.sequences[:1])
        assert float(beams[0][0]) / 8 == pytest.approx(float(out.sequences_scores[0]), rel=1e-4, abs=1e-4)
        assert float(beams[0][0]) == pytest.approx(nb.sequence_log_prob(model, beams[0][1], prompt.shape[1]), abs=1e-3)
    assert torch.equal(nb.beam_search(model, prompts[0], 8, 1)[0][1], nb.greedy_decode(model, prompts[0], 8)), \
        "greedy is beam search with one beam"


# ----------------------------------------------------------------------------- the logits processors
@pytest.fixture(scope="module")
def logits():
    generator = torch.Generator().manual_seed(0)
    return torch.cat([3 * torch.randn(20, VOCAB, generator=generator), torch.randn(20, VOCAB, generator=generator)])


def test_temperature_equals_the_warper_and_raises_entropy(nb, logits):
    from transformers.generation import TemperatureLogitsWarper

    context = torch.zeros(len(logits), 1, dtype=torch.long)
    for t in (0.3, 0.7, 1.5):
        assert torch.allclose(nb.apply_temperature(logits, t), TemperatureLogitsWarper(t)(context, logits.clone()))
    entropies = torch.stack([nb.entropy(nb.apply_temperature(logits, t)) for t in (0.2, 0.5, 1.0, 2.0, 5.0)])
    assert (entropies[1:] > entropies[:-1]).all(), "entropy grows with temperature"
    assert nb.entropy(torch.zeros(VOCAB)).item() == pytest.approx(math.log(VOCAB)), "uniform: log |V|"
    assert nb.entropy(torch.tensor([0.0, 0.0, float("-inf")])).item() == pytest.approx(math.log(2)), "0 log 0 = 0"


def test_top_k_and_top_p_equal_the_warpers(nb, logits):
    from transformers.generation import TopKLogitsWarper, TopPLogitsWarper

    context = torch.zeros(len(logits), 1, dtype=torch.long)
    for k in (1, 5, 50):
        assert torch.equal(nb.top_k_filter(logits, k), TopKLogitsWarper(top_k=k)(context, logits.clone()))
    for p in (0.3, 0.5, 0.9, 0.95):
        assert torch.equal(nb.top_p_filter(logits, p), TopPLogitsWarper(top_p=p)(context, logits.clone()))


def test_top_p_keeps_the_smallest_set_that_reaches_p(nb):
    logits = torch.tensor([0.3, 0.05, 0.5, 0.15]).log()     # ranked: 0.5, 0.3, 0.15, 0.05
    kept = torch.isfinite(nb.top_p_filter(logits, 0.7))
    assert kept.tolist() == [True, False, True, False], "0.5 < 0.7, then 0.5 + 0.3 >= 0.7: two tokens"
    assert torch.isfinite(nb.top_p_filter(logits, 0.4)).sum() == 1, "the top token alone reaches 0.4"
    assert torch.isfinite(nb.top_p_filter(logits, 0.99)).all()
    assert torch.isfinite(nb.top_k_filter(logits, 2)).tolist() == [True, False, True, False]


def test_repetition_penalty_equals_the_processor_and_lowers_used_tokens(nb, logits):
    from transformers.generation import RepetitionPenaltyLogitsProcessor

    used = torch.randint(0, VOCAB, (len(logits), 12), generator=torch.Generator().manual_seed(2))
    for theta in (1.2, 2.0):
        penalised = nb.apply_repetition_penalty(logits, used, theta)
        assert torch.allclose(penalised, RepetitionPenaltyLogitsProcessor(theta)(used, logits.clone()))
        seen = torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, used, True)
        assert (penalised[seen] < logits[seen]).all() and torch.equal(penalised[~seen], logits[~seen])
        assert ((penalised.softmax(-1) * seen).sum(-1) < (logits.softmax(-1) * seen).sum(-1)).all()


# ----------------------------------------------------------------------------- sampling
SETTINGS = [dict(temperature=0.8, top_k=20, top_p=1.0, repetition_penalty=1.0),
            dict(temperature=1.0, top_k=0, top_p=0.9, repetition_penalty=1.0),
            dict(temperature=0.7, top_k=40, top_p=0.95, repetition_penalty=1.2),
            dict(temperature=1.3, top_k=0, top_p=1.0, repetition_penalty=1.5)]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_the_sampler_equals_generate_token_for_token(nb, model, prompts, setting):
    for seed in range(3):
        ours = nb.sample(model, prompts[1], 12, seed=seed, **setting)
        torch.manual_seed(seed)
        assert torch.equal(ours, generate(model, prompts[1], 12, do_sample=True, **setting)), (setting, seed)


def test_rank_and_mass_before(nb):
    step_logits = torch.tensor([[0.5, 0.2, 0.3], [0.5, 0.2, 0.3]]).log()
    ranks, masses = nb.rank_and_mass_before(step_logits, torch.tensor([2, 1]))
    assert ranks.tolist() == [1, 2] and masses.tolist() == pytest.approx([0.5, 0.8])


def test_generate_never_samples_outside_top_k_or_the_nucleus(nb, model, prompts):
    common = dict(max_new_tokens=10, pad_token_id=0)
    ranks, _ = nb.sampled_ranks(model, prompts[0], 32, top_k=5, top_p=1.0, temperature=1.0, **common)
    assert len(ranks) == 320 and int(ranks.max()) < 5
    ranks, mass_before = nb.sampled_ranks(model, prompts[0], 32, top_k=0, top_p=0.6, temperature=1.0, **common)
    assert float(mass_before.max()) < 0.6 + 1e-5
    ranks, mass_before = nb.sampled_ranks(model, prompts[0], 32, top_k=0, top_p=1.0, temperature=1.0, **common)
    assert int(ranks.max()) >= 5 and float(mass_before.max()) >= 0.6, "without the filters the checks would fail"


def test_repeated_fraction(nb):
    assert nb.repeated_fraction(torch.tensor([1, 2, 3, 1, 2, 3])) == pytest.approx(0.25)
    assert nb.repeated_fraction(torch.tensor([1, 2, 3, 4, 5])) == 0.0
    assert nb.repeated_fraction(torch.tensor([7] * 6)) == pytest.approx(0.75)
    assert nb.repeated_fraction(torch.tensor([1, 2])) == 0.0
    # 4-grams: 1 2 3 4 | 2 3 4 1 | 3 4 1 2 | 4 1 2 3 | 1 2 3 4 (again): one of five repeats
    assert nb.repeated_fraction(torch.tensor([1, 2, 3, 4, 1, 2, 3, 4]), n=4) == pytest.approx(0.2)
    assert nb.repeated_fraction(torch.tensor([1, 2, 3, 1, 2, 3]), n=4) == 0.0, "3-gram repeats are no 4-gram repeats"


def test_until_eos_cuts_at_the_first_end_of_text(nb):
    assert nb.until_eos(torch.tensor([5, 6, 2, 7, 2]), 2).tolist() == [5, 6]
    assert nb.until_eos(torch.tensor([5, 6, 7]), 2).tolist() == [5, 6, 7]
    assert nb.until_eos(torch.tensor([2, 5]), 2).tolist() == []


def test_same_until_eos_allows_only_an_early_stop_at_end_of_text(nb):
    ours = torch.tensor([[1, 2, 3, 4, 5]])
    assert nb.same_until_eos(ours, ours.clone(), 9)
    assert nb.same_until_eos(torch.tensor([[1, 2, 9, 4, 5]]), torch.tensor([[1, 2, 9]]), 9), "stopped at its eos"
    assert not nb.same_until_eos(ours, torch.tensor([[1, 2, 3]]), 9), "stopped early without an eos"
    assert not nb.same_until_eos(ours, torch.tensor([[1, 2, 3, 4, 6]]), 9), "a different token"


# ----------------------------------------------------------------------------- the exercises' references
def test_the_references_equal_transformers_processors():
    from transformers.generation import MinPLogitsWarper, NoRepeatNGramLogitsProcessor

    from solutions import nb12

    torch.manual_seed(0)
    for min_p in (0.05, 0.1, 0.5):
        logits = torch.randn(4, 100) * 3
        ours = nb12.min_p_filter(logits, min_p)
        theirs = MinPLogitsWarper(min_p=min_p)(torch.zeros(4, 1, dtype=torch.long), logits.clone())
        assert torch.equal(torch.isinf(ours), torch.isinf(theirs))
        assert torch.equal(ours[torch.isfinite(ours)], logits[torch.isfinite(ours)])
    generator = torch.Generator().manual_seed(0)
    for n in (2, 3):
        for _ in range(20):
            ids = torch.randint(0, 5, (12,), generator=generator)
            logits = torch.randn(8, generator=generator)
            theirs = NoRepeatNGramLogitsProcessor(n)(ids[None], logits[None].clone())[0]
            assert torch.equal(nb12.ban_repeated_ngrams(ids, logits, n), theirs)
    assert nb12.bits_per_char(16.0, 4.0) == pytest.approx(1.0)


def test_the_nucleus_size_answer_agrees_with_the_notebooks_filter(nb):
    from solutions import nb12

    logits = torch.tensor([0.45, 0.25, 0.12, 0.08, 0.05, 0.03, 0.02], dtype=torch.float64).log()
    assert int(torch.isfinite(nb.top_p_filter(logits, 0.9 - 1e-9)).sum()) == nb12.nucleus_size


# ----------------------------------------------------------------------------- exercise self-checks
@pytest.fixture(scope="module")
def exercises():
    return Exercises("12_gpt2_generation")


def test_exercise_1_check(exercises):
    assert exercises.check_equal("nucleus_size", 4)
    assert not exercises.check_equal("nucleus_size", 3)
    assert not exercises.check_equal("nucleus_size", ...)


def test_exercise_2_check_rejects_an_absolute_threshold(exercises):
    cases = [(torch.randn(3, 50), 0.1), (torch.randn(2, 20) * 4, 0.5)]
    absolute = lambda logits, min_p: logits.masked_fill(logits.softmax(-1) < min_p, float("-inf"))
    assert not exercises.check_function(absolute, cases, name="min_p_filter")


def test_exercise_3_check_rejects_banning_every_seen_token(exercises):
    cases = [(torch.tensor([1, 2, 3, 1, 2]), torch.zeros(6), 3), (torch.tensor([4, 4, 4]), torch.zeros(6), 2),
             (torch.tensor([1, 2, 3, 4]), torch.zeros(6), 3)]

    def ban_seen_tokens(ids, logits, n):
        out = logits.clone()
        out[ids] = float("-inf")
        return out

    assert not exercises.check_function(ban_seen_tokens, cases, name="ban_repeated_ngrams")


def test_exercise_4_check_rejects_natural_logarithms(exercises):
    cases = [(20.0, 4.0), (2.0, 1.0), (150.0, 3.2)]

    def not_written_yet(*args):
        raise NotImplementedError

    assert exercises.check_function(lambda ppl, cpt: math.log2(ppl) / cpt, cases, name="bits_per_char")
    assert not exercises.check_function(lambda ppl, cpt: math.log(ppl) / cpt, cases, name="bits_per_char")
    assert not exercises.check_function(not_written_yet, cases, name="bits_per_char")

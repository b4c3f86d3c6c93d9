"""Notebook 10 (BERT pretraining), its own code loaded from the notebook (utils.lessons): the
hand-written WordPiece against the tokenizers library, the [CLS] A [SEP] B [SEP] layout, the
next-sentence pairs, the 15% / 80-10-10 masking measured on many draws, the loss computed only at
the selected positions against BertForPreTraining's, fill-mask against the pipeline, the scalar
mix, the probing helpers, the head-pattern scores and a uniform head's; and the exercise
self-checks reject wrong answers."""
import math
import random

import pytest
import torch

from utils.checks import Exercises
from utils.data.pretrained import minilm_path
from utils.data.tiny_shakespeare import load_text
from utils.lessons import load_lesson

MUTATIONS = [
    ("to_random = selected & (decision >= 0.8) & (decision < 0.9)",
     "to_random = selected & (decision >= 0.8) & (decision < 1.0)",
     "the 10% meant to stay unchanged are replaced by random tokens too (80/20/0)"),
    ("token_type_ids[row, len(a) + 2:len(ids)] = 1", "token_type_ids[row, len(a) + 1:len(ids)] = 1",
     "the first [SEP] is put into segment B"),
    ("while len(a) + len(b) > budget:", "while len(a) + len(b) > budget + 1:",
     "truncate_pair leaves one token too many, so a pair outgrows MAX_LENGTH"),
    ("copied = torch.where(shown == mask_token_id, most_frequent_id, shown)", "copied = shown",
     "the copy baseline copies [MASK] itself instead of falling back on the most frequent token"),
    ("kept = ~masked & (shown == target)", "kept = ~masked & (shown != target)",
     "kept and randomised positions are swapped in the accuracy by kind"),
    ("each_key = 1 / len(ids)", "each_key = 1 / (len(ids) - 2)",
     "the uniform head of the head view spreads its weight over the real tokens only, not [CLS] and [SEP]"),
    ("scores[\"previous token\"].append(att[:, :, rows, rows - 1].mean(-1))",
     "scores[\"previous token\"].append(att[:, :, rows, rows].mean(-1))",
     "the previous-token score reads each token's weight on itself"),
    ("region_mask = torch.full_like(ids[:, :1], int(regions_visible))", "region_mask = torch.full_like(ids[:, :1], 1)",
     "the attention mask never hides the image regions"),
]


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("10_bert_pretraining", profile="smoke")


@pytest.fixture(scope="module")
def documents(nb):
    text, _ = load_text()                       # offline: gensim's Lee corpus, one article a line
    return list(dict.fromkeys(nb.split_documents(text)))[:80]


@pytest.fixture(scope="module")
def tokenizer(nb, documents):
    return nb.train_wordpiece(documents[:60], 600)


@pytest.fixture(scope="module")
def bert_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_path())    # BERT's uncased 30,522 WordPieces


@pytest.fixture(scope="module")
def pairs(nb, tokenizer, documents):
    return nb.make_nsp_pairs(nb.encode_documents(tokenizer, documents[:60]), 48, random.Random(0))


def tiny_bert(nb, tokenizer, seed=0):
    from transformers import BertConfig, BertForPreTraining

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id)
    return BertForPreTraining(config).eval()


# ----------------------------------------------------------------------------- WordPiece
def test_special_tokens_take_the_first_ids(nb, tokenizer):
    vocab = tokenizer.get_vocab()
    assert [vocab[t] for t in nb.SPECIAL_TOKENS] == list(range(nb.N_SPECIAL))
    assert len(tokenizer) == len(vocab)


def test_hand_written_wordpiece_equals_the_library(nb, tokenizer, bert_tokenizer, documents):
    held_out = documents[60:70]
    assert nb.check_wordpiece_against_library(tokenizer, held_out) > 1000
    assert nb.check_wordpiece_against_library(bert_tokenizer, held_out[:3]) > 100


def test_wordpiece_greedy_longest_match_known_answers(nb):
    vocab = {"un", "una", "##ff", "##able", "##a", "##ffable", "bush", "##fires", "##fire", "##s"}
    assert nb.wordpiece("unaffable", vocab) == ["una", "##ffable"]    # the longest prefix first
    assert nb.wordpiece("bushfires", vocab) == ["bush", "##fires"]
    assert nb.wordpiece("bushx", vocab) == ["[UNK]"]                   # a remainder that matches nothing
    assert nb.wordpiece("un" * 60, vocab) == ["[UNK]"]                 # longer than max_chars


def test_a_smaller_vocabulary_splits_more(nb, tokenizer, bert_tokenizer, documents):
    held_out = documents[60:70]
    assert nb.pieces_per_word(tokenizer, held_out).mean() > nb.pieces_per_word(bert_tokenizer, held_out).mean()


# ----------------------------------------------------------------------------- input format and pairs
def test_split_documents_and_sentences(nb):
    lines = "First article. It has two sentences.\nSecond   article!\n\n"
    assert nb.split_documents(lines) == ["First article. It has two sentences.", "Second article!"]
    blocks = "\n\n".join(f"Speech {i}." for i in range(60))             # many short blocks: 20 per document
    documents = nb.split_documents(blocks)
    assert len(documents) == 3 and documents[0].startswith("Speech 0. Speech 1.")
    assert nb.split_sentences("One. Two? Three! Four; five") == ["One.", "Two?", "Three!", "Four;", "five"]


def test_truncate_pair_cuts_the_longer_segment_from_its_end(nb):
    assert nb.truncate_pair([1, 2, 3, 4, 5], [6, 7], 5) == ([1, 2, 3], [6, 7])
    assert nb.truncate_pair([1], [2, 3, 4, 5], 3) == ([1], [2, 3])
    assert nb.truncate_pair([1, 2], [3], 5) == ([1, 2], [3])


def test_next_sentence_pairs(nb, tokenizer, documents):
    encoded = nb.encode_documents(tokenizer, documents[:60])
    pairs = [p for seed in range(4) for p in nb.make_nsp_pairs(encoded, 48, random.Random(seed))]
    labels = [label for _, _, label in pairs]
    assert abs(sum(labels) / len(labels) - 0.5) < 4 * math.sqrt(0.25 / len(labels)), "NotNext half the time"
    assert all(a and b and len(a) + len(b) + 3 <= 48 for a, b, _ in pairs), "within the length budget"
    key = lambda ids: "," + ",".join(map(str, ids)) + ","              # token runs as searchable text
    streams = [key(sum(doc, [])) for doc in encoded]

    def b_follows_a_in_its_document(a, b):
        d, at = next((d, s.find(key(a))) for d, s in enumerate(streams) if key(a) in s)
        return streams[d].find(key(b), at + len(key(a)) - 1) >= 0

    is_next = [(a, b) for a, b, label in pairs if label == 0][:40]
    assert all(b_follows_a_in_its_document(a, b) for a, b in is_next), "an IsNext B comes after its A"
    not_next = [(a, b) for a, b, label in pairs if label == 1][:40]
    assert sum(b_follows_a_in_its_document(a, b) for a, b in not_next) < 4, "a NotNext B comes from another document"


def test_collate_builds_bert_inputs_like_the_tokenizer(nb, tokenizer):
    a_text, b_text = "The fire crossed the highway.", "Residents were evacuated overnight."
    a = tokenizer(a_text, add_special_tokens=False)["input_ids"]
    b = tokenizer(b_text, add_special_tokens=False)["input_ids"]
    short = ([a[0]], [b[0]], 1)
    batch = nb.collate([(a, b, 0), short], tokenizer, torch.Generator().manual_seed(0))
    library = tokenizer(a_text, b_text)
    n = len(library["input_ids"])
    original = torch.where(batch["labels"] != -100, batch["labels"], batch["input_ids"])
    assert original[0].tolist() == library["input_ids"], "[CLS] A [SEP] B [SEP], as the post-processor builds it"
    assert batch["token_type_ids"][0].tolist() == library["token_type_ids"]
    assert batch["attention_mask"][0].tolist() == [1] * n
    assert batch["attention_mask"][1].tolist() == [1] * 5 + [0] * (n - 5), "padding is masked out"
    assert original[1, 5:].eq(tokenizer.pad_token_id).all()
    assert batch["next_sentence_label"].tolist() == [0, 1]


# ----------------------------------------------------------------------------- masking
def test_masking_keeps_15_percent_and_80_10_10_over_many_draws(nb):
    vocab_size, mask_id = 500, 4
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(nb.N_SPECIAL, vocab_size, (400, 100), generator=generator)
    special = torch.zeros_like(input_ids, dtype=torch.bool)
    special[:, 0] = special[:, -10:] = True                                   # [CLS], padding
    corrupted, labels, to_mask, to_random = nb.mask_tokens(input_ids, special, mask_id, vocab_size, generator)
    selected = labels != -100
    n_eligible, n_selected = int((~special).sum()), int(selected.sum())
    assert abs(n_selected / n_eligible - 0.15) < 4 * math.sqrt(0.15 * 0.85 / n_eligible)
    kept = selected & ~to_mask & ~to_random
    for share, target in ((to_mask, 0.8), (to_random, 0.1), (kept, 0.1)):
        sigma = math.sqrt(target * (1 - target) / n_selected)
        assert abs(int(share.sum()) / n_selected - target) < 4 * sigma
    assert not selected[special].any(), "special positions are never selected"
    assert torch.equal(labels[selected], input_ids[selected]) and labels[~selected].eq(-100).all()
    assert corrupted[to_mask].eq(mask_id).all()
    assert torch.equal(corrupted[kept], input_ids[kept]) and torch.equal(corrupted[~selected], input_ids[~selected])
    assert (corrupted[to_random] >= nb.N_SPECIAL).all() and (corrupted[to_random] < vocab_size).all()
    assert not (to_mask & to_random).any() and not (to_mask | to_random)[~selected].any()


def test_measure_masking_reads_the_shares_off_collated_batches(nb, tokenizer, pairs):
    generator = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(6):
        batch = nb.collate(pairs, tokenizer, generator)
        original = torch.where(batch["labels"] != -100, batch["labels"], batch["input_ids"])
        batches.append((original, batch["input_ids"], batch["labels"]))
    share, counts = nb.measure_masking(batches, tokenizer)
    assert counts["selected"] == sum(int((labels != -100).sum()) for _, _, labels in batches)
    n = counts["eligible"]
    assert abs(share["selected"] - 0.15) < 4 * math.sqrt(0.15 * 0.85 / n)
    for key, target in (("mask", 0.8), ("random", 0.1), ("kept", 0.1)):
        assert abs(share[key] - target) < 4 * math.sqrt(target * (1 - target) / counts["selected"]) + 0.002, key


def test_measure_masking_known_counts(nb, tokenizer):
    cls, sep, pad, mask = (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id,
                           tokenizer.mask_token_id)
    original = torch.tensor([[cls, 10, 11, 12, 13, sep, pad]])
    corrupted = torch.tensor([[cls, mask, 11, 40, 13, sep, pad]])
    labels = torch.tensor([[-100, 10, 11, 12, -100, -100, -100]])
    share, counts = nb.measure_masking([(original, corrupted, labels)], tokenizer)
    assert (counts["eligible"], counts["selected"], counts["mask"], counts["kept"], counts["random"]) == (4, 3, 1, 1, 1)
    assert share == pytest.approx({"selected": 0.75, "mask": 1 / 3, "random": 1 / 3, "kept": 1 / 3})


def test_pretraining_batches_draw_fresh_masks_every_epoch(nb, tokenizer, pairs):
    batches = nb.PretrainingBatches(pairs[:16], tokenizer, 8, seed=0)
    assert len(batches) == 2
    first, second = list(batches), list(batches)
    assert len(first) == 2 and all(b["input_ids"].shape[0] == 8 for b in first)
    assert any(not torch.equal(x["labels"], y["labels"]) for x, y in zip(first, second, strict=True))


# ----------------------------------------------------------------------------- the model's loss and evaluation
def test_loss_at_the_selected_positions_equals_the_models_loss(nb, tokenizer, pairs):
    model = tiny_bert(nb, tokenizer)
    batch = nb.collate(pairs[:8], tokenizer, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(nb.pretraining_loss(model, batch), model(**batch).loss, atol=1e-5)


def test_evaluate_pretraining_scores_the_selected_positions(nb, tokenizer, pairs):
    import torch.nn.functional as F

    model = tiny_bert(nb, tokenizer)
    batches = [nb.collate(pairs[i:i + 8], tokenizer, torch.Generator().manual_seed(i)) for i in (0, 8)]
    with torch.no_grad():
        figures = nb.evaluate_pretraining(model, batches, tokenizer.mask_token_id)
        logits = [model(**b).prediction_logits for b in batches]
        nsp = [model(**b).seq_relationship_logits for b in batches]
    targets = torch.cat([b["labels"].flatten() for b in batches])
    shown = torch.cat([b["input_ids"].flatten() for b in batches])
    flat = torch.cat([x.flatten(0, 1) for x in logits])
    selected = targets != -100
    hit = flat.argmax(-1) == targets
    assert figures["mlm_perplexity"] == pytest.approx(math.exp(F.cross_entropy(flat, targets).item()), rel=1e-4)
    assert figures["mlm_accuracy"] == pytest.approx(hit[selected].float().mean().item())
    masked = selected & (shown == tokenizer.mask_token_id)
    kept = selected & (shown == targets)
    for kind, where in (("masked", masked), ("kept", kept), ("random", selected & ~masked & ~kept)):
        assert where.any(), kind
        assert figures[f"mlm_accuracy_{kind}"] == pytest.approx(hit[where].float().mean().item()), kind
    labels = torch.cat([b["next_sentence_label"] for b in batches])
    assert figures["nsp_accuracy"] == pytest.approx((torch.cat(nsp).argmax(-1) == labels).float().mean().item())


def test_corruption_of_reads_the_three_kinds_off_the_input(nb, tokenizer):
    mask = tokenizer.mask_token_id
    batch = {"input_ids": torch.tensor([[2, mask, 11, 40, 13, 3]]), "labels": torch.tensor([[-100, 10, 11, 12, -100, -100]])}
    kinds = nb.corruption_of(batch, mask)
    assert {k: v.tolist() for k, v in kinds.items()} == {"masked": [True, False, False], "random": [False, False, True],
                                                       "kept": [False, True, False]}


def test_baselines_unigram_and_copy_known_answers(nb, tokenizer):
    mask, frequent = tokenizer.mask_token_id, 20
    # selected: [MASK] over 20 (unigram right), [MASK] over 30, kept 20, kept 31, random 40 over 20
    batch = {"input_ids": torch.tensor([[2, mask, mask, 20, 31, 40, 3]]),
             "labels": torch.tensor([[-100, 20, 30, 20, 31, 20, -100]])}
    figures, count = nb.baseline_accuracies([batch], frequent, mask)
    assert count == {"masked": 2, "random": 1, "kept": 2}
    assert figures["unigram"] == pytest.approx({"mlm_accuracy": 3 / 5, "mlm_accuracy_masked": 1 / 2,
                                                "mlm_accuracy_random": 1.0, "mlm_accuracy_kept": 1 / 2})
    assert figures["copy, else unigram"] == pytest.approx({"mlm_accuracy": 3 / 5, "mlm_accuracy_masked": 1 / 2,
                                                           "mlm_accuracy_random": 0.0, "mlm_accuracy_kept": 1.0})


def test_fill_mask_equals_the_pipeline(nb, bert_tokenizer):
    from transformers import BertConfig, BertForMaskedLM, pipeline

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(bert_tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64)
    model = BertForMaskedLM(config).eval()
    text = f"the fire crossed the {bert_tokenizer.mask_token} near the town."
    ours = nb.fill_mask(model, bert_tokenizer, text, k=5)
    theirs = pipeline("fill-mask", model=model, tokenizer=bert_tokenizer, top_k=5, device="cpu")(text)
    assert [w for w, _ in ours] == [bert_tokenizer.convert_ids_to_tokens(r["token"]) for r in theirs]
    assert [p for _, p in ours] == pytest.approx([r["score"] for r in theirs], abs=1e-5)
    ranked = nb.mask_logits(model, bert_tokenizer, text).argsort(descending=True)
    answer = bert_tokenizer.convert_ids_to_tokens(int(ranked[6]))
    assert nb.answer_rank(model, bert_tokenizer, text.replace(bert_tokenizer.mask_token, "[MASK]"), answer) == 7


def test_cloze_sentences_mask_one_single_token_word(nb, tokenizer, documents):
    found = nb.cloze_sentences(documents[60:], tokenizer, 5, max_tokens=40)
    assert found
    for sentence, answer in found:
        words = sentence.split()
        assert words.count(tokenizer.mask_token) == 1 and 8 <= len(words) <= 25
        assert tokenizer.tokenize(answer) == [answer]
        assert len(tokenizer.tokenize(sentence)) + 2 <= 40, "a query must fit the model's positions"


# ----------------------------------------------------------------------------- ELMo's scalar mix, probing
def test_scalar_mix(nb):
    states = torch.randn(5, 3, 7)
    assert torch.allclose(nb.scalar_mix(states, torch.eye(5)[2] * 100), states[2], atol=1e-4)
    assert torch.allclose(nb.scalar_mix(states, torch.zeros(5)), states.mean(0), atol=1e-6)
    w = torch.randn(5)
    by_hand = 2.5 * sum(torch.softmax(w, 0)[j] * states[j] for j in range(5))
    assert torch.allclose(nb.scalar_mix(states, w, gamma=2.5), by_hand, atol=1e-6)


def test_precision_at_k(nb):
    assert nb.precision_at_k(["a", "b", "c"], "b", k=1) == 0.0
    assert nb.precision_at_k(["a", "b", "c"], "b", k=2) == 1.0


def test_corpus_facts_finds_a_repeated_phrase(nb, bert_tokenizer):
    filler = ["Storms hit the coast overnight.", "Markets rose sharply today.", "Crowds gathered outside."]
    docs = [f"Fires burned across new south wales again. {filler[i % 3]}" for i in range(5)]
    facts = nb.corpus_facts(docs, bert_tokenizer, min_count=3, max_tokens=64)
    assert any(answer == "wales" and "new south [MASK]" in query for query, answer in facts), facts
    assert all(query.count("[MASK]") == 1 and bert_tokenizer.tokenize(a) == [a] for query, a in facts)
    assert not nb.corpus_facts(docs, bert_tokenizer, min_count=6, max_tokens=64), "a phrase seen 5 times is not a fact at 6"
    short = nb.corpus_facts(docs, bert_tokenizer, min_count=3, max_tokens=8)
    assert short and all(len(bert_tokenizer.tokenize(q.replace("[MASK]", "x"))) + 2 <= 8 for q, _ in short)
    assert any("south [MASK]" in query for query, answer in short if answer == "wales"), "cut away from the mask"


def test_mask_logits_refuses_a_query_longer_than_the_positions(nb, tokenizer):
    model = tiny_bert(nb, tokenizer)
    with pytest.raises(ValueError, match="positions"):
        nb.mask_logits(model, tokenizer, " ".join(["fire"] * 80) + " [MASK]")


class FixedHead(torch.nn.Module):
    """One layer, one head whose (T, T) attention matrix is pattern(T), whatever the tokens."""

    def __init__(self, pattern):
        super().__init__()
        self.pattern = pattern
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, output_attentions=False, **_):
        from types import SimpleNamespace

        return SimpleNamespace(attentions=(self.pattern(input_ids.shape[1])[None, None],))


def previous_token_pattern(T):
    # every token attends to the token before it, [CLS] to itself
    attention = torch.zeros(T, T)
    attention[0, 0] = 1.0
    attention[torch.arange(1, T), torch.arange(T - 1)] = 1.0
    return attention


def test_head_pattern_scores_of_a_previous_token_head(nb, bert_tokenizer):
    sentences = ["the fire crossed the highway", "a b c d e f g h"]
    scores = nb.head_pattern_scores(FixedHead(previous_token_pattern), bert_tokenizer, sentences)
    real_tokens = [len(bert_tokenizer.tokenize(s)) for s in sentences]
    assert scores["previous token"].item() == pytest.approx(1.0)
    assert scores["next token"].item() == pytest.approx(0.0) and scores["[SEP]"].item() == pytest.approx(0.0)
    assert scores["[CLS]"].item() == pytest.approx(sum(1 / n for n in real_tokens) / 2), "only the first token's"


def test_uniform_pattern_scores_are_what_a_uniform_head_scores(nb, bert_tokenizer):
    sentences = ["the fire crossed the highway", "a b c", "Hundreds of residents left their homes near Goulburn."]
    uniform = nb.uniform_pattern_scores(bert_tokenizer, sentences)
    measured = nb.head_pattern_scores(FixedHead(lambda T: torch.full((T, T), 1 / T)), bert_tokenizer, sentences)
    assert set(uniform) == set(measured)
    for name, score in measured.items():
        assert uniform[name] == pytest.approx(score.item(), rel=1e-5), name
    assert nb.uniform_pattern_scores(bert_tokenizer, ["a b c"])["previous token"] == pytest.approx(1 / 5)


# ----------------------------------------------------------------------------- exercise self-checks
@pytest.fixture(scope="module")
def exercises():
    return Exercises("10_bert_pretraining")



def test_image_and_caption_mixes_regions_in_and_the_mask_hides_them(nb, bert_tokenizer):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    encoder = BertModel(BertConfig(vocab_size=bert_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                   num_attention_heads=4, intermediate_size=64),
                        add_pooling_layer=False).eval()
    caption = bert_tokenizer("A dog catches a ball.", return_tensors="pt")
    words = caption["input_ids"].shape[1]
    regions_a, regions_b = torch.randn(1, 3, 32), torch.randn(1, 3, 32)
    with torch.no_grad():
        joint_a = nb.image_and_caption(encoder, caption, regions_a)
        joint_b = nb.image_and_caption(encoder, caption, regions_b)
        hidden = nb.image_and_caption(encoder, caption, regions_a, regions_visible=False)
        alone = encoder(**caption).last_hidden_state
    assert joint_a.shape == (1, words + 3, 32)
    assert not torch.allclose(joint_a[:, :words], joint_b[:, :words], atol=1e-4)
    assert torch.allclose(hidden[:, :words], alone, atol=1e-5)

def test_the_solutions_agree_with_the_notebooks_tokenizers(tokenizer, bert_tokenizer):
    from solutions import nb10

    a, b = "The fire crossed the highway.", "Residents were evacuated overnight."
    for tok in (tokenizer, bert_tokenizer):
        encoded = tok(a, b)
        assert encoded["token_type_ids"] == nb10.segment_ids(len(tok.tokenize(a)), len(tok.tokenize(b)))
    tokens = bert_tokenizer.convert_ids_to_tokens(bert_tokenizer("bushfires spread in unaffable towns")["input_ids"])
    words = [[tokens[i] for i in group] for group in nb10.word_groups(tokens)]
    assert all(not w[0].startswith("##") and all(t.startswith("##") for t in w[1:]) for w in words)
    assert sum(map(len, words)) == len(tokens) - 2


def test_exercise_1_check_rejects_wrong_fractions(exercises):
    assert exercises.check_close("fraction_masked", 0.12)
    assert exercises.check_close("fraction_selected_unchanged", 0.015)
    assert not exercises.check_close("fraction_masked", 0.8)
    assert not exercises.check_close("fraction_selected_unchanged", 0.1)
    assert not exercises.check_close("fraction_masked", ...)


def test_exercise_2_check_rejects_an_off_by_one(exercises):
    cases = [(3, 2), (0, 4), (5, 0), (1, 1)]

    def first_sep_in_b(a, b):
        return [0] * (a + 1) + [1] * (b + 2)

    def not_written_yet(a, b):
        raise NotImplementedError

    assert exercises.check_function(lambda a, b: [0] * (a + 2) + [1] * (b + 1), cases, name="segment_ids")
    assert not exercises.check_function(first_sep_in_b, cases, name="segment_ids")
    assert not exercises.check_function(not_written_yet, cases, name="segment_ids")


def test_exercise_3_check_rejects_one_group_per_token(exercises):
    cases = [(["[CLS]", "bush", "##fires", "spread", "[SEP]"],), (["a", "##b", "##c", "d"],)]

    def word_groups(tokens):
        return [[i] for i, t in enumerate(tokens) if not t.startswith("[")]

    assert not exercises.check_function(word_groups, cases)


def test_exercise_4_check_rejects_precision_at_1(exercises):
    cases = [([["paris", "lyon"], ["rome", "milan"]], ["lyon", "turin"]),
             ([["a", "b", "c"], ["c", "b", "a"], ["b"]], ["c", "c", "b"])]

    def mean_reciprocal_rank(rankings, answers):
        return sum(r[0] == a for r, a in zip(rankings, answers, strict=True)) / len(answers)

    assert not exercises.check_function(mean_reciprocal_rank, cases)

"""utils.text: vocabularies, padding, masks and pair batches."""
import torch

from utils.text import PairBatches, Vocab, lengths_mask, pad_batch, word_tokenize


def test_vocab_and_batching():
    vocab = Vocab.build([word_tokenize("The cat. The dog!")], min_count=1)
    ids = vocab.encode(["the", "cat", "zebra"], add_bos=True, add_eos=True)
    assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id and ids[3] == vocab.unk_id
    assert vocab.decode(ids, strip_special=True) == ["the", "cat"]
    batch = pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert batch.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths_mask(torch.tensor([3, 1])).tolist() == [[True, True, True], [True, False, False]]
    batches = PairBatches([([1, 2], [3]), ([4], [5, 6])] * 5, batch_size=4, shuffle=True)
    seen = [src.shape[0] for src, _, _ in batches]
    assert len(batches) == 3 and sum(seen) == 10


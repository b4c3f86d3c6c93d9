"""Vocabularies, tokenising and batching of sequences."""
from __future__ import annotations

import collections
import re
from typing import Iterable

import torch

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3   # their ids in every Vocab built with the default specials
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def word_tokenize(text: str, lower: bool = True) -> list[str]:
    """Split into words and punctuation marks (a simple, language-agnostic tokeniser)."""
    if not isinstance(text, str):
        raise TypeError(f"word_tokenize takes a string, got {type(text).__name__}")
    return _WORD.findall(text.lower() if lower else text)


class Vocab:
    """Token <-> id mapping with the special tokens pad=0, bos=1, eos=2, unk=3.

    >>> vocab = Vocab.build([["a", "b"], ["a"]], min_count=1)
    >>> vocab.decode(vocab.encode(["a", "b", "zzz"]))
    ['a', 'b', '<unk>']
    """

    def __init__(self, tokens: Iterable[str], specials=(PAD, BOS, EOS, UNK)):
        self.itos = list(dict.fromkeys([*specials, *tokens]))
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.specials = tuple(specials)

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]], min_count: int = 1, max_size: int | None = None,
              specials=(PAD, BOS, EOS, UNK)) -> "Vocab":
        if isinstance(sequences, str):
            raise TypeError("Vocab.build takes sequences of tokens, e.g. [list(text)] or "
                            "[word_tokenize(line) for line in lines], not one string")
        if min_count < 1 or (max_size is not None and max_size <= len(specials)):
            raise ValueError(f"min_count must be at least 1 (got {min_count}) and max_size larger than the "
                             f"{len(specials)} special tokens (got {max_size})")
        counts = collections.Counter(t for seq in sequences for t in seq)
        ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(specials))]
        vocab = cls(ranked, specials)
        vocab.counts = counts
        return vocab

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    @property
    def pad_id(self):
        return self.stoi.get(PAD, 0)

    @property
    def bos_id(self):
        return self.stoi[BOS]

    @property
    def eos_id(self):
        return self.stoi[EOS]

    @property
    def unk_id(self):
        return self.stoi[UNK]

    def encode(self, tokens: Iterable[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        unk = self.stoi.get(UNK)
        ids = []
        for t in tokens:
            if t in self.stoi:
                ids.append(self.stoi[t])
            elif unk is not None:
                ids.append(unk)
            else:
                raise KeyError(f"token {t!r} is not in the vocabulary and it has no {UNK}")
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int], strip_special: bool = False) -> list[str]:
        out = []
        for i in (ids.tolist() if hasattr(ids, "tolist") else ids):
            if not 0 <= int(i) < len(self.itos):
                raise ValueError(f"id {int(i)} is not in this vocabulary of {len(self.itos)} tokens "
                                 f"(ids 0 to {len(self.itos) - 1}): were these ids made with another "
                                 "vocabulary?")
            token = self.itos[int(i)]
            if strip_special and token == EOS:
                break
            if strip_special and token in self.specials:
                continue
            out.append(token)
        return out


def pad_batch(sequences: list[list[int]], pad_id: int = 0, length: int | None = None,
              truncate: bool = False) -> torch.Tensor:
    """Right-pad id lists into a (batch, length) LongTensor. A sequence longer than ``length`` is
    an error unless ``truncate=True`` cuts it."""
    longest = max((len(s) for s in sequences), default=0)
    length = longest if length is None else length
    if length < 0:
        raise ValueError(f"length must be a number of positions, got {length}")
    if longest > length and not truncate:
        raise ValueError(f"a sequence of {longest} ids does not fit length={length}: pass a larger length, "
                         "or truncate=True to cut the sequences")
    batch = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    for i, seq in enumerate(sequences):
        seq = seq[:length]
        batch[i, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return batch


def lengths_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean mask (batch, max_len): True at real positions, False at padding."""
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or (lengths.numel() and lengths.min() < 0):
        raise ValueError(f"lengths must be a 1-D tensor of non-negative lengths, got {lengths.tolist()}")
    max_len = (int(lengths.max()) if lengths.numel() else 0) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class PairBatches:
    """Batches of (source ids, target ids) pairs, padded, shuffled each epoch; re-iterable.

    Yields ``(src, src_lengths, tgt)`` with targets wrapped in <bos> ... <eos>.
    """

    def __init__(self, pairs: list[tuple[list[int], list[int]]], batch_size: int, pad_id: int = 0,
                 shuffle: bool = True, seed: int = 0):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        if not pairs:
            raise ValueError("PairBatches got no pairs: is the data set empty, or filtered away?")
        self.pairs, self.batch_size, self.pad_id, self.shuffle = pairs, batch_size, pad_id, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return (len(self.pairs) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        order = (torch.randperm(len(self.pairs), generator=self.generator).tolist() if self.shuffle
                 else list(range(len(self.pairs))))
        for start in range(0, len(order), self.batch_size):
            chunk = [self.pairs[i] for i in order[start:start + self.batch_size]]
            src = [s for s, _ in chunk]
            tgt = [t for _, t in chunk]
            yield (pad_batch(src, self.pad_id), torch.tensor([len(s) for s in src]),
                   pad_batch(tgt, self.pad_id))

"""Reference solutions for notebook 06 (word2vec)."""
import numpy as np
import torch
import torch.nn.functional as F

EXERCISES = {1: ["paper_keep_probability"], 2: ["cbow_negative_sampling_loss"], 3: ["analogy"]}


def paper_keep_probability(counts, threshold: float = 1e-5):
    """Exercise 1: the subsampling rule as the paper writes it (Mikolov et al. 2013b, eq. 5).

    A word of relative frequency f is *discarded* with probability 1 - sqrt(t / f); the
    probability of keeping it is the rest, and never more than 1.

    gensim keeps a word with min(1, sqrt(t / f) + t / f), the paper's sqrt(t / f) plus t / f >= 0,
    so never less often; for f = 100 t that is 0.11 against 0.1, a factor of 1.1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    frequency = counts / counts.sum()
    return np.minimum(1.0, np.sqrt(threshold / frequency))


def cbow_negative_sampling_loss(context_vectors, target_vector, negative_vectors):
    """Exercise 2: CBOW's loss for one example.

    context_vectors (C, D): input vectors of the words around the position;
    target_vector (D,): output vector of the word at the position;
    negative_vectors (K, D): output vectors of K noise words.
    The hidden vector is the mean of the context vectors.
    """
    hidden = context_vectors.mean(dim=0)
    positive = F.logsigmoid(target_vector @ hidden)
    negative = F.logsigmoid(-(negative_vectors @ hidden)).sum()
    return -(positive + negative)


def analogy(vectors, words, a, b, c):
    """Exercise 3: the word d that completes "a is to b as c is to d" (3CosAdd).

    vectors (V, D) and the list of V words; normalise every vector to unit length, take
    b - a + c, and return the most cosine-similar word other than a, b and c.
    """
    vectors = torch.as_tensor(np.asarray(vectors), dtype=torch.float32)
    unit = F.normalize(vectors, dim=1)
    index = {w: i for i, w in enumerate(words)}
    query = unit[index[b]] - unit[index[a]] + unit[index[c]]
    scores = unit @ F.normalize(query, dim=0)
    for w in (a, b, c):
        scores[index[w]] = -float("inf")
    return words[int(scores.argmax())]

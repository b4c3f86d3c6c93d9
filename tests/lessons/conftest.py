"""Fixtures shared by lesson tests: the notebook's definitions on one thread, and for the notebooks
on pretrained encoders (11, 13) the MiniLM tokenizer and a tiny BERT configuration."""
import pytest
import torch

from utils.lessons import load_lesson


@pytest.fixture(scope="module")
def nb(request):
    """The definitions of the test module's ``NOTEBOOK`` (smoke profile), torch on one thread (tiny
    tensors, where a second thread only adds waiting). A module may define its own ``nb``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_lesson(request.module.NOTEBOOK, profile="smoke")
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tokenizer():
    """The offline MiniLM package's uncased WordPiece tokenizer (bert-base-uncased's vocabulary). A
    module may define its own ``tokenizer``."""
    from transformers import AutoTokenizer

    from utils.data.pretrained import minilm_path

    return AutoTokenizer.from_pretrained(minilm_path())


@pytest.fixture(scope="module")
def tiny_bert_config(tokenizer):
    """A BERT two layers deep and 32 wide on that vocabulary: a random stand-in for the encoders."""
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=128)

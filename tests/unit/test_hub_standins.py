"""The online paths, tested offline: every hub loader runs against a local stand-in that has the
hub data set's exact splits and features (column names and types, as ``datasets`` declares them on
the hub), so the code after the download runs in CI. A stand-in whose schema is changed, as the
hub might change it one day, must make the loader stop with ``HubSchemaChanged`` (and the source
chain then falls back to the offline default, saying so), not return wrong data."""
import numpy as np
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Image, Sequence, Value

from utils.data import HubSchemaChanged, load_hub_dataset
from utils.data.generated import templated_squad
from utils.data.mnist import load_mnist, mnist_from_hub
from utils.data.multi30k import load_multi30k, multi30k_from_hub
from utils.data.polarity import load_polarity, polarity_from_hub
from utils.data.squad import load_squad, squad_from_hub
from utils.data.tiny_shakespeare import load_text, shakespeare_from_hub
from utils.data.word_corpus import load_word2vec_corpus

# The features of each hub data set, as the hub's dataset cards (dataset_info) declare them.
SQUAD_FEATURES = Features({
    "id": Value("string"), "title": Value("string"), "context": Value("string"), "question": Value("string"),
    "answers": Sequence({"text": Value("string"), "answer_start": Value("int32")})})
MNIST_FEATURES = Features({"image": Image(), "label": ClassLabel(names=[str(d) for d in range(10)])})
SHAKESPEARE_FEATURES = Features({"text": Value("string")})
MULTI30K_FEATURES = Features({"en": Value("string"), "de": Value("string")})
POLARITY_FEATURES = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})


def squad_standin():
    def split(n, seed):
        rows = templated_squad(n, seed=seed)
        return Dataset.from_dict({k: [r[k] for r in rows] for k in SQUAD_FEATURES}, features=SQUAD_FEATURES)

    return DatasetDict(train=split(30, 0), validation=split(10, 1))


def mnist_standin():
    from PIL import Image as PILImage

    rng = np.random.default_rng(0)

    def split(n):
        images = [PILImage.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)) for _ in range(n)]
        return Dataset.from_dict({"image": images, "label": rng.integers(0, 10, n).tolist()}, features=MNIST_FEATURES)

    return DatasetDict(train=split(12), test=split(4))


def shakespeare_standin():
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"
    parts = {"train": text * 8, "validation": text, "test": text[:40]}
    return DatasetDict({k: Dataset.from_dict({"text": [v]}, features=SHAKESPEARE_FEATURES) for k, v in parts.items()})


def multi30k_standin():
    pairs = [("Two dogs play in the snow.", "Zwei Hunde spielen im Schnee."),
             ("A man rides a bike.", "Ein Mann fährt Fahrrad.")]
    split = Dataset.from_dict({"en": [e for e, _ in pairs], "de": [d for _, d in pairs]}, features=MULTI30K_FEATURES)
    return DatasetDict(train=split, validation=split, test=split)


def polarity_standin():
    rows = {"text": ["a gorgeous , witty film .", "a dull , lifeless mess ."], "label": [1, 0]}
    split = Dataset.from_dict(rows, features=POLARITY_FEATURES)
    return DatasetDict(train=split, validation=split, test=split)


STANDINS = {"rajpurkar/squad": squad_standin, "ylecun/mnist": mnist_standin,
            "karpathy/tiny_shakespeare": shakespeare_standin, "bentrevett/multi30k": multi30k_standin,
            "cornell-movie-review-data/rotten_tomatoes": polarity_standin}


@pytest.fixture
def hub(monkeypatch):
    """Online as far as the course can tell, with ``datasets.load_dataset`` serving the stand-ins."""
    import datasets

    calls = []

    def fake_load_dataset(hub_id, *args, **kwargs):
        calls.append((hub_id, kwargs))
        return STANDINS[hub_id]()

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.setenv("COURSE_ONLINE", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    return calls


def test_squad_from_the_hub(hub):
    splits, source = load_squad()
    assert source.kind == "hub" and len(splits["train"]) == 30 and len(splits["validation"]) == 10
    record = splits["validation"][0]
    start, text = record["answers"]["answer_start"][0], record["answers"]["text"][0]
    assert record["context"][start:start + len(text)] == text and record["title"]


def test_mnist_from_the_hub(hub):
    data = load_mnist()
    assert data.source.kind == "hub" and data.name == "mnist"
    assert tuple(data.train_images.shape) == (12, 1, 28, 28) and 0 <= data.train_images.min() <= data.train_images.max() <= 1


def test_tiny_shakespeare_from_the_hub(hub):
    text, source = load_text()
    assert source.kind == "hub" and text.startswith("First Citizen") and text.endswith(shakespeare_standin()["test"][0]["text"])


def test_multi30k_from_the_hub(hub):
    pairs, source = load_multi30k("en", "de")
    assert source.kind == "hub" and pairs["test"][0] == ("Two dogs play in the snow.", "Zwei Hunde spielen im Schnee.")
    reverse, _ = load_multi30k("de", "en")
    assert reverse["train"][1] == ("Ein Mann fährt Fahrrad.", "A man rides a bike.")


def test_polarity_from_the_hub(hub):
    data, source = load_polarity()
    assert source.kind == "hub" and ("a gorgeous , witty film .", 1) in data["test"]
    assert len(data["train"]) == 4, "validation joins train"


def test_wikitext_streamed_from_the_hub(hub, monkeypatch):
    import datasets

    rows = [{"text": " = Valkyria Chronicles III = \n"}, {"text": ""}, {"text": " Senjō no Valkyria 3 is a game \n"}]
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: iter(rows))
    sentences, source = load_word2vec_corpus(max_tokens=6)
    assert source.kind == "hub" and sentences[0] == ["valkyria", "chronicles", "iii"]


def test_a_script_data_set_is_read_from_the_parquet_conversion(monkeypatch, capsys):
    import datasets

    revisions = []

    def fake(hub_id, *args, **kwargs):
        revisions.append(kwargs.get("revision"))
        if kwargs.get("revision") is None:
            raise RuntimeError("Dataset scripts are no longer supported, but found tiny_shakespeare.py")
        return shakespeare_standin()

    monkeypatch.setattr(datasets, "load_dataset", fake)
    assert shakespeare_from_hub(load_hub_dataset("karpathy/tiny_shakespeare")).startswith("First Citizen")
    assert revisions == [None, "refs/convert/parquet"] and "Parquet conversion" in capsys.readouterr().out


# ----------------------------------------------------------------------------- a changed hub
def renamed(dataset, old, new):
    return DatasetDict({k: v.rename_column(old, new) for k, v in dataset.items()})


@pytest.mark.parametrize("convert, changed", [
    (squad_from_hub, lambda: renamed(squad_standin(), "answers", "answer")),
    (squad_from_hub, lambda: DatasetDict(train=squad_standin()["train"])),                 # no validation split
    (mnist_from_hub, lambda: renamed(mnist_standin(), "label", "digit")),
    (shakespeare_from_hub, lambda: renamed(shakespeare_standin(), "text", "content")),
    (lambda ds: multi30k_from_hub("en", "de", ds), lambda: renamed(multi30k_standin(), "de", "german")),
    (polarity_from_hub, lambda: renamed(polarity_standin(), "label", "sentiment")),
    (polarity_from_hub, lambda: DatasetDict({k: v.cast_column("label", ClassLabel(names=["pos", "neg"]))
                                            for k, v in polarity_standin().items()})),     # labels swapped
], ids=["squad_answers_renamed", "squad_no_validation", "mnist_label_renamed", "shakespeare_text_renamed",
        "multi30k_de_renamed", "polarity_label_renamed", "polarity_labels_swapped"])
def test_a_changed_schema_stops_the_loader(convert, changed):
    with pytest.raises(HubSchemaChanged, match="has changed|labels are"):
        convert(changed())


def test_squad_answers_that_moved_are_refused():
    dataset = squad_standin()
    broken = dataset["train"].map(lambda r: {"answers": {"text": r["answers"]["text"],
                                                         "answer_start": [s + 3 for s in r["answers"]["answer_start"]]}})
    with pytest.raises(Exception, match="does not stand at answer_start"):
        squad_from_hub(DatasetDict(train=broken, validation=dataset["validation"]))


def test_the_source_chain_reports_a_changed_hub_and_falls_back(hub, monkeypatch, capsys):
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: renamed(shakespeare_standin(), "text", "content"))
    text, source = load_text()
    out = capsys.readouterr().out
    assert source.kind == "offline" and "failed (HubSchemaChanged" in out and "offline default" in out

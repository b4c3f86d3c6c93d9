"""Tasks the course generates itself: always available offline, any size, reproducible by seed."""
from __future__ import annotations

import datetime as dt
import random

import numpy as np

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# Each format turns a date into one human-written surface form.
DATE_FORMATS = [
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    lambda d: f"{MONTHS[d.month - 1][:3]}. {d.day} {d.year}",
    lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {_ordinal(d.day)}, {d.year}",
    lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    lambda d: f"{d.month}/{d.day}/{str(d.year)[2:]}",
    lambda d: f"{d.day}.{d.month}.{d.year}",
    lambda d: f"{d.year}, {MONTHS[d.month - 1].lower()} {d.day}",
    lambda d: f"{MONTHS[d.month - 1].upper()} {d.day} {d.year}",
]


def _count(n, what: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"the number of {what} must be a whole number >= 0, got {n!r}")


def random_date(rng: random.Random, start_year: int = 1950, end_year: int = 2049) -> dt.date:
    start = dt.date(start_year, 1, 1).toordinal()
    end = dt.date(end_year, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))


def dates_dataset(n: int, seed: int = 0, formats: list[int] | None = None) -> list[tuple[str, str]]:
    """``n`` pairs (human-written date, ISO date), e.g. ("Tue 3 Mar 1998", "1998-03-03").

    The "m/d/yy" form maps two-digit years to 1950-2049, like the generator's date range.
    Use different seeds for training and held-out sets; ``dates_split`` also removes overlap.
    """
    _count(n, "dates")
    rng = random.Random(seed)
    chosen = formats if formats is not None else list(range(len(DATE_FORMATS)))
    if not chosen or any(not 0 <= f < len(DATE_FORMATS) for f in chosen):
        raise ValueError(f"formats must be indices 0 to {len(DATE_FORMATS) - 1} of DATE_FORMATS, "
                         f"got {formats}")
    pairs = []
    for _ in range(n):
        d = random_date(rng)
        pairs.append((DATE_FORMATS[rng.choice(chosen)](d), d.isoformat()))
    return pairs


def dates_split(n_train: int, n_test: int, seed: int = 0):
    """Training and held-out date pairs with no input string in both."""
    _count(n_test, "held-out dates")
    if n_train + n_test > 400_000:
        raise ValueError(f"{n_train + n_test:,} dates: there are only about 440,000 distinct surface forms "
                         "in 1950-2049, so a disjoint held-out split this large cannot be drawn")
    train = dates_dataset(n_train, seed=seed)
    seen = {src for src, _ in train}
    test, k = [], 1
    while len(test) < n_test:
        test += [p for p in dates_dataset(n_test, seed=seed + 1000 * k) if p[0] not in seen]
        k += 1
    return train, test[:n_test]


def adding_problem(n: int, length: int, seed: int = 0):
    """Hochreiter & Schmidhuber's adding problem: inputs (n, length, 2), targets (n,).

    Channel 0 holds uniform random numbers, channel 1 marks two positions (one in each half of
    the sequence); the target is the sum of the two marked numbers. Predicting the mean (1.0)
    gives a mean squared error of about 0.167: a model must beat that to have remembered.
    """
    import torch

    _count(n, "sequences")
    if not isinstance(length, int) or length < 2:
        raise ValueError(f"the adding problem needs sequences of at least 2 steps (one marker per half), "
                         f"got length={length!r}")
    g = torch.Generator().manual_seed(seed)
    values = torch.rand(n, length, generator=g)
    markers = torch.zeros(n, length)
    first = torch.randint(0, length // 2, (n,), generator=g)
    second = torch.randint(length // 2, length, (n,), generator=g)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return torch.stack([values, markers], dim=-1), targets


# ----------------------------------------------------------------------------- question answering
PEOPLE = ["Aiko", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goro", "Hana", "Ivan", "Julia",
          "Kenji", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Ravi", "Sofia", "Tomas", "Yuki"]
CITIES = ["Osaka", "Lisbon", "Nairobi", "Toronto", "Hanoi", "Oslo", "Lima", "Porto", "Kyoto",
          "Dublin", "Seville", "Taipei", "Quito", "Riga", "Perth", "Zurich", "Accra", "Busan"]
FIELDS = ["chemistry", "linguistics", "astronomy", "economics", "botany", "music theory",
          "geology", "robotics", "medicine", "architecture", "statistics", "oceanography"]
INSTITUTES = ["the Northern Institute", "Lakeside University", "the Royal Academy",
              "Hillcrest College", "the Central Laboratory", "Riverside Polytechnic"]
OBJECTS = ["a telescope", "a violin", "a bicycle", "a microscope", "a sailboat", "a printing press",
           "a clock", "a camera", "a loom", "a compass"]


def templated_squad(n: int, seed: int = 0) -> list[dict]:
    """Generated reading-comprehension questions in SQuAD's flat format.

    Each context is a short biography of a fictional person with several facts (birth year,
    city, field, institute, an invention, a count); each question asks for one of them, so
    the answer is a span of the context and several distractor spans of the same type exist.
    """
    _count(n, "questions")
    rng = random.Random(seed)
    records = []
    while len(records) < n:
        person, rival = rng.sample(PEOPLE, 2)
        born, moved = rng.sample(CITIES, 2)
        field_ = rng.choice(FIELDS)
        institute = rng.choice(INSTITUTES)
        invention = rng.choice(OBJECTS)
        year = rng.randint(1820, 1990)
        students = rng.randint(3, 90)
        facts = [
            (f"{person} was born in {born} in {year}.", [
                (f"Where was {person} born?", born), (f"In what year was {person} born?", str(year))]),
            (f"After studying {field_} at {institute}, {person} moved to {moved}.", [
                (f"What did {person} study?", field_), (f"Where did {person} study {field_}?", institute),
                (f"Which city did {person} move to?", moved)]),
            (f"Later {person} built {invention}, which {rival} later improved.", [
                (f"What did {person} build?", invention),
                (f"Who improved the {invention.split()[-1]}?", rival)]),
            (f"Over the years {person} trained {students} students.", [
                (f"How many students did {person} train?", str(students))]),
        ]
        rng.shuffle(facts)
        context = " ".join(sentence for sentence, _ in facts)
        question, answer = rng.choice([qa for _, qas in facts for qa in qas])
        # find the answer in the sentence that states it (the first occurrence after the person's name)
        start = context.find(answer)
        records.append({"id": f"gen-{seed}-{len(records)}", "title": f"generated-{person}",
                        "context": context, "question": question,
                        "answers": {"text": [answer], "answer_start": [start]}})
    return records


def memory_qa(n: int, n_sentences: int = 6, seed: int = 0):
    """A bAbI-style task for memory networks: who went where, then "Where is X?".

    Returns a list of ``(story sentences, question, answer, index of the supporting sentence)``.
    Only the *last* sentence about the person asked for is relevant, so a model has to attend
    to the right memory slot.
    """
    _count(n, "stories")
    if not isinstance(n_sentences, int) or n_sentences < 1:
        raise ValueError(f"a story needs at least one sentence, got n_sentences={n_sentences!r}")
    rng = random.Random(seed)
    people = PEOPLE[:8]
    places = ["kitchen", "garden", "office", "hallway", "bedroom", "bathroom", "garage", "cellar"]
    verbs = ["went to", "moved to", "travelled to", "journeyed to"]
    examples = []
    for _ in range(n):
        story, where = [], {}
        for i in range(n_sentences):
            who, place = rng.choice(people), rng.choice(places)
            story.append(f"{who} {rng.choice(verbs)} the {place}")
            where[who] = (place, i)
        who = rng.choice(sorted(where))
        examples.append((story, f"where is {who}", where[who][0], where[who][1]))
    return examples


def narma(n: int, order: int = 10, seed: int = 0):
    """The NARMA-``order`` benchmark series (Atiya & Parlos, 2000) for reservoir computing.

    Returns (u, y) as float64 NumPy arrays of length ``n``: input u ~ U[0, 0.5] and the
    nonlinear autoregressive moving-average target y.
    """
    if not isinstance(n, int) or n <= order + 1:
        raise ValueError(f"a NARMA-{order} series needs more than {order + 1} steps, got n={n!r}")
    rng = np.random.default_rng(seed)
    u = rng.uniform(0, 0.5, n)
    y = np.zeros(n)
    for t in range(order, n - 1):
        y[t + 1] = (0.3 * y[t] + 0.05 * y[t] * y[t - order + 1:t + 1].sum()
                    + 1.5 * u[t - order + 1] * u[t] + 0.1)
    return u, y

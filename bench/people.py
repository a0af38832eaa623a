"""Made-up people for the directory's tests and benchmark: German and English names
(with umlauts and ß), flat and customer numbers, and the typos a courier makes.

Every name is invented from the lists below; nothing is real personal data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

FIRST = (
    "Anna", "Jürgen", "Björn", "Sören", "Käthe", "Günter", "Jörg", "Uwe", "Heike", "Maximilian",
    "Sophie", "Lukas", "Leonie", "Felix", "Hannah", "Jonas", "Mia", "Paul", "Lea", "Elias",
    "Emma", "Noah", "Marie", "Ben", "Lina", "Finn", "Clara", "Moritz", "Ida", "Matthias",
    "Renée", "Zoë", "Andreas", "Sabine", "Wolfgang", "Ursula", "Dieter", "Brigitte", "Klaus",
    "Gisela", "Oliver", "Charlotte", "George", "Amelia", "Harry", "Olivia", "Jack", "Isla",
    "Thomas", "Emily", "William", "Grace", "James", "Ava", "Henry", "Freya", "Edward",
    "Evie", "Samuel", "Poppy", "Daniel", "Florence", "Joseph", "Matilda", "Alexander",
    "Phoebe", "Benjamin", "Eleanor", "Arthur", "Imogen", "Frederick", "Harriet", "Luca",
    "Niamh", "Rhys", "Siobhan", "Ciarán", "Aoife",
)  # fmt: skip
LAST = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze",
    "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs",
    "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel",
    "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
    "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus",
    "Martin", "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Groß", "Sommer",
    "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber", "Graf", "Dietrich", "Ziegler",
    "Kühn", "Pohl", "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer",
    "Arnold", "Wolff", "Pfeiffer", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson",
    "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White",
    "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Lewis",
    "James", "Phillips", "Mason", "Mitchell", "Rose", "Davis", "Rodriguez", "Cox",
    "Alexander", "Morgan", "Moore", "Cooper", "Harrison", "Ward", "Turner", "Parker",
    "Hughes", "Edwards", "Baker", "O'Brien", "Murphy", "Kelly", "Gallagher", "Ó Súilleabháin",
)  # fmt: skip
# German umlauts and ß as people write them without the key (and as labels print them).
ASCII_SPELLINGS = {"ä": ("ae", "a"), "ö": ("oe", "o"), "ü": ("ue", "u"), "ß": ("ss",)}


@dataclass(frozen=True)
class Someone:
    name: str
    unit: str
    email: str
    language: str


def people(count: int, *, seed: int = 17) -> list[Someone]:
    """``count`` different people (no two with the same name), each with a flat number."""
    rng = random.Random(seed)
    names: set[str] = set()
    out: list[Someone] = []
    pairs = [(f, ln) for f in FIRST for ln in LAST]
    rng.shuffle(pairs)
    for i in range(count):
        first, last = pairs[i % len(pairs)]
        name = f"{first} {last}"
        if name in names:  # past every pair: a second first name makes them apart
            name = f"{first} {rng.choice(FIRST)} {last}"
        while name in names:
            name = f"{first} {last}-{rng.choice(LAST)}"
        names.add(name)
        german = any(ch in name for ch in "äöüßÄÖÜ") or rng.random() < 0.5
        house, flat = divmod(i, 400)
        out.append(
            Someone(
                name=name,
                unit=f"{house + 1}.{flat + 1:03d}",
                email=f"person{i}@example.org",
                language="de" if german else "en",
            )
        )
    return out


def _one_typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)  # the first letter is usually right
    kind = rng.choice(("drop", "swap", "double", "replace"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    keyboard_neighbours = "qwertzuiopasdfghjklyxcvbnm"
    j = keyboard_neighbours.find(word[i].lower())
    letter = keyboard_neighbours[(j + 1) % len(keyboard_neighbours)] if j >= 0 else "e"
    return word[:i] + letter + word[i + 1 :]


def misspelt(rng: random.Random, name: str) -> str:
    """How a courier may type or a label may print ``name``: umlauts spelt out in ASCII,
    one typo in one word, the words in another order, the case lost."""
    text = name
    for umlaut, spellings in ASCII_SPELLINGS.items():
        if umlaut in text.lower() and rng.random() < 0.7:
            spelling = rng.choice(spellings)
            text = text.replace(umlaut, spelling).replace(umlaut.upper(), spelling.capitalize())
    words = text.split()
    k = rng.randrange(len(words))
    words[k] = _one_typo(rng, words[k])
    if rng.random() < 0.3:
        words.reverse()  # "Müller Anna", as on a list
    text = " ".join(words)
    return text.lower() if rng.random() < 0.2 else text


def queries(crowd: list[Someone], *, seed: int = 3) -> Iterator[tuple[Someone, str]]:
    rng = random.Random(seed)
    while True:
        person = rng.choice(crowd)
        yield person, misspelt(rng, person.name)

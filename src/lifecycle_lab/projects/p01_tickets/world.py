"""Support tickets: a seeded generator of realistic, messy tickets for the beginner project.

Why synthetic: the workbook runs offline and every seed must give each team its own data whose
properties are known. The tickets are messy on purpose, in the ways real ones are: many phrasings,
typos, tickets that touch two topics, an unequal class mix, a few wrong labels, and timestamps that
follow office hours. A `drift` knob produces later traffic with new product names and a new kind of
complaint (an outage of a product launched after training), which the monitoring section must catch.

Only numpy is imported at module level; pandas inside the functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

CLASSES = ("Billing", "Technical Issue", "General Inquiry")
COLUMNS = ("ticket_id", "created_at", "text", "label")
MAX_TEXT_CHARS = 2000
"""Longest ticket text the model accepts, at training and at serving (one schema for both)."""

SNAPSHOT = "tickets.csv"
SNAPSHOT_SEED = 42
SNAPSHOT_SIZE = 1000

PRODUCTS = ["Acme Mail", "Acme Drive", "Acme Docs", "the mobile app", "the desktop app", "Acme Calendar"]
NEW_PRODUCTS = ["Acme Vault", "Acme Meet", "SyncBox"]  # launched after the training data was collected
PLANS = ["Basic", "Pro", "Team", "Enterprise"]
AMOUNTS = ["$9.99", "$19.99", "$49", "$120", "$12.50", "EUR 29", "$240"]
ERRORS = ["error 500", "a blank screen", "error code 0x80070005", "'something went wrong'", "a timeout",
          "a spinning wheel", "error 403"]

_TEMPLATES = {
    "Billing": [
        "I was charged {amount} twice this month for my {plan} plan. Please refund the extra charge.",
        "My invoice shows {amount} but my {plan} subscription should cost less. Can you check the bill?",
        "Why did my card get debited {amount} after I cancelled {product}?",
        "Please update the credit card on file, the old one expired and my payment failed.",
        "I need a copy of last month's receipt for my expense report.",
        "I want a refund for the {plan} upgrade, I clicked it by mistake.",
        "You took money from my account without asking. {amount} for what??",
        "How do I switch from monthly to yearly billing on the {plan} plan?",
        "The VAT on my invoice is wrong, our company is registered in the EU.",
        "my bank statement has two payments of {amount} to you, please fix",
        "Can I get a discount if I pay for 10 seats of {plan} upfront?",
        "The price went up to {amount} without any notice. I want the old price back.",
    ],
    "Technical Issue": [
        "{product} keeps crashing when I open it. I get {error} every time.",
        "I can't log in to {product}, it says my password is wrong but I just reset it.",
        "Sync is broken: files I save in {product} don't show up on my laptop.",
        "After the last update {product} is extremely slow and freezes.",
        "When I click export in {product} I get {error}.",
        "the app won't load, just shows {error}. tried reinstalling already",
        "Two-factor codes never arrive so I am locked out of {product}.",
        "{product} does not open attachments anymore, it shows {error}.",
        "Notifications stopped working in {product} since yesterday.",
        "I keep getting logged out of {product} every few minutes.",
        "Uploading a 2 GB file to {product} fails halfway with {error}.",
        "Dark mode makes the text unreadable in {product}, looks like a bug.",
    ],
    "General Inquiry": [
        "Do you offer a student discount or a nonprofit program?",
        "What are your support hours on weekends?",
        "Is {product} available in Spanish and German?",
        "Where are your servers located? We need to know for our data policy.",
        "Can I use {product} offline on a plane?",
        "What payment methods do you accept for the {plan} plan?",
        "Do you have a roadmap for new features in {product}?",
        "How many people can share one {plan} workspace?",
        "I'd like to give feedback: {product} is great, keep it up!",
        "Is there an API so we can connect {product} to our CRM?",
        "Are you hiring? I'd love to work on {product}.",
        "How do I delete my account and all my data?",
    ],
}
_NEW_COMPLAINT = [  # drift: an outage of a product launched after training, phrased in new words
    "{new} has been down all morning, our whole team is blocked.",
    "Since the {new} rollout nothing loads, meetings drop after a minute.",
    "{new} lost our shared vault items after the migration!!",
    "Is {new} having an outage? status page says all green but it is dead.",
]
_OPENERS = ["", "", "", "Hi, ", "Hello team, ", "Hey, ", "Good morning, ", "URGENT: ", "Dear support, "]
_CLOSERS = ["", "", "", " Thanks.", " Thank you!", " Regards, Sam", " Please help asap.", " Cheers"]


@dataclass(frozen=True)
class TicketConfig:
    """The knobs of the ticket world. `drift` (0-1) is the share of tickets that are 'later' traffic."""

    seed: int = SNAPSHOT_SEED
    n_tickets: int = SNAPSHOT_SIZE
    class_shares: tuple = (0.45, 0.35, 0.20)  # Billing, Technical Issue, General Inquiry: imbalanced
    label_noise: float = 0.05                 # share of labels flipped to another class (annotator error)
    typo_rate: float = 0.08                   # share of tickets with character-level typos
    mixed_rate: float = 0.12                  # share that also mention a second topic
    drift: float = 0.0                        # share written with new products / the new complaint type
    start: str = "2026-01-05"                 # first day of the ticket log
    days: int = 90


class TicketConfigError(LifecycleLabError, ValueError):
    """A knob of the ticket generator is out of range."""


def _validate(cfg: TicketConfig) -> None:
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, (int, np.integer)) or cfg.seed < 0:
        raise TicketConfigError(f"seed={cfg.seed!r} must be a non-negative whole number")
    if isinstance(cfg.n_tickets, bool) or not isinstance(cfg.n_tickets, (int, np.integer)) or cfg.n_tickets < 1:
        raise TicketConfigError(f"n_tickets={cfg.n_tickets!r} must be a whole number >= 1")
    for name in ("label_noise", "typo_rate", "mixed_rate", "drift"):
        value = getattr(cfg, name)
        if not (isinstance(value, (int, float)) and 0 <= value <= 1):
            raise TicketConfigError(f"{name}={value!r} must be a share between 0 and 1")
    if cfg.label_noise > 0.5:
        raise TicketConfigError(f"label_noise={cfg.label_noise} flips most labels; use at most 0.5")
    shares = np.asarray(cfg.class_shares, dtype=float)
    if shares.shape != (3,) or np.any(shares < 0) or not np.isclose(shares.sum(), 1.0):
        raise TicketConfigError(f"class_shares={cfg.class_shares!r} must be three non-negative shares "
                                f"summing to 1, in the order {CLASSES}")


def _typo(text: str, rng: np.random.Generator) -> str:
    """One to three keyboard slips: a dropped, doubled or swapped letter."""
    chars = list(text)
    for _ in range(int(rng.integers(1, 4))):
        letters = [i for i, c in enumerate(chars[:-1]) if c.isalpha() and chars[i + 1].isalpha()]
        if not letters:
            break
        i = letters[int(rng.integers(len(letters)))]
        kind = int(rng.integers(3))
        if kind == 0:
            del chars[i]
        elif kind == 1:
            chars.insert(i, chars[i])
        else:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _fill(template: str, rng: np.random.Generator, products: list[str]) -> str:
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    return template.format(amount=pick(AMOUNTS), plan=pick(PLANS), product=pick(products), error=pick(ERRORS),
                           new=pick(NEW_PRODUCTS))


def generate(config: TicketConfig | None = None, **overrides) -> "pd.DataFrame":
    """Labelled tickets (ticket_id, created_at, text, label) for a seed; the same config gives the same rows."""
    import pandas as pd

    cfg = TicketConfig(**{**asdict(config or TicketConfig()), **overrides})
    _validate(cfg)
    rng = np.random.default_rng(cfg.seed)
    n = int(cfg.n_tickets)
    shares = np.asarray(cfg.class_shares, dtype=float)
    drifted = rng.random(n) < cfg.drift
    if cfg.drift > 0:  # later traffic: the new product's outage makes technical tickets surge
        later = np.array([0.30, 0.55, 0.15])
        labels = np.where(drifted, rng.choice(3, size=n, p=later), rng.choice(3, size=n, p=shares))
    else:
        labels = rng.choice(3, size=n, p=shares)
    texts = []
    for i in range(n):
        cls = CLASSES[labels[i]]
        products = PRODUCTS + NEW_PRODUCTS if drifted[i] else PRODUCTS
        if drifted[i] and cls == "Technical Issue" and rng.random() < 0.6:
            body = _fill(_NEW_COMPLAINT[int(rng.integers(len(_NEW_COMPLAINT)))], rng, products)
        else:
            options = _TEMPLATES[cls]
            body = _fill(options[int(rng.integers(len(options)))], rng, products)
        if rng.random() < cfg.mixed_rate:  # a second topic, mentioned in passing
            other = CLASSES[(labels[i] + 1 + int(rng.integers(2))) % 3]
            extra = _fill(_TEMPLATES[other][int(rng.integers(len(_TEMPLATES[other])))], rng, products)
            body = f"{body} Also, {extra[0].lower()}{extra[1:]}"
        text = _OPENERS[int(rng.integers(len(_OPENERS)))] + body + _CLOSERS[int(rng.integers(len(_CLOSERS)))]
        if rng.random() < 0.1:
            text = text.lower()
        if rng.random() < cfg.typo_rate:
            text = _typo(text, rng)
        texts.append(text)
    noisy = rng.random(n) < cfg.label_noise
    shift = rng.integers(1, 3, size=n)
    observed = np.where(noisy, (labels + shift) % 3, labels)
    # office hours on weekdays mostly: day offset, then hour 8-18 with some night tickets
    day = np.sort(rng.integers(0, cfg.days, size=n))
    hour = np.where(rng.random(n) < 0.85, rng.integers(8, 19, size=n), rng.integers(0, 24, size=n))
    minute = rng.integers(0, 60, size=n)
    stamps = (pd.Timestamp(cfg.start) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h")
              + pd.to_timedelta(minute, unit="m"))
    prefix = "D" if cfg.drift > 0 else "T"
    return pd.DataFrame({
        "ticket_id": [f"{prefix}{cfg.seed:x}-{i:06d}" for i in range(n)],
        "created_at": stamps.strftime("%Y-%m-%dT%H:%M:00"),
        "text": texts,
        "label": [CLASSES[k] for k in observed],
    })


def mentions_second_topic(texts) -> "pd.Series":
    """True for tickets that bring up a second topic ("..., Also, <another topic>"), the generator's marker.

    Why: mixed-topic tickets are the model's hardest cases; error analysis compares their share among the
    mistakes with their share overall. Case-insensitive (some tickets are all lower-case); a typo inside
    "Also" hides the odd one.
    """
    import pandas as pd

    return pd.Series(texts, dtype=object).astype(str).str.contains(r"\balso, ", case=False, regex=True)


@dataclass
class NightlyBatch:
    """One night's ticket file for the batch job, and the fault injected into it ("" when clean)."""

    name: str
    frame: "pd.DataFrame"
    fault: str = ""


def nightly_batches(seed: int, n_nights: int = 8, size_range: tuple = (420, 580),
                    short_night: int | None = 6) -> list[NightlyBatch]:
    """The nightly ticket files of the batch section, with the faults a real feed has.

    Night 3 (index 2) has two empty tickets from the web form and one pasted log file (2,500 characters):
    the job must reject exactly those three. Night `short_night + 1` is cut to 40 rows, as when an upstream
    export breaks: the volume alert must flag it. Sizes are drawn in `size_range`; ids are unique across
    nights (each night is its own generator seed).
    """
    if isinstance(n_nights, bool) or not isinstance(n_nights, int) or n_nights < 3:
        raise TicketConfigError(f"n_nights={n_nights!r}: use at least 3 nights (night 3 carries the bad rows)")
    low, high = size_range
    if not (isinstance(low, int) and isinstance(high, int) and 50 <= low < high):
        raise TicketConfigError(f"size_range={size_range!r}: two whole numbers, 50 <= low < high")
    if short_night is not None and not (isinstance(short_night, int) and 0 <= short_night < n_nights
                                        and short_night != 2):
        raise TicketConfigError(f"short_night={short_night!r}: a night index in [0, {n_nights}) other than 2, "
                                f"or None")
    volume_rng = np.random.default_rng(seed)
    nights = []
    for night in range(n_nights):
        size = int(volume_rng.integers(low, high))
        frame = unlabelled(generate(seed=seed * 100 + night, n_tickets=size, label_noise=0.0))
        fault = ""
        if night == 2:
            frame.loc[[5, 17], "text"] = ""  # two empty tickets arrive from the web form
            frame.loc[9, "text"] = "x" * 2500  # someone pasted a log file
            fault = "2 empty texts, 1 text over the length limit"
        if night == short_night:
            frame = frame.head(40)  # an upstream export broke: far fewer tickets than usual
            fault = "export cut short: 40 rows"
        nights.append(NightlyBatch(f"night_{night + 1}.csv", frame, fault))
    return nights


def notebook_nights(seed: int, fast: bool) -> list[NightlyBatch]:
    """The nights the notebook's batch section runs: 8 nights of 420-580 tickets with the export cut short on
    night 7, or with `fast` 5 nights of 250-350 cut short on night 5."""
    if fast:
        return nightly_batches(seed, n_nights=5, size_range=(250, 350), short_night=4)
    return nightly_batches(seed, n_nights=8, size_range=(420, 580), short_night=6)


def write_batches(batches: list[NightlyBatch], folder: str | Path) -> list[Path]:
    """Write each night's file into `folder` (created when missing) as the feed would deliver it; the paths,
    in order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for night in batches:
        path = folder / night.name
        night.frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def later_batch(seed: int, drift: float, n_tickets: int = 600) -> "pd.DataFrame":
    """An unlabelled batch of later traffic ("a month after launch"): `drift` is its share of tickets about
    the new products and the new complaint. Its ids start with "L", so they never collide with the nightly
    files' (whose generator seeds, seed * 100 + night, can equal seed + 1 when drift is 0)."""
    frame = unlabelled(generate(seed=seed + 1, n_tickets=n_tickets, drift=drift, label_noise=0.0))
    frame["ticket_id"] = [f"L{seed:x}-{i:06d}" for i in range(len(frame))]
    return frame


def true_labels(config: TicketConfig | None = None, **overrides) -> np.ndarray:
    """The labels before annotator noise (what the generator meant): to measure the noise, never to train."""
    clean = generate(config, **{**overrides, "label_noise": 0.0})
    return clean["label"].to_numpy()


def unlabelled(df: "pd.DataFrame") -> "pd.DataFrame":
    """The ticket file a batch job receives: no label column."""
    return df.drop(columns=["label"])


def to_csv_bytes(df: "pd.DataFrame") -> bytes:
    """The canonical CSV encoding (UTF-8, '\\n' line ends): byte-identical for identical frames."""
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def data_hash(df: "pd.DataFrame") -> str:
    """sha256 of the canonical CSV bytes: names the exact training data an artifact was fitted on."""
    return hashlib.sha256(to_csv_bytes(df)).hexdigest()


def write_snapshot(path: str | Path, seed: int = SNAPSHOT_SEED, n_tickets: int = SNAPSHOT_SIZE) -> str:
    """Write the shipped snapshot (datasets/tickets.csv) and return its sha256."""
    data = to_csv_bytes(generate(seed=seed, n_tickets=n_tickets))
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def stratified_split(df: "pd.DataFrame", seed: int, val: float = 0.15, test: float = 0.15):
    """Train / validation / test frames, each with the class mix of the whole (stratified on label)."""
    from sklearn.model_selection import train_test_split

    if not (0 < val < 1 and 0 < test < 1 and val + test < 0.9):
        raise TicketConfigError(f"val={val}, test={test}: choose shares in (0, 1) leaving >= 10% to train")
    counts = df["label"].value_counts()
    if (counts < 3).any():
        raise TicketConfigError(f"every class needs at least 3 tickets to split stratified; counts: "
                                f"{counts.to_dict()}")
    rest, test_df = train_test_split(df, test_size=test, stratify=df["label"], random_state=seed)
    train_df, val_df = train_test_split(rest, test_size=val / (1 - test), stratify=rest["label"],
                                        random_state=seed)
    return train_df.reset_index(drop=True), val_df.reset_index(drop=True), test_df.reset_index(drop=True)


# -- the models of the notebook: a rule baseline and the TF-IDF pipeline ---------------------------------

KEYWORDS = {
    "Billing": ("invoice", "refund", "charge", "bill", "payment", "paid", "price", "receipt", "card"),
    "Technical Issue": ("error", "crash", "log in", "login", "bug", "broken", "slow", "freez", "fail",
                        "not working", "won't"),
}


def keyword_rule(text: str) -> str:
    """The non-ML baseline a support lead would write: billing words, then technical words, else inquiry."""
    lowered = str(text).lower()
    for cls in ("Billing", "Technical Issue"):
        if any(word in lowered for word in KEYWORDS[cls]):
            return cls
    return "General Inquiry"


def build_pipeline(seed: int):
    """TF-IDF (words and character n-grams, robust to typos) + logistic regression, as one sklearn Pipeline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)),
    ])
    return Pipeline([("tfidf", features),
                     ("clf", LogisticRegression(C=5.0, max_iter=2000, class_weight="balanced", random_state=seed))])

"""Product reviews: a seeded generator with the true sentiment of every review, for notebook 07.

Why synthetic: the workbook runs offline and downloads no data set (the seed's IMDB reviews included); every
seed must give a team its own reviews whose truth is known, so the tests can check what the notebook claims.
The reviews are hard in the ways real ones are, and each row records which way (`kind`):

- `plain`: opinion words carry the sentiment ("Love it, the sound is great");
- `negation`: the opinion word is negated ("not bad at all", "would not recommend");
- `factual`: no opinion word at all, the facts say it ("stopped charging after a week", "bought a second one");
- `sarcasm`: praise words, negative meaning ("Great, it broke on day two. Just great.");
- `mixed`: both, and the clause after "but" decides;
- `lukewarm`: a 3-star "it's okay" whose sentiment the text does not settle (no model can get these all right).

`sentiment` is the truth; `label` is what an annotator wrote, flipped at random for a share `label_noise`
(`noisy` says which); `stars` follow the sentiment loosely (a 3-star review can go either way). Served
traffic (`served_reviews`) can include products launched after training, whose complaints use new words;
`corrections` are the true labels of served reviews arriving days later (moderation, returns, support
contacts): the raw material of the feedback loop.

Only numpy at module level; pandas inside the functions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SENTIMENTS = ("negative", "positive")
KINDS = ("plain", "negation", "factual", "sarcasm", "mixed", "lukewarm")
COLUMNS = ("review_id", "product", "stars", "text", "label", "sentiment", "kind", "noisy")

PRODUCTS = ["headphones", "blender", "backpack", "kettle", "desk lamp", "phone case", "running shoes",
            "coffee grinder", "keyboard", "air fryer"]
NEW_PRODUCTS = ["smart ring", "e-bike battery", "robot mop"]  # launched after the training data was collected

_GOOD = ["great", "excellent", "good", "fantastic", "amazing", "solid", "wonderful", "superb", "brilliant",
         "lovely", "terrific", "stellar", "splendid", "marvellous"]  # common first: later ones are rare
_BAD = ["terrible", "awful", "bad", "poor", "horrible", "useless", "dreadful", "lousy", "pathetic", "shoddy",
        "abysmal", "atrocious"]
_LETDOWN = ["disappointed", "let down", "unhappy", "upset"]
_GOOD_FACTS = ["bought a second one for my mother", "it does exactly what the description says",
               "I have used it every day for a year", "it still works like the first day",
               "the battery lasts the whole week", "it replaced my old one and I kept it",
               "it survived a drop on the stairs", "my kids use it daily and it holds up"]
_BAD_FACTS = ["it stopped working after three days", "I returned it the next morning", "half of it arrived in pieces",
              "it leaks from the bottom", "it stopped charging after a week", "I sent it back for a refund",
              "the button fell off on day two", "it overheats after ten minutes", "broke the first time I used it"]
_FILLER = ["", "", "", " I use it in the kitchen.", " Ordered it in blue.", " It came in a cardboard box.",
           " My partner picked it.", " Delivery took four days.", " I got it on sale."]
_TEMPLATES = {  # (sentiment, kind) -> templates; {g} a good word, {b} a bad word, {l} a let-down word
    ("positive", "plain"): ["{G} {p}, really happy with it.", "The {p} is {g}. Highly recommend.",
                            "{G} value, the {p} feels {g} and well made.", "Love this {p}, {g} quality.",
                            "Very {g} {p}, my whole family likes it."],
    ("positive", "negation"): ["Not {b} at all, the {p} does the job.", "I was not {l} with this {p}.",
                               "No complaints about the {p} so far.", "Can't fault the {p}, not one issue.",
                               "Never had a problem with the {p}.", "The {p} is not {b} at all, not {b}."],
    ("positive", "factual"): ["{F}.", "The {p}: {f}.", "{F}, and the {p} looks the same as new."],
    ("positive", "mixed"): ["Delivery was slow, but the {p} itself is {g}.", "The box was damaged but the {p} is {g}.",
                            "A bit pricey, but the {p} is {g}.", "Setup was {b}, but I love the {p} now."],
    ("negative", "plain"): ["{B} {p}, {f}.", "{B} quality, the {p} is cheap junk.", "Very {l} with this {p}.",
                            "The {p} is {b} and feels {b}.", "Worst {p} I have ever bought, {b}."],
    ("negative", "negation"): ["Not {g}, the {p} feels flimsy.", "I would not recommend this {p}.",
                               "The {p} is not worth the money.", "Not happy with the {p} at all.",
                               "Not {g}, the {p} is not what I expected.", "The {p} is not {g}, not impressed."],
    ("negative", "factual"): ["{F}.", "The {p}: {f}.", "{F}, and the {p} is in the bin now."],
    ("negative", "sarcasm"): ["{G}, the {p} broke on day two. Just {g}.", "Oh {g}, another {p} that dies in a week.",
                              "{G}, the {p} lasted exactly one use. Love that for me.",
                              "Wow, {g} {p}, if you like replacing it every month.",
                              "Best {p} ever, said nobody after using it twice.",
                              "Thanks for the {g} {p}, it makes a {g} paperweight now."],
    ("negative", "mixed"): ["The {p} looks {g}, but {f}.", "Fast delivery, but the {p} is {b}.",
                            "The price is {g} but the {p} is junk.", "{G} idea, but the {p} is badly made."],
    ("either", "lukewarm"): ["It's okay, I guess.", "The {p} does the job, nothing special.", "Average {p}.",
                             "Mixed feelings about the {p}.", "The {p} is fine for the price, I suppose.",
                             "Three stars, it is a {p}."],
}
_NEW_COMPLAINTS = [  # drift: complaints about products launched after training, in words the model never saw
    "The {p} bricked itself after the firmware update.", "The {p} firmware keeps rebooting, app won't pair.",
    "The {p} app pairing fails every morning and it resets.", "After the update the {p} is bricked, support "
    "ghosted me.",
]
_OPENERS = ["", "", "", "Honestly, ", "Update: ", "Well. ", "Quick review: "]
_CLOSERS = ["", "", "", " Thanks.", " Would buy from this seller again.", "!", " 5 stars for delivery though."]
_STARS = {"positive": ([3, 4, 5], [0.08, 0.32, 0.60]), "negative": ([1, 2, 3], [0.55, 0.33, 0.12])}
_ZIPF = 1 / np.arange(1, 40) ** 1.1  # word frequencies: a few common words, a long tail of rare ones


def _zipf(rng: np.random.Generator, words: list[str]) -> str:
    w = _ZIPF[:len(words)]
    return words[int(rng.choice(len(words), p=w / w.sum()))]


def _fill(template: str, rng: np.random.Generator, product: str, sentiment: str) -> str:
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    g, b = _zipf(rng, _GOOD), _zipf(rng, _BAD)
    fact = pick(_GOOD_FACTS if sentiment == "positive" else _BAD_FACTS)
    text = template.format(p=product, g=g, G=g.capitalize(), b=b, B=b.capitalize(), l=pick(_LETDOWN), f=fact,
                           F=fact[0].upper() + fact[1:])
    return text + pick(_FILLER)


def _typo(text: str, rng: np.random.Generator) -> str:
    """One keyboard slip: a dropped or doubled letter inside a word."""
    letters = [i for i, c in enumerate(text[:-1]) if c.isalpha() and text[i + 1].isalpha()]
    if not letters:
        return text
    i = letters[int(rng.integers(len(letters)))]
    return text[:i] + text[i + 1:] if rng.random() < 0.5 else text[:i] + text[i] + text[i:]


class ReviewConfigError(LifecycleLabError, ValueError):
    """A knob of the review generator is out of range; the message names it."""


@dataclass(frozen=True)
class ReviewConfig:
    """The knobs of the review world. `kind_shares` follow KINDS; sarcasm is only ever negative."""

    seed: int = 42
    n_reviews: int = 2000
    positive_share: float = 0.6
    label_noise: float = 0.05
    kind_shares: tuple = (0.40, 0.16, 0.16, 0.10, 0.10, 0.08)
    typo_rate: float = 0.05
    new_product_share: float = 0.0  # share of reviews about products launched after training (served traffic)
    id_prefix: str = "r"


def _validate(cfg: ReviewConfig) -> None:
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, (int, np.integer)) or cfg.seed < 0:
        raise ReviewConfigError(f"seed={cfg.seed!r} must be a non-negative whole number")
    if isinstance(cfg.n_reviews, bool) or not isinstance(cfg.n_reviews, (int, np.integer)) or cfg.n_reviews < 1:
        raise ReviewConfigError(f"n_reviews={cfg.n_reviews!r} must be a whole number >= 1")
    for name in ("positive_share", "label_noise", "new_product_share", "typo_rate"):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ReviewConfigError(f"{name}={value!r} must be a share between 0 and 1")
    if cfg.label_noise > 0.5:
        raise ReviewConfigError(f"label_noise={cfg.label_noise} flips most labels; use at most 0.5")
    shares = np.asarray(cfg.kind_shares, dtype=float)
    if shares.shape != (len(KINDS),) or np.any(shares < 0) or not np.isclose(shares.sum(), 1.0):
        raise ReviewConfigError(f"kind_shares={cfg.kind_shares!r} must be {len(KINDS)} non-negative shares "
                                f"summing to 1, in the order {KINDS}")


def generate(config: ReviewConfig | None = None, **overrides) -> "pd.DataFrame":
    """Reviews with columns COLUMNS for a seed; the same config gives the same rows."""
    import pandas as pd

    cfg = ReviewConfig(**{**asdict(config or ReviewConfig()), **overrides})
    _validate(cfg)
    rng = np.random.default_rng(cfg.seed)
    n = int(cfg.n_reviews)
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    rows = []
    for i in range(n):
        new = rng.random() < cfg.new_product_share
        positive = rng.random() < cfg.positive_share
        kind = KINDS[int(rng.choice(len(KINDS), p=np.asarray(cfg.kind_shares, dtype=float)))]
        if kind == "sarcasm" and positive:  # sarcasm is praise that means the opposite: only negative here
            kind = "plain"
        product = pick(NEW_PRODUCTS) if new else pick(PRODUCTS)
        sentiment = "positive" if positive else "negative"
        if new and not positive and rng.random() < 0.7:
            kind, template = "factual", pick(_NEW_COMPLAINTS)
        else:
            template = pick(_TEMPLATES[("either", kind) if kind == "lukewarm" else (sentiment, kind)])
        text = pick(_OPENERS) + _fill(template, rng, product, sentiment) + pick(_CLOSERS)
        if rng.random() < cfg.typo_rate:
            text = _typo(text, rng)
        stars_options, stars_p = _STARS[sentiment]
        stars = 3 if kind == "lukewarm" else int(rng.choice(stars_options, p=stars_p))
        noisy = bool(rng.random() < cfg.label_noise)
        label = SENTIMENTS[1 - SENTIMENTS.index(sentiment)] if noisy else sentiment
        rows.append((f"{cfg.id_prefix}{i + 1:06d}", product, stars, text, label, sentiment, kind, noisy))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def served_reviews(seed: int, n: int, new_product_share: float = 0.2) -> "pd.DataFrame":
    """Reviews arriving after launch (ids s000001...), a share of them about products launched since training."""
    return generate(seed=seed + 1_000_003, n_reviews=n, new_product_share=new_product_share, label_noise=0.0,
                    id_prefix="s")


def corrections(served: "pd.DataFrame", seed: int, share: float = 0.7, max_delay_days: int = 14) -> "pd.DataFrame":
    """The true labels of a share of the served reviews, each arriving some days later (review_id,
    corrected_label, arrives_day): what moderation, returns and support contacts eventually tell you."""
    import pandas as pd

    if not 0 < share <= 1:
        raise ReviewConfigError(f"share={share!r} must be a share in (0, 1]")
    if isinstance(max_delay_days, bool) or not isinstance(max_delay_days, int) or max_delay_days < 1:
        raise ReviewConfigError(f"max_delay_days={max_delay_days!r} must be a whole number of days >= 1")
    rng = np.random.default_rng(seed + 7_919)
    arrives = rng.random(len(served)) < share
    days = rng.integers(1, max_delay_days + 1, size=len(served))
    picked = served.loc[arrives]
    return pd.DataFrame({"review_id": picked["review_id"].to_numpy(), "corrected_label": picked["sentiment"].to_numpy(),
                         "arrives_day": days[arrives].astype(int)}).sort_values(["arrives_day", "review_id"],
                                                                                ignore_index=True)


def stratified_split(df: "pd.DataFrame", seed: int, val: float = 0.2, test: float = 0.2):
    """Train / validation / test frames, each with the label mix of the whole."""
    from sklearn.model_selection import train_test_split

    counts = df["label"].value_counts()
    if len(counts) < 2 or (counts < 3).any():
        raise ReviewConfigError(f"each label needs at least 3 reviews to split; counts: {counts.to_dict()}")
    rest, test_df = train_test_split(df, test_size=test, stratify=df["label"], random_state=seed)
    train_df, val_df = train_test_split(rest, test_size=val / (1 - test), stratify=rest["label"], random_state=seed)
    return train_df.reset_index(drop=True), val_df.reset_index(drop=True), test_df.reset_index(drop=True)


def data_hash(df: "pd.DataFrame") -> str:
    """sha256 of the training rows (id, text, label) as CSV: what the artifact records as its training data."""
    import hashlib

    body = df[["review_id", "text", "label"]].to_csv(index=False, lineterminator="\n").encode("utf-8")
    return hashlib.sha256(body).hexdigest()

"""A second dataset, of another shape than the treaty graph: a product catalogue, generated.

The treaty graph is text-heavy, with deep links between texts and few numbers. This one is shaped
like an online shop (after the Berlin SPARQL Benchmark's): products with types, features and
numeric properties, made by producers; offers of them by vendors, with prices and dates; reviews
by people, with ratings. Hubs (types, features, vendors) are shared by many resources, leaves
(offers, reviews) point at one product each.

Deterministic: the same scale and seed give the same N-Quads, byte for byte. Scale 1 is about the
size of the real treaty graph (about 115,000 quads, PRODUCTS_PER_SCALE products); scale N is N
times as many of everything but the types and features. Numbers are written in their canonical
form (integers, dates), so that every system under test answers them alike. Quads are spread over
named graphs: one per producer (its products), one per vendor (its offers), ten for reviews, one
for the vocabulary.
"""

from __future__ import annotations

import random
from pathlib import Path

SHOP = "http://example.org/shop/"
VOCAB = SHOP + "vocabulary#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DC = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
PRODUCTS_PER_SCALE = 2000
SEED = 20261202
TYPES = 24
FEATURES = 400
WORDS = (
    "alpha amber arc atlas aurora basalt beacon birch bolt breeze cedar cinder cobalt comet "
    "copper coral crest delta drift dune ember fable falcon fern flint forge frost garnet "
    "glacier granite harbor hazel helix horizon indigo iris ivory jade juniper kelp lagoon "
    "lantern lark lumen maple marble meadow mesa mica nebula nova oak onyx opal orbit pebble "
    "pine prism quartz quill raven reef ridge river sable sage slate solstice spruce summit "
    "tide timber topaz tundra umber valley vapor velvet willow zephyr"
).split()
COUNTRIES = ("DE", "FR", "JP", "BR", "ZA", "US", "IN", "CN", "GB", "ES", "IT", "KE")


def iri(path: str) -> str:
    return f"<{SHOP}{path}>"


def vocab(name: str) -> str:
    return f"<{VOCAB}{name}>"


def text(value: str, lang: str | None = None) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


def integer(value: int) -> str:
    return f'"{value}"^^<{XSD}integer>'


def date(day: int) -> str:
    """Day `day` counted from 2000-01-01, as an xsd:date (28-day months keep it simple)."""
    year, rest = divmod(day, 336)
    month, dom = divmod(rest, 28)
    return f'"{2000 + year:04d}-{month + 1:02d}-{dom + 1:02d}"^^<{XSD}date>'


def counts(scale: int) -> dict[str, int]:
    products = PRODUCTS_PER_SCALE * scale
    return {
        "products": products,
        "producers": max(1, products // 20),
        "vendors": max(1, products // 50),
        "people": max(1, products // 4),
    }


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def chunks(scale: int, seed: int = SEED):
    """The N-Quads text of the catalogue, a few hundred products at a time."""
    rng = random.Random(seed)
    n = counts(scale)
    vocabulary = iri("graph/vocabulary")
    lines = []
    for t in range(TYPES):
        kind = iri(f"type/{t}")
        lines.append(f"{kind} <{RDF_TYPE}> <{RDFS}Class> {vocabulary} .")
        lines.append(
            f"{kind} <{RDFS}label> {text(f'Type {t} ' + _words(rng, 1, 2), 'en')} {vocabulary} ."
        )
        if t:
            parent = iri(f"type/{(t - 1) // 3}")
            lines.append(f"{kind} <{RDFS}subClassOf> {parent} {vocabulary} .")
    for f in range(FEATURES):
        feature = iri(f"feature/{f}")
        lines.append(f"{feature} <{RDF_TYPE}> {vocab('Feature')} {vocabulary} .")
        lines.append(f"{feature} <{RDFS}label> {text(_words(rng, 1, 3), 'en')} {vocabulary} .")
    yield "\n".join(lines) + "\n"
    lines = []
    for p in range(n["producers"]):
        producer, graph = iri(f"producer/{p}"), iri(f"graph/producer/{p}")
        lines.append(f"{producer} <{RDF_TYPE}> {vocab('Producer')} {graph} .")
        lines.append(f"{producer} <{RDFS}label> {text(_words(rng, 2, 3).title())} {graph} .")
        lines.append(f"{producer} {vocab('country')} {text(rng.choice(COUNTRIES))} {graph} .")
        lines.append(f"{producer} <{FOAF}homepage> <http://producer{p}.example.com/> {graph} .")
    for v in range(n["vendors"]):
        vendor, graph = iri(f"vendor/{v}"), iri(f"graph/vendor/{v}")
        lines.append(f"{vendor} <{RDF_TYPE}> {vocab('Vendor')} {graph} .")
        lines.append(
            f"{vendor} <{RDFS}label> {text(_words(rng, 1, 2).title() + ' Shop')} {graph} ."
        )
        lines.append(f"{vendor} {vocab('country')} {text(rng.choice(COUNTRIES))} {graph} .")
    for h in range(n["people"]):
        person, graph = iri(f"person/{h}"), iri(f"graph/reviews/{h % 10}")
        lines.append(f"{person} <{RDF_TYPE}> <{FOAF}Person> {graph} .")
        lines.append(f"{person} <{FOAF}name> {text(_words(rng, 2, 2).title())} {graph} .")
        lines.append(f"{person} {vocab('country')} {text(rng.choice(COUNTRIES))} {graph} .")
    yield "\n".join(lines) + "\n"
    lines = []
    for i in range(n["products"]):
        lines.extend(_product(rng, i, n))
        if len(lines) >= 20_000:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def _product(rng: random.Random, i: int, n: dict[str, int]) -> list[str]:
    product = iri(f"product/{i}")
    producer_number = i % n["producers"]
    graph = iri(f"graph/producer/{producer_number}")
    kind = rng.randrange(1, TYPES)
    out = [
        f"{product} <{RDF_TYPE}> {vocab('Product')} {graph} .",
        f"{product} <{RDF_TYPE}> {iri(f'type/{kind}')} {graph} .",
        f"{product} <{RDFS}label> {text(_words(rng, 2, 4))} {graph} .",
        f"{product} <{RDFS}comment> {text(_words(rng, 8, 20), 'en')} {graph} .",
        f"{product} {vocab('producer')} {iri(f'producer/{producer_number}')} {graph} .",
        f"{product} {vocab('numeric1')} {integer(rng.randrange(1, 2000))} {graph} .",
        f"{product} {vocab('numeric2')} {integer(rng.randrange(1, 2000))} {graph} .",
        f"{product} {vocab('textual1')} {text(_words(rng, 3, 6))} {graph} .",
        f"{product} <{DC}date> {date(rng.randrange(0, 336 * 20))} {graph} .",
    ]
    if rng.random() < 0.5:
        out.append(f"{product} {vocab('numeric3')} {integer(rng.randrange(1, 2000))} {graph} .")
    for feature in sorted(rng.sample(range(FEATURES), rng.randint(3, 8))):
        out.append(f"{product} {vocab('feature')} {iri(f'feature/{feature}')} {graph} .")
    for k in range(rng.randint(2, 5)):
        offer = iri(f"offer/{i}-{k}")
        vendor = rng.randrange(n["vendors"])
        where = iri(f"graph/vendor/{vendor}")
        start = rng.randrange(0, 336 * 20)
        out += [
            f"{offer} <{RDF_TYPE}> {vocab('Offer')} {where} .",
            f"{offer} {vocab('product')} {product} {where} .",
            f"{offer} {vocab('vendor')} {iri(f'vendor/{vendor}')} {where} .",
            f"{offer} {vocab('priceCents')} {integer(rng.randrange(100, 500_000))} {where} .",
            f"{offer} {vocab('validFrom')} {date(start)} {where} .",
            f"{offer} {vocab('validTo')} {date(start + rng.randrange(10, 400))} {where} .",
            f"{offer} {vocab('deliveryDays')} {integer(rng.randrange(1, 21))} {where} .",
        ]
    for k in range(rng.randint(1, 4)):
        review = iri(f"review/{i}-{k}")
        person = rng.randrange(n["people"])
        where = iri(f"graph/reviews/{person % 10}")
        out += [
            f"{review} <{RDF_TYPE}> {vocab('Review')} {where} .",
            f"{review} {vocab('reviewFor')} {product} {where} .",
            f"{review} {vocab('reviewer')} {iri(f'person/{person}')} {where} .",
            f"{review} <{DC}title> {text(_words(rng, 2, 5).capitalize(), 'en')} {where} .",
            f"{review} {vocab('text')} {text(_words(rng, 10, 30), 'en')} {where} .",
            f"{review} {vocab('rating1')} {integer(rng.randrange(1, 11))} {where} .",
            f"{review} <{DC}date> {date(rng.randrange(0, 336 * 20))} {where} .",
        ]
        if rng.random() < 0.7:
            out.append(f"{review} {vocab('rating2')} {integer(rng.randrange(1, 11))} {where} .")
    return out


def write(scale: int, target: Path, seed: int = SEED) -> Path:
    """Write the catalogue at `scale` as N-Quads to `target` (streamed); returns the path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for chunk in chunks(scale, seed):
            out.write(chunk)
    partial.rename(target)
    return target


def sample(scale: int, kind: str, count: int = 5) -> list[int]:
    """`count` numbers of resources of a kind, spread over the whole range (the same for a
    scale whatever the seed): products, producers, vendors, people."""
    total = counts(scale)[kind]
    return sorted({(k * 7919 + 13) % total for k in range(1, count + 1)})

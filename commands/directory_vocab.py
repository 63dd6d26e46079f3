"""The directory's vocabularies, matched tolerantly: kinds of structure (« caf »,
« CAF », « Caisse d'allocations familiales » → Organisme social), territories (« 31 »,
« haute garonne » → Haute-Garonne (31)) and topic tags. Pure functions: the lists come
from the config (`[annuaire]`), the defaults are here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from bot.text import edit_distance, fold, fold_words

# Kinds of employer (MISSION.md), each with the words people actually type for it.
DEFAULT_KINDS: dict[str, list[str]] = {
    "Région": ["region", "conseil regional", "region occitanie", "hotel de region"],
    "Département": ["departement", "conseil departemental", "cd"],
    "Métropole": ["metropole"],
    "Communauté d'agglomération / de communes": [
        "communaute d'agglomeration",
        "communaute de communes",
        "communaute urbaine",
        "agglomeration",
        "agglo",
        "intercommunalite",
        "interco",
        "ca",
        "cc",
        "cu",
    ],
    "Commune": ["mairie", "ville", "commune", "ccas"],
    "Autre EPCI": ["epci", "syndicat mixte", "syndicat", "petr", "pnr", "parc naturel regional", "pays"],
    "CNFPT": ["cnfpt", "centre national de la fonction publique territoriale"],
    "Service de l'État": [
        "etat",
        "service de l'etat",
        "services de l'etat",
        "prefecture",
        "sous-prefecture",
        "sgar",
        "ddt",
        "ddtm",
        "ddets",
        "dreal",
        "dreets",
        "draaf",
        "drac",
        "ars",
        "rectorat",
        "academie",
        "ministere",
    ],
    "Organisme social": [
        "organisme social",
        "securite sociale",
        "urssaf",
        "cpam",
        "caisse primaire d'assurance maladie",
        "assurance maladie",
        "caf",
        "caisse d'allocations familiales",
        "carsat",
        "msa",
        "mutualite sociale agricole",
        "pole emploi",
        "france travail",
    ],
    "Association": ["association", "asso", "fondation", "collectif", "tiers-lieu", "tiers lieu"],
    "Entreprise": [
        "entreprise",
        "societe",
        "sas",
        "sarl",
        "startup",
        "start-up",
        "cabinet",
        "bureau d'etudes",
        "scop",
        "scic",
    ],
    "Université / recherche": [
        "universite",
        "recherche",
        "laboratoire",
        "labo",
        "cnrs",
        "inrae",
        "inserm",
        "ecole",
        "enseignement superieur",
    ],
    "Autre": ["autre", "other"],
}

DEFAULT_TERRITORIES = [
    "Ariège (09)",
    "Aude (11)",
    "Aveyron (12)",
    "Gard (30)",
    "Haute-Garonne (31)",
    "Gers (32)",
    "Hérault (34)",
    "Lot (46)",
    "Lozère (48)",
    "Hautes-Pyrénées (65)",
    "Pyrénées-Orientales (66)",
    "Tarn (81)",
    "Tarn-et-Garonne (82)",
    "Région",
    "Hors Occitanie",
]

MAX_TAGS = 15
MAX_TAG = 60
# A name typed with one slip (« haute garone », « prefecure ») is still understood when
# it has at least this many letters and only one name is one edit away: shorter words
# are too close to each other (« gers », « lot », « caf »).
MIN_TYPO = 5


def find_kind(raw: str, kinds: Mapping[str, Sequence[str]], *, whole: bool = False) -> str | None:
    """The configured kind `raw` names: its name or an alias, whole; else (unless
    `whole`) the only kind one of whose names appears as words in `raw` (« CAF de
    l'Aude »), or that `raw` starts (« univ »), or one edit away from `raw`
    (« prefecure »). None when nothing or several match."""
    typed = fold_words(raw)
    if not typed:
        return None
    names = {kind: [fold_words(kind), *(fold_words(a) for a in aliases)] for kind, aliases in kinds.items()}
    for kind, forms in names.items():
        if typed in forms:
            return kind
    if whole:
        return None
    padded = f" {typed} "
    inside = {kind for kind, forms in names.items() if any(len(f) >= 3 and f" {f} " in padded for f in forms)}
    if len(inside) == 1:
        return inside.pop()
    if len(typed) >= 3:
        starts = {kind for kind, forms in names.items() if any(f.startswith(typed) for f in forms)}
        if len(starts) == 1:
            return starts.pop()
    return _one_slip(typed, names)


def find_territory(raw: str, territories: Iterable[str], *, whole: bool = False) -> str | None:
    """The configured territory `raw` names: « 31 », « 09 », « 9 », « haute garonne »,
    « Haute-Garonne (31) », « region », or (unless `whole`) the unique start of a name
    (« haute g ») or of its words (« pyr or »), or the only name one edit away
    (« haute garone »)."""
    typed = fold_words(raw).strip("() ")
    if not typed:
        return None
    options = list(territories)
    if typed.isdigit() and len(typed) == 1:
        typed = "0" + typed
    for name in options:
        norm = fold_words(name)
        number = re.search(r"\((\w{2,3})\)", norm)
        bare = re.sub(r"\s*\(.*\)", "", norm).strip()
        if typed in (norm, bare) or (number and typed in (number.group(1), f"{bare} {number.group(1)}")):
            return name
    if whole:
        return None
    if len(typed) >= 3:
        starts = [n for n in options if fold_words(n).startswith(typed)]
        if len(starts) == 1:
            return starts[0]
        parts = typed.split()
        if len(parts) > 1:
            by_words = [n for n in options if _starts_words(parts, fold_words(n).split())]
            if len(by_words) == 1:
                return by_words[0]
    # « Haute-Garone (31) »: the slip is looked for in the letters; a number typed with
    # them must be the territory's (« tarn 82 » is not guessed to be Tarn (81)).
    letters = re.sub(r"\s+", " ", re.sub(r"[\d()]+", " ", typed)).strip()
    hit = _one_slip(letters, {n: [re.sub(r"\s*\(.*\)", "", fold_words(n))] for n in options})
    numbers = {n.zfill(2) for n in re.findall(r"\d+", typed)}
    if hit is None or not numbers:
        return hit
    own = re.search(r"\((\w{2,3})\)", hit)
    return hit if own is not None and numbers == {own.group(1)} else None


def _one_slip(typed: str, names: Mapping[str, Sequence[str]]) -> str | None:
    """The only name one of whose forms is one edit (a letter missing, extra, wrong or
    two swapped) from `typed`; None when none or several are, or the word is short."""
    if len(typed) < MIN_TYPO:
        return None
    near = {
        name
        for name, forms in names.items()
        if any(len(f) >= MIN_TYPO and edit_distance(typed, f, 1) <= 1 for f in forms)
    }
    return near.pop() if len(near) == 1 else None


def _starts_words(parts: Sequence[str], name_words: Sequence[str]) -> bool:
    """Each typed part starts the name's word at the same place (« pyr or »)."""
    return len(parts) <= len(name_words) and all(
        w.startswith(p) for p, w in zip(parts, name_words, strict=False)
    )


def split_list(raw: str) -> list[str]:
    """Items of a list typed in chat: separated by commas, semicolons, « et » or `#`."""
    parts = re.split(r"[,;#\n]|\s+et\s+|\s+and\s+", raw)
    return [p.strip() for p in parts if p.strip()]


def find_territories(raw: str, territories: Iterable[str]) -> tuple[list[str], list[str]]:
    """(territories found, parts not understood) for « 31, 34 et Aude »."""
    options = list(territories)
    found: list[str] = []
    unknown: list[str] = []
    for part in split_list(raw):
        # « 31 34 » (numbers separated by spaces) are several territories.
        pieces = part.split() if all(p.isdigit() for p in part.split()) else [part]
        for piece in pieces:
            hit = find_territory(piece, options)
            if hit is None:
                unknown.append(piece)
            elif hit not in found:
                found.append(hit)
    return found, unknown


def normalize_tag(raw: str) -> str:
    """« #Design  des Politiques publiques » → « design des politiques publiques »."""
    tag = re.sub(r"\s+", " ", raw.strip().lstrip("#").strip()).lower()
    return tag[:MAX_TAG].strip()


def normalize_tags(raw: str | Iterable[str]) -> list[str]:
    """Distinct tags (accents and case ignored for sameness), in the order typed, at most
    `MAX_TAGS`."""
    items = split_list(raw) if isinstance(raw, str) else list(raw)
    seen: dict[str, str] = {}
    for item in items:
        tag = normalize_tag(item)
        if tag and fold(tag) not in seen:
            seen[fold(tag)] = tag
    return list(seen.values())[:MAX_TAGS]

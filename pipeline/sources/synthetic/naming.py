"""Procedural ERCOT-style names for simulated plants and their resource nodes.

Responsibility: names that *look* like ERCOT's settlement points without being any of them. An
ERCOT resource node is usually ``<PLANT>_<UNIT>``: a plant abbreviation of a few capitals (a place
name, often with its vowels dropped, sometimes with a technology tag such as ``WIND`` or ``SLR``,
sometimes a bare acronym for an old thermal plant) and a unit suffix that depends on the
technology: ``_CC1`` for a combined-cycle train, ``_CT1`` / ``_GT2`` / ``_ST1`` for turbines,
``_UNIT1`` or ``_G3`` for thermal units, ``_WIND1`` / ``_SOLAR1`` for renewables, ``_ESS1`` /
``_BESS1`` for batteries, ``_PUN1`` for industrial units behind a private use network, ``_RN`` or
``_ALL`` for a site settled as one node. Everything here is drawn from :class:`Draws`, a
sequential reader of counter-based uniforms, so the same seed always gives the same names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np

from pipeline.sources.synthetic.noise import stream_key, uniform

T = TypeVar("T")

_BLOCK = 4096


class Draws:
    """Uniform (0, 1) numbers of one named stream, read in order (a pure function of seed and stream)."""

    def __init__(self, seed: int, stream: str) -> None:
        self._key = stream_key(seed, stream)
        self._block = -1
        self._values = np.empty(0)
        self._position = 0

    def u(self) -> float:
        if self._position >= len(self._values):
            self._block += 1
            self._values = uniform(self._key, self._block * _BLOCK + np.arange(_BLOCK, dtype=np.int64))
            self._position = 0
        value = float(self._values[self._position])
        self._position += 1
        return value

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high], uniformly."""
        return low + min(int(self.u() * (high - low + 1)), high - low)

    def choice(self, items: Sequence[T]) -> T:
        return items[self.integer(0, len(items) - 1)]

    def weighted(self, weights: Mapping[T, float]) -> T:
        """A key of ``weights`` drawn with probability proportional to its weight (in the mapping's order)."""
        total = sum(weights.values())
        target, running = self.u() * total, 0.0
        last = next(iter(weights))
        for item, weight in weights.items():
            running += weight
            last = item
            if target < running:
                return item
        return last


# --- plant abbreviations ---------------------------------------------------------------------------

# Syllables of Texan (English and Spanish) place names; the universe's plants are named after
# places that do not exist.
_ONSETS = ("B", "BR", "C", "CH", "CL", "D", "DR", "F", "G", "GR", "H", "J", "K", "L", "M", "N", "P", "PR",
           "R", "S", "SH", "ST", "T", "TR", "V", "W", "WH")
_VOWELS = ("A", "A", "E", "E", "I", "O", "O", "U", "EA", "IO")
_CODAS = ("", "", "", "", "L", "N", "R", "S", "T", "LL", "RN", "X", "D", "M", "NT", "RT")
# Place-name endings, spelled out or abbreviated the way ERCOT plant names abbreviate them.
_ENDINGS = ("TON", "VILLE", "CREEK", "CK", "RIDGE", "RDG", "FLATS", "FLT", "MESA", "LAKE", "LK", "HILL", "HL",
            "SPUR", "GAP", "BEND", "BND", "RANCH", "RNCH", "DRAW", "PT", "VALE", "WELLS", "SPR", "PK", "GROVE")
# Abbreviated endings, for names whose vowels are dropped.
_SHORT_ENDINGS = ("CK", "CRK", "RDG", "FLT", "LK", "HL", "BND", "RCH", "PT", "SPR", "PK", "MTN", "GAP", "TX")
# Prefixes a real settlement point name starts with that a plant must not (hubs, load zones, DC ties).
_RESERVED = ("HB", "LZ", "DC")
# Technology tags glued to a plant's name (``...WIND_RN``, ``...SLR_RN``).
_TAGS: dict[str, tuple[str, ...]] = {
    "wind": ("WIND", "WND", "WF", "W"),
    "solar": ("SLR", "SOLAR", "SUN", "PV", "S"),
    "storage": ("ESS", "BES", "STG", "ES"),
    "load": ("LR", "CLR", "LD"),
}
_MAX_PLANT = 9


def _syllable(draws: Draws) -> str:
    return draws.choice(_ONSETS) + draws.choice(_VOWELS) + draws.choice(_CODAS)


def _drop_vowels(word: str) -> str:
    """ERCOT-style abbreviation: keep the first letter, drop later vowels (MUSTANG CREEK -> MSTNGCRK)."""
    return word[0] + "".join(c for c in word[1:] if c not in "AEIOU")


def plant_name(draws: Draws, design: str) -> str:
    """A plant abbreviation (capitals and digits, at most nine characters) for a plant of ``design``."""
    style = draws.weighted({"word": 0.40, "word_ending": 0.22, "abbreviated": 0.16, "acronym": 0.10,
                            "tagged": 0.12 if design in _TAGS else 0.0})
    if style == "acronym":
        letters = "BCDFGHJKLMNPRSTVW"
        word = "".join(draws.choice(letters) for _ in range(draws.integer(3, 5)))
    else:
        word = _syllable(draws) + _syllable(draws)
    if style == "word_ending":
        word = word[:5] + draws.choice(_ENDINGS)
    elif style == "abbreviated":
        word = _drop_vowels(word)[:5] + draws.choice(_SHORT_ENDINGS)
    elif style == "tagged":
        word = word[:6] + draws.choice(_TAGS[design])
    if draws.u() < 0.06:  # a second phase or sister site: HOLLOW3
        word = word[: _MAX_PLANT - 1] + str(draws.integer(2, 5))
    if word.startswith(_RESERVED):
        word = "T" + word
    return word[:_MAX_PLANT]


def short_code(plant: str) -> str:
    """The two-to-four letter code thermal plants repeat inside unit names (BOSQUE -> BSQ)."""
    letters = [c for c in _drop_vowels(plant) if c.isalpha()]
    return "".join(letters[:4]) if len(letters) >= 2 else plant[:3]


# --- unit suffixes ---------------------------------------------------------------------------------

# Per design: (suffix pattern, weight). ``{k}`` is the unit number, ``{code}`` the plant's short
# code; a pattern without ``{k}`` names a site settled as a single node.
_UNIT_STYLES: dict[str, dict[str, float]] = {
    "wind": {"RN": 0.30, "WIND{k}": 0.18, "WND{k}": 0.12, "UNIT{k}": 0.14, "ALL": 0.14, "G{k}": 0.12},
    "solar": {"RN": 0.34, "SOLAR{k}": 0.16, "SLR{k}": 0.12, "UNIT{k}": 0.14, "ALL": 0.14, "PV{k}": 0.10},
    "storage": {"ESS{k}": 0.30, "BESS{k}": 0.26, "ESS_RN": 0.16, "BESS_RN": 0.12, "RN": 0.16},
    "peaker": {"GT{k}": 0.30, "CT{k}": 0.26, "G{k}": 0.16, "UNIT{k}": 0.16, "{code}_{k}": 0.12},
    "steam": {"ST{k}": 0.28, "UNIT{k}": 0.30, "G{k}": 0.20, "{code}_G{k}": 0.22},
    "coal": {"UNIT{k}": 0.34, "U{k}": 0.16, "{code}_G{k}": 0.30, "G{k}": 0.20},
    "nuclear": {"UNIT{k}": 1.0},
    "hydro": {"HY{k}": 0.40, "UNIT{k}": 0.35, "G{k}": 0.25},
    "cogeneration": {"PUN{k}": 0.75, "CG{k}": 0.25},
    "load": {"RN": 0.45, "ALL": 0.35, "LD{k}": 0.20},
}
# Physical units of a combined-cycle train: its turbines and its steam turbine.
_CC_UNIT_STYLES: dict[str, float] = {"CT{j}{k}": 0.40, "{code}_G{k}": 0.35, "{code}_{j}{k}": 0.25}
_UNIT_COUNTS: dict[str, dict[int, float]] = {
    "wind": {1: 0.55, 2: 0.30, 3: 0.15},
    "solar": {1: 0.75, 2: 0.25},
    "storage": {1: 0.75, 2: 0.25},
    "peaker": {1: 0.20, 2: 0.35, 3: 0.20, 4: 0.25},
    "steam": {1: 0.35, 2: 0.40, 3: 0.25},
    "coal": {1: 0.35, 2: 0.45, 3: 0.20},
    "nuclear": {2: 1.0},
    "hydro": {1: 0.40, 2: 0.35, 3: 0.25},
    "cogeneration": {1: 0.30, 2: 0.40, 3: 0.30},
    "load": {1: 1.0},
}


def unit_names(draws: Draws, plant: str, design: str) -> list[tuple[str, str]]:
    """The (node name, settlement point type) of each node of a plant.

    Most nodes are type ``RN``. A combined-cycle plant has one logical node per train (``LCCRN``,
    ``<PLANT>_CC1``) plus a physical node per turbine (``PCCRN``); industrial cogeneration behind a
    private use network settles as ``PUN`` nodes.
    """
    code = short_code(plant)
    if design == "combined_cycle":
        nodes = []
        pattern = draws.weighted(_CC_UNIT_STYLES)
        numbered = 0  # units numbered across the plant where the pattern has no train number
        for j in range(1, draws.weighted({1: 0.65, 2: 0.35}) + 1):
            nodes.append((f"{plant}_CC{j}", "LCCRN"))
            for k in range(1, draws.weighted({2: 0.45, 3: 0.40, 4: 0.15}) + 1):
                numbered += 1
                unit = pattern.format(j=j, k=k if "{j}" in pattern else numbered, code=code)
                nodes.append((f"{plant}_{unit}", "PCCRN"))
        return nodes
    pattern = draws.weighted(_UNIT_STYLES[design])
    kind = "PUN" if pattern.startswith("PUN") else "RN"
    if "{k}" not in pattern:
        return [(f"{plant}_{pattern.format(code=code)}", kind)]
    count = draws.weighted(_UNIT_COUNTS[design])
    return [(f"{plant}_{pattern.format(k=k, code=code)}", kind) for k in range(1, count + 1)]

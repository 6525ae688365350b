"""The embedded ERCOT-like market simulator: every canonical dataset from a seed, offline.

Responsibility: give ``make demo``, the tests and the docs a market that behaves like ERCOT *for the
reasons ERCOT does*, so a model trained on it learns real structure, while every value stays a pure
function of (seed, dataset, key day). Its output is simulated and labelled so (``simulated = True``).

The mechanism is a chain of small pure functions, one module per concept (each module's docstring
explains its part of the model):

* :mod:`.noise` -- counter-based hashes, smooth and AR noise: why any day can be generated alone;
* :mod:`.time_axis` -- float UTC hours since the epoch -> season, solar hour, CPT hour, rest days;
* :mod:`.era` -- fleet sizes, gas price level and market rules (HCAP, ORDC) by year;
* :mod:`.zones` -- the eight weather zones' climate, wind and load parameters;
* :mod:`.events` -- heat waves, cold snaps and forced unit outages, drawn per start day;
* :mod:`.weather` -> :mod:`.grid` -- temperature, wind, clouds -> load, renewables, thermal and
  storage capacity, gas price: the :class:`~.grid.GridState`;
* :mod:`.prices` -- supply curve, ORDC scarcity adder, basis, congestion, resource and node prices;
* :mod:`.geography` / :mod:`.naming` / :mod:`.universe` -- regions, load zones, hubs and the
  recurring transmission constraints; invented ERCOT-style plant and unit names; the seed's
  universe of 1,000+ resource nodes and the settlement-point list;
* :mod:`.congestion` -- universe node prices: hub price, losses, shift factors x constraint shadow
  prices (West export, Permian and Houston import, ...), local noise and episodes;
* :mod:`.realtime` / :mod:`.day_ahead` -- five-minute SCED prices from the actual state; DAM prices
  from the state forecast the day before;
* :mod:`.forecasts` -- weather, load and renewables vintages whose errors are revealed day by day;
* :mod:`.frames` / :mod:`.market` -- canonical frames and the :class:`SyntheticMarket` source.

ERCOT facts (settlement points, weather zones, fuels) come from :mod:`pipeline.catalogue`;
holidays and CPT from :mod:`pipeline.ercot_time`.
"""

from __future__ import annotations

from pipeline.sources.synthetic.market import SyntheticMarket
from pipeline.sources.synthetic.universe import universe_names

__all__ = ["SyntheticMarket", "universe_names"]

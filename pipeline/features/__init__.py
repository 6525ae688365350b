"""Features for the 72 target hours of each issue day, strictly from what was known at the issue time.

One function, :func:`build_features`, serves a single issue day (daily production) and hundreds of
them (training windows, backtests) with the same code path, so bulk and daily results are
identical. Inputs are canonical frames carrying ``known_at`` (see :mod:`pipeline.asof`); every value
read for issue time T passes ``known_at <= T``.

Modules, one per feature group, each declaring its column names once (a group whose data is
absent for the configuration yields NaN columns):

* :mod:`~pipeline.features.calendar` -- the target hour's clock, weekday, holiday, season, horizon;
* :mod:`~pipeline.features.prices` -- real-time price history at the node and system-wide;
* :mod:`~pipeline.features.dam` -- day-ahead prices known at the issue time, and RT against DAM;
* :mod:`~pipeline.features.ancillary` -- day-ahead ancillary service (reserve) prices;
* :mod:`~pipeline.features.load` -- actual and forecast load, wind, solar and net load;
* :mod:`~pipeline.features.weather` -- forecast and observed temperature;
* :mod:`~pipeline.features.grid` -- the day x hour cubes and forecast vintages they read;
* :mod:`~pipeline.features.build` -- the assembly of the feature frame.
"""

from pipeline.features.build import FeatureInputs, FeatureSettings, build_features, feature_columns, features_by_day
from pipeline.features.grid import Cube, Vintages, build_cube

#: Bumped when a feature's definition changes, so feature files of the old definition are not reused.
FEATURE_VERSION = 3

__all__ = ["FEATURE_VERSION", "Cube", "FeatureInputs", "FeatureSettings", "Vintages", "build_cube",
           "build_features", "feature_columns", "features_by_day"]

"""Rendering results for people (pure: frames and records in, text, HTML and PNG out).

* :mod:`~pipeline.render.forecast` -- a day's forecast as a summary table and a chart;
* :mod:`~pipeline.render.backtest_page` -- the backtest report page (``report.html``);
* :mod:`~pipeline.render.figures` -- the backtest report's figures.

The status page, an operations view, is rendered by :mod:`pipeline.ops.status`.
"""

"""Operations: how the scheduled jobs run, fall back, alert and report (no luigi import here).

Layered without cycles, each module importing only those above it:

* :mod:`~pipeline.ops.luigi_settings` -- luigi's ``[retcode]`` and scheduler address, read like luigi;
* :mod:`~pipeline.ops.alerts` -- alerts to the log, the alert history, email and webhook;
* :mod:`~pipeline.ops.runner` -- one luigi command as a child process, with timeout and graceful stop;
* :mod:`~pipeline.ops.lock` -- the lock that keeps runs of one job from overlapping;
* :mod:`~pipeline.ops.base` -- :class:`Operations` (what a run needs) and :class:`JobResult`;
* :mod:`~pipeline.ops.fallbacks` -- the seed's fallbacks (cached data, previous forecast, current model);
* :mod:`~pipeline.ops.jobs` -- the four jobs: lock, retries, timeout, fallback, run record;
* :mod:`~pipeline.ops.deadline` -- the DAM deadline monitor;
* :mod:`~pipeline.ops.status` -- the self-contained status page.

The command-line modules (``python -m pipeline.jobs``, ``pipeline.deadline``, ``pipeline.status``,
``pipeline.alerts``) and the built-in scheduler (``pipeline.scheduler``) call these and rewrite
the status page after each run.
"""

@echo off
rem Weekly backtest (Sunday 02:00 CPT): WeeklyBacktest for today.
rem Windows Task Scheduler twin of weekly_backtesting.sh (schedule: see crontab.example; the task's trigger
rem runs in the machine's time zone, the job computes its dates in America/Chicago).
rem Options go to pipeline.jobs (--now, --dry-run); the exit code is luigi's (0 = done).
setlocal
call "%~dp0common.bat" || exit /b 2
"%PYTHON%" -m pipeline.jobs run backtesting %* -- "%LUIGI%" --module pipeline WeeklyBacktest
exit /b %ERRORLEVEL%

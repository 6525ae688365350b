@echo off
rem Daily data fetch (00:00 CPT): the files published in the 24 hours before midnight, and missed days.
rem Windows Task Scheduler twin of daily_data_fetch.sh (schedule: see crontab.example; the task's trigger
rem runs in the machine's time zone, the job computes its dates in America/Chicago).
rem Options go to pipeline.jobs (--now, --dry-run); the exit code is luigi's (0 = done).
setlocal
call "%~dp0common.bat" || exit /b 2
"%PYTHON%" -m pipeline.jobs run data_fetching %* -- "%LUIGI%" --module pipeline RangeDaily --of FetchDaily
exit /b %ERRORLEVEL%

@echo off
rem Daily inference (06:00 CPT): today's forecast and missed days, with the fallbacks of error_recovery.
rem Windows Task Scheduler twin of daily_inference.sh (schedule: see crontab.example; the task's trigger
rem runs in the machine's time zone, the job computes its dates in America/Chicago).
rem Options go to pipeline.jobs (--now, --dry-run); the exit code is luigi's (0 = done).
setlocal
call "%~dp0common.bat" || exit /b 2
"%PYTHON%" -m pipeline.jobs run inference %* -- "%LUIGI%" --module pipeline RangeDaily --of DailyInference
exit /b %ERRORLEVEL%

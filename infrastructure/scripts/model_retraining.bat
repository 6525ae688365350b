@echo off
rem Model retraining (01:00 CPT, any day: only cadence dates train): the gated candidate, or the current model retained.
rem Windows Task Scheduler twin of model_retraining.sh (schedule: see crontab.example; the task's trigger
rem runs in the machine's time zone, the job computes its dates in America/Chicago).
rem Options go to pipeline.jobs (--now, --dry-run); the exit code is luigi's (0 = done).
setlocal
call "%~dp0common.bat" || exit /b 2
"%PYTHON%" -m pipeline.jobs run model_retraining %* -- "%LUIGI%" --module pipeline RangeDaily --of RetrainModel
exit /b %ERRORLEVEL%

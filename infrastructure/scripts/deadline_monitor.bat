@echo off
rem DAM deadline monitor (every 5 minutes from 09:00 CPT): alert and publish the fallback when
rem today's forecast is missing. Twin of deadline_monitor.sh.
setlocal
call "%~dp0common.bat" || exit /b 2
"%PYTHON%" -m pipeline.deadline %*
exit /b %ERRORLEVEL%

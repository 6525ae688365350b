@echo off
rem Called by the .bat twins of the cron scripts: find the repository and its virtualenv.
rem RTLMP_HOME (the repository) and RTLMP_VENV (its virtualenv) override the defaults.
rem The job's lock is taken by pipeline.jobs (msvcrt on Windows): an overlapping run exits with 10.
if not defined RTLMP_HOME for %%I in ("%~dp0..\..") do set "RTLMP_HOME=%%~fI"
if not defined RTLMP_VENV set "RTLMP_VENV=%RTLMP_HOME%\.venv"
set "PYTHON=%RTLMP_VENV%\Scripts\python.exe"
set "LUIGI=%RTLMP_VENV%\Scripts\luigi.exe"
if not exist "%PYTHON%" (
  echo no virtualenv at %RTLMP_VENV% ^(create it in %RTLMP_HOME%, or set RTLMP_VENV^) 1>&2
  exit /b 2
)
cd /d "%RTLMP_HOME%"
if not defined LUIGI_CONFIG_PATH set "LUIGI_CONFIG_PATH=%RTLMP_HOME%\luigi.cfg"
set "PATH=%RTLMP_VENV%\Scripts;%PATH%"
exit /b 0

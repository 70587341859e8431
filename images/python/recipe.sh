# shellcheck shell=bash disable=SC2034
# images/python: Debian bookworm minbase + python3 (CPython 3.11).
KIND=debian
ESTIMATE="~20 s"
PACKAGES="python3"
# No .pyc files written next to the user's sources; output unbuffered.
IMAGE_ENV=(PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1)
VERSION_CMD='python3 -c "import platform; print(platform.python_version())"'

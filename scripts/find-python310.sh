#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs >=3.8,<3.11), or explains and fails.
set -u
candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for dir in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -rV); do
    candidates+=("$dir/bin/python")
  done
fi
candidates+=(python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10)
for python in "${candidates[@]}"; do
  if version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
     && [ "$version" = "3.10" ]; then
    command -v "$python" 2>/dev/null || echo "$python"
    exit 0
  fi
done
cat >&2 <<'MSG'
No Python 3.10 found. Rasa 3.6 (the last Rasa Open Source) runs only on Python 3.8-3.10.
Install one, for example `pyenv install 3.10.13` or `apt-get install python3.10 python3.10-venv`,
or point PYTHON310 at an interpreter: `make run PYTHON310=/path/to/python3.10`.
MSG
exit 1

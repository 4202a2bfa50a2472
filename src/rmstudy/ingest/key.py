"""The pseudonymisation key: where it comes from (an environment variable or a key file), and which keys are refused."""

from __future__ import annotations

__all__ = ["pseudonym_key", "DEFAULT_KEY_ENV", "MIN_KEY_CHARS"]

import os
from pathlib import Path

from rmstudy.errors import CohortError, Problem

DEFAULT_KEY_ENV = "RMSTUDY_PSEUDONYM_KEY"
MIN_KEY_CHARS = 32


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _git_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding a ``.git`` entry (a git working tree), if any."""
    for d in (path.resolve(), *path.resolve().parents):
        if (d / ".git").exists():
            return d
    return None


def pseudonym_key(raw: dict, m: str, base: Path, out_dir: Path, warnings: list[str]) -> tuple[str, str]:
    """The pseudonymisation key and where it came from; refuses a missing, short or badly placed key."""
    if "key_file" in raw:
        path = Path(raw["key_file"]).expanduser()
        path = path if path.is_absolute() else base / path
        where = "key_file"
        if _inside(path, out_dir):
            raise CohortError(Problem(m, "the key file is inside the output folder",
                                      "keep the key outside the cohort and the project (a password manager, or a file "
                                      "with 600 permissions in your home folder)", column=where))
        repo = _git_root(path.parent)
        if repo is not None:
            raise CohortError(Problem(m, "the key file is inside a git repository (a folder holding .git)",
                                      "move the key outside every repository, e.g. to ~/.config/rmstudy/, or pass it "
                                      f"through the environment variable {DEFAULT_KEY_ENV}", column=where))
        if not path.is_file():
            raise CohortError(Problem(m, "the key file does not exist", "check the key_file: path", column=where))
        try:
            # utf-8-sig: a key file saved with a byte-order mark (Windows Notepad) gives the same key without it
            key = path.read_text(encoding="utf-8-sig").lstrip("\ufeff").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise CohortError(Problem(m, f"the key file cannot be read ({type(e).__name__})",
                                      "store the key as one line of text", column=where)) from e
        source = "key file"
        if os.name == "posix" and path.stat().st_mode & 0o077:
            warnings.append(f"the key file can be read by other users (mode {path.stat().st_mode & 0o777:o}); "
                            "run chmod 600 on it")
    else:
        name = raw.get("key_env", DEFAULT_KEY_ENV)
        where = "key_env"
        key = os.environ.get(name, "").strip()
        source = f"environment variable {name}"
        if not key:
            raise CohortError(Problem(m, f"pseudonymise is true but the environment variable {name} is not set",
                                      f"set {name} to your key (make one with: python -c \"import secrets; "
                                      "print(secrets.token_hex(32))\"), or give key_file:", column=where))
    if len(key) < MIN_KEY_CHARS:
        raise CohortError(Problem(m, f"the pseudonymisation key from the {source} has {len(key)} characters, "
                                  f"fewer than {MIN_KEY_CHARS}",
                                  "make a long random key: python -c \"import secrets; print(secrets.token_hex(32))\"",
                                  column=where))
    return key, source

"""Train the Rasa model when its inputs changed since the last training."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from stack.processes import base_env
from stack.settings import ROOT, StackSettings

TRAINING_DATA = ROOT / "bot" / "data" / "training"
# Everything a trained model depends on.
INPUTS = [
    ROOT / "config.yml",
    ROOT / "domain.yml",
    TRAINING_DATA,
    ROOT / "bot" / "components",
    ROOT / "bot" / "language.py",
    ROOT / "bot" / "data" / "languages.yml",
    ROOT / "bot" / "data" / "faq",  # its questions train the language detector's n-gram model
    ROOT / "bot" / "data" / "triage",  # the emergency model's examples
    ROOT / "triage" / "model.py",
    ROOT / "retrieval" / "embedders.py",
    ROOT / "requirements" / "lock.txt",
    ROOT / "requirements" / "extras.txt",
]


def fingerprint(inputs: list[Path] = INPUTS) -> str:
    digest = hashlib.sha256()
    for root in inputs:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint_path(settings: StackSettings) -> Path:
    return settings.model_path.with_suffix("").with_suffix(".fingerprint")


def is_stale(settings: StackSettings) -> bool:
    stamp = fingerprint_path(settings)
    return not (
        settings.model_path.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint()
    )


def train(settings: StackSettings, force: bool = False) -> bool:
    """Train if stale (or forced). Returns whether a model was trained."""
    if not force and not is_stale(settings):
        print(f"Model {settings.model_path.relative_to(ROOT)} is up to date.")
        return False
    current = fingerprint()
    settings.model_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "rasa"), "train",
        "--config", str(ROOT / "config.yml"),
        "--domain", str(ROOT / "domain.yml"),
        "--data", str(TRAINING_DATA),
        "--out", str(settings.model_path.parent),
        "--fixed-model-name", settings.model_path.name.removesuffix(".tar.gz"),
        "--force",
    ]
    print("Training the Rasa model (about a minute)...", flush=True)
    subprocess.run(command, cwd=ROOT, env=base_env(settings), check=True)
    fingerprint_path(settings).write_text(current + "\n")
    return True

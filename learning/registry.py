"""The models in production and before: promotion after a comparison, and rollback in one command.

    models/citybot.tar.gz        the model the Rasa server runs (what `make run` starts with)
    models/history/<name>.tar.gz the models it replaced, the newest ``keep`` of them
    models/candidates/           models trained by `make retrain` and not (yet) promoted
    models/manifest.json         one record per model: file, training data and config hashes,
                                 held-out scores, when trained, promoted, replaced or rolled back

Promotion copies the candidate over models/citybot.tar.gz (the previous model goes to
history first) and writes the fingerprint `make train` checks, so `make train` does not
undo it. The Rasa server loads a model when it starts: restart it (or `make run`) to serve
a promoted or rolled-back model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from learning.errors import LearningError

CURRENT = "citybot.tar.gz"


class RegistryError(LearningError):
    """No model to roll back to, or the models folder is not as the registry left it."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


@dataclass
class Record:
    name: str  # e.g. citybot-20261123-101500
    model_hash: str
    data_hash: str = ""  # the training data's fingerprint
    config_hash: str = ""
    trained_at: str = ""
    scores: dict[str, Any] = field(default_factory=dict)  # language -> accuracy, macro_f1, messages
    status: str = "candidate"  # candidate | current | history | refused | rolled_back
    events: list[str] = field(default_factory=list)  # "2026-11-23T10:15:00+00:00 promoted", ...


class Registry:
    def __init__(self, models_dir: Path, keep: int = 5) -> None:
        self.dir = models_dir
        self.keep = keep
        self.manifest = models_dir / "manifest.json"
        self.records: list[Record] = []
        if self.manifest.exists():
            self.records = [Record(**r) for r in json.loads(self.manifest.read_text())["models"]]

    @property
    def current_path(self) -> Path:
        return self.dir / CURRENT

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.manifest.write_text(json.dumps({"models": [asdict(r) for r in self.records]}, indent=2) + "\n")

    def record_for(self, path: Path) -> Record | None:
        model_hash = file_hash(path)
        return next((r for r in reversed(self.records) if r.model_hash == model_hash), None)

    def current(self) -> Record | None:
        """The record of the model in production; one is made for a model trained by `make train`."""
        if not self.current_path.exists():
            return None
        found = self.record_for(self.current_path)
        if found is None:
            found = Record(f"citybot-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-initial",
                           file_hash(self.current_path), status="current", trained_at=_now(),
                           events=[f"{_now()} found in production"])
            self.records.append(found)
        return found

    def add_candidate(self, path: Path, data_hash: str, config_hash: str) -> Record:
        record = Record(path.name.removesuffix(".tar.gz"), file_hash(path), data_hash, config_hash, _now(),
                        events=[f"{_now()} trained"])
        self.records.append(record)
        return record

    def _history_path(self, record: Record) -> Path:
        return self.dir / "history" / f"{record.name}.tar.gz"

    def promote(self, candidate: Path, record: Record, fingerprint: str | None = None) -> None:
        """The candidate becomes the current model; the current one goes to history."""
        current = self.current()
        if current is not None:
            self._history_path(current).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.current_path, self._history_path(current))
            current.status = "history"
            current.events.append(f"{_now()} replaced by {record.name}")
        temporary = self.current_path.with_suffix(".promoting")
        shutil.copy2(candidate, temporary)
        temporary.replace(self.current_path)  # the Rasa server never sees half a file
        self._write_fingerprint(fingerprint)
        record.status = "current"
        record.events.append(f"{_now()} promoted")
        self._prune()
        self.save()

    def refuse(self, record: Record, why: str) -> None:
        record.status = "refused"
        record.events.append(f"{_now()} refused: {why}")
        self.save()

    def rollback(self, fingerprint: str) -> Record:
        """The newest model in history becomes current again; the current one is marked rolled back.

        ``fingerprint`` (of the training inputs on disk) is written beside it so that `make train`
        and `make run` keep the restored model instead of retraining from the data that made the
        one rolled back; revert that data, or `make retrain`, to move on.
        """
        current = self.current()
        previous = next((r for r in reversed(self.records)
                         if r.status == "history" and self._history_path(r).exists()), None)
        if previous is None:
            raise RegistryError("no earlier model in models/history to roll back to")
        if current is not None:
            current.status = "rolled_back"
            current.events.append(f"{_now()} rolled back to {previous.name}")
        temporary = self.current_path.with_suffix(".promoting")
        shutil.copy2(self._history_path(previous), temporary)
        temporary.replace(self.current_path)
        self._write_fingerprint(fingerprint)
        previous.status = "current"
        previous.events.append(f"{_now()} restored by rollback")
        self.save()
        return previous

    def _write_fingerprint(self, fingerprint: str | None) -> None:
        stamp = self.current_path.with_suffix("").with_suffix(".fingerprint")
        if fingerprint:
            stamp.write_text(fingerprint + "\n")
        elif stamp.exists():
            stamp.unlink()

    def _prune(self) -> None:
        kept = [r for r in self.records if r.status == "history" and self._history_path(r).exists()]
        for record in kept[:-self.keep] if self.keep else kept:
            self._history_path(record).unlink()
            record.events.append(f"{_now()} deleted from history (keeping {self.keep})")

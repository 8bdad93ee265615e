"""Where the packs live (below the models, the catalogue and the categories that read them)."""

from __future__ import annotations

from pathlib import Path

PACKS_DIR = Path(__file__).parent / "packs"
CORE_FILE = PACKS_DIR / "core.yaml"

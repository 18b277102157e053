"""Learning from runs: extraction, small typed memory edits, and memory CI (screen + replay)."""

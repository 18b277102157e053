"""The kernel's built-in plugins. Each registers through the public hooks, exactly like a
third-party plugin, and can be disabled in TOML (``[plugins.<id>] enabled = false``)."""

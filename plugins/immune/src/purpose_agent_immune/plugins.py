"""The five scanner plugins as the entry points name them: light objects whose hooks import
their scanner module on first use.

Each scanner module compiles its detectors when imported (about 170 rules and their helper
expressions: 0.3–0.5 s for all five on these machines, ~0.14 s of it added by the fifth round of
injection rules). ``purpose-agent plugins list`` imports every enabled plugin,
so the entry points name these objects instead and the cost moves to the first scan.
"""

from __future__ import annotations

import importlib
from typing import Any

from purpose_agent.hookspecs import hookimpl


class LazyScanner:
    """A scanner plugin whose hooks delegate to ``module.SCANNER``, imported when first needed."""

    PURPOSE_AGENT_HOOK_API = "1.0"
    #: ``immune eval`` reports the scanners of one tier together (see evaluation.py).
    IMMUNE_TIER = "rules"

    def __init__(self, plugin_id: str, module: str) -> None:
        self.plugin_id = plugin_id
        self._module_name = module
        self._module: Any = None

    def _load(self) -> Any:
        """The scanner module's ``SCANNER``, importing (and compiling) it on first use."""
        if self._module is None:
            self._module = importlib.import_module(self._module_name)
        return self._module.SCANNER

    @hookimpl
    def settings_model(self) -> Any:
        """The scanner's ``[plugins.<id>]`` model (thresholds and category switches)."""
        return self._load().settings_model()

    @hookimpl
    def scan(self, request: Any, settings: Any, context: Any) -> list[Any]:
        """Delegate to the scanner module."""
        return self._load().scan(request, settings, context)

    def __repr__(self) -> str:
        return f"<scanner plugin {self.plugin_id} ({self._module_name}, {'loaded' if self._module else 'not loaded'})>"


injection = LazyScanner("immune-injection", "purpose_agent_immune.injection")
score = LazyScanner("immune-score", "purpose_agent_immune.score")
tools = LazyScanner("immune-tools", "purpose_agent_immune.tools")
privacy = LazyScanner("immune-privacy", "purpose_agent_immune.privacy")
scope = LazyScanner("immune-scope", "purpose_agent_immune.scope")

"""purpose-agent-immune: five immune scanners for memory candidates, and ``purpose-agent immune``.

Each scanner is its own plugin (entry point in group ``purpose_agent.scanner``), so each can be
enabled, disabled and tuned on its own in TOML. The entry points name the light objects in
:mod:`purpose_agent_immune.plugins`, which import the scanner module (its ``SCANNER``) on first use:

=====================  ==============================================================
plugin id              module
=====================  ==============================================================
``immune-injection``   :mod:`purpose_agent_immune.injection`
``immune-score``       :mod:`purpose_agent_immune.score`
``immune-tools``       :mod:`purpose_agent_immune.tools`
``immune-privacy``     :mod:`purpose_agent_immune.privacy`
``immune-scope``       :mod:`purpose_agent_immune.scope`
``immune`` (command)   :mod:`purpose_agent_immune.command`
=====================  ==============================================================

Importing this package imports nothing else.
"""

__version__ = "0.1.0"

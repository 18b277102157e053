"""Moved: the project generator is the ``purpose-agent-generate`` distribution since 2026-12-03.

A ``system.py`` generated before then imports ``load_project`` from here. Importing this module
raises an ImportError that says what to change; it cannot forward the name, because the kernel
never imports a plugin.
"""

raise ImportError(
    "purpose_agent.mas_generator moved out of the kernel into the purpose-agent-generate package: "
    "install it (pip install purpose-agent-generate) and change the import to "
    "'from purpose_agent_generate import load_project'"
)

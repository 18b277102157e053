"""``python -m purpose_agent``: the same CLI as ``purpose-agent``."""

from purpose_agent.cli import main

raise SystemExit(main())

"""With every workspace plugin installed, discovery and `plugins list` stay cheap: no plugin's
heavy dependency (SDKs, HTTP clients, model runtimes) and not even pydantic is imported."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["pydantic", "httpx", "openai", "anthropic", "llama_cpp", "numpy", "detect_secrets", "pyseccomp", "gguf"]


def test_plugins_list_imports_no_heavy_dependency() -> None:
    probe = (
        "import sys, json, io, contextlib\n"
        "from purpose_agent.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['plugins', 'list', '--json'])\n"
        "plugins = json.loads(out.getvalue())\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps({'plugins': [p['id'] for p in plugins if p['status'] == 'ok'],"
        " 'heavy': [m for m in heavy if m in sys.modules]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["plugins"]) >= 3, report
    assert report["heavy"] == [], f"imported during plugins list: {report['heavy']}"

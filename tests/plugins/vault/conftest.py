import sys
from pathlib import Path

# documents.py: the test documents, shared by the vault's test modules.
sys.path.insert(0, str(Path(__file__).parent))

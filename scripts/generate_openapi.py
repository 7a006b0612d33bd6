"""Write or check the committed OpenAPI document (openapi.json), generated from the handler modules.

python -m scripts.generate_openapi --write   # regenerate
python -m scripts.generate_openapi --check   # exit 1 when the committed copy is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from avito_service.openapi import build_document, render

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "openapi.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render(build_document(ROOT / "functions"))
    if args.write:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
        return 0
    if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
        print("openapi.json is out of date: run `make openapi` and commit it", file=sys.stderr)
        return 1
    print("openapi.json is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

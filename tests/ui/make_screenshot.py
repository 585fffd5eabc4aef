"""Write the README screenshot ``assets/lab.svg`` (120x40, the snapshot scenario).

.venv/bin/python -m tests.ui.make_screenshot
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from .test_snapshots import lab, scenario

ASSETS = Path(__file__).resolve().parents[2] / "assets"


async def main() -> None:
    app = lab()
    async with app.run_test(size=(120, 40)) as pilot:
        await scenario(pilot)
        path = app.save_screenshot("lab.svg", path=str(ASSETS))
        print(path)


if __name__ == "__main__":
    asyncio.run(main())

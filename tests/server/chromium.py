"""How the UI's browser tests (and bench/bench_ui.py) start Debian's Chromium.

Never ``playwright install`` (it downloads a browser of its own): the playwright
package drives ``/usr/bin/chromium`` (``apt-get install chromium``) with these flags
(see /work/shared/reference/test-infrastructure.md).
"""

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

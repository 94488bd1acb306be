"""Browser tests of the officer pages (Playwright driving Debian's chromium)."""

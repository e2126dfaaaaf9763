"""Fail when a pytest JUnit report (.ci/run writes one) counts no test, or any skipped one.

A skip path must not hide in a green run: CI has every service the suite needs, so a skipped test
is one that silently did not run. Usage: no_skips.py REPORT.xml
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(suite.get("tests", 0)) for suite in suites)
    skipped = [(case.get("classname", ""), case.get("name", ""), (skip.get("message") or "").strip())
               for case in root.iter("testcase") for skip in case.findall("skipped")]
    if total == 0:
        print("no test ran", file=sys.stderr)
        return 1
    for classname, name, message in skipped:
        print(f"SKIPPED {classname}::{name}: {message}", file=sys.stderr)
    if skipped:
        print(f"{len(skipped)} of {total} tests skipped: CI runs every test", file=sys.stderr)
        return 1
    print(f"{total} tests, none skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""Runs every tests/integration/test_*.py (or the names given) with
unittest, and writes "passed failed" to $PORTICO_SUMMARY for scripts/test.sh."""

import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)


class CountingResult(unittest.TextTestResult):
    """Counts successes itself: an error in setUpClass is a failure that
    belongs to no test, so testsRun minus failures would undercount."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.successes = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.successes += 1


def main():
    loader = unittest.TestLoader()
    names = sys.argv[1:]
    if names:
        suite = loader.loadTestsFromNames(
            [n[:-3] if n.endswith(".py") else n for n in names])
    else:
        suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
    result = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.successes
    summary = os.environ.get("PORTICO_SUMMARY")
    if summary:
        with open(summary, "w") as f:
            f.write(f"{passed} {failed + len(result.skipped)}\n")
    print(f"integration: {passed} passed, {failed} failed, {len(result.skipped)} skipped")
    return 0 if failed == 0 and not result.skipped else 1


if __name__ == "__main__":
    sys.exit(main())

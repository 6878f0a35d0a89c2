"""Says, after a run, what to install to run the tests that were skipped for want of a package.

pyproject's `addopts = "-rs"` lists every skip with its reason; this adds the install command once
per missing package, so a run without PyTorch says how to get the parity tests.
"""

# Words in a skip reason (lower case) -> what installs the package it names.
_INSTALL = [
    (("torch",), 'pip install ".[test,torch]"   (or: pip install ".[test]" torch==2.13.0, the CPU build)'),
    (("jax",), "pip install jax jaxlib"),
    (("sklearn", "tqdm", "matplotlib"), 'pip install ".[examples]"'),
    (("mypy",), "pip install mypy"),
    (("numpy < 2.1",), 'pip install "numpy>=2.1"'),
    (("graphviz",), "pip install graphviz   (and the `dot` program: apt-get install graphviz)"),
]


def pytest_terminal_summary(terminalreporter):
    counts = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr).lower()
        for words, command in _INSTALL:
            if any(w in reason for w in words):
                counts[command] = counts.get(command, 0) + 1
    if counts:
        terminalreporter.section("skipped for want of a package: install it to run them")
        for command, n in counts.items():
            terminalreporter.write_line(f"{n:4d} skipped: {command}")

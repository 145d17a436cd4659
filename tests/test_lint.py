"""The Python code passes the project's ruff rules (ruff.toml), notebook included; the C++ is clang-formatted."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", str(ROOT)],
                            capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cpp_is_clang_formatted():
    """hls_src/ and rtl/tb/ as .clang-format says; `clang-format -i FILE` fixes a file.

    The generated lenet_contract.h is left out: its generator's text is held by test_contract.py.
    """
    sources = sorted(p for d in ("hls_src", "rtl/tb") for ext in ("*.cpp", "*.h")
                     for p in (ROOT / d).rglob(ext) if p.name != "lenet_contract.h")
    assert len(sources) >= 10
    result = subprocess.run([str(Path(sys.executable).parent / "clang-format"), "--dry-run", "-Werror",
                             *map(str, sources)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]

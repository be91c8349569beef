"""Every Python block in README.md runs, in a fresh interpreter, as a user would paste it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_example

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(code: str) -> None:
    run_example(code)


def test_mapping_format_worked_example_reads_its_own_sample(tmp_path: Path) -> None:
    import json

    from normalizer import Category, Registry, classify

    text = (README.parent / "mappings" / "README.md").read_text(encoding="utf-8")
    example = text[text.index("## Worked example") :]
    toml = re.search(r"```toml\n(.*?)```", example, re.S)
    sample = re.search(r"```json\n(.*?)```", example, re.S)
    assert toml is not None
    assert sample is not None
    (tmp_path / "sms_ru.toml").write_text(toml.group(1), encoding="utf-8")
    registry = Registry(builtin=tmp_path, environ=False)
    body = json.loads(sample.group(1).replace("…", "x"))
    out = classify("sms_ru", body, url="https://sms.ru/sms/send", registry=registry)
    assert out.partial
    assert [(i.code, i.category) for i in out.items] == [
        ("100", Category.OK),
        ("207", Category.VALIDATION),
    ]

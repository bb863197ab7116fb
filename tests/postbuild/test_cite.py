"""Post-build: the "How to cite" page shows the book's BibTeX entry with the repository address and the version of
the package the book was built with."""

from pathlib import Path

import yaml
from bs4 import BeautifulSoup

import spectral_bias

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_citation_names_the_address_and_version(html_dir):
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    soup = BeautifulSoup((html_dir / "cite.html").read_text(encoding="utf-8"), "html.parser")
    blocks = [pre.get_text() for pre in soup.select("div.highlight-bibtex pre")]
    ours = [b for b in blocks if "@misc{spectralbiasbook2026" in b]
    assert len(ours) == 1, f"expected one book entry on cite.html, found {len(ours)} of {len(blocks)} BibTeX blocks"
    assert f"url          = {{{url}}}" in ours[0]
    assert f"version {spectral_bias.__version__}}}" in ours[0]

"""The course website: ``python course.py site [--profile study] [--out runs/site]``.

A static site built from an executed run (``runs/<profile>/``, written by ``python course.py
run``): ``index.html`` with the course map (the README's) and the run's results table, one page
per executed notebook with its outputs and figures, and the glossary. Pages are nbconvert's HTML
(the ``course_page`` template in tools/templates/: one column that fits a phone), linked to each
other (previous / next, the map, the glossary); links to other files of the repository point at
the repository online. Each page says which run it shows: profile, date and machine. MathJax is
copied into ``_static/`` (tools/web_assets.py), so the folder works offline and from ``file://``.
"""
from __future__ import annotations

import argparse
import html
import posixpath
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from tools.notebooks import NAME_PATTERN, ROOT, SETUP_CELL
from tools.runner import typed_path
from tools.web_assets import TEMPLATE_DIR, install_mathjax
from utils.lessons import SETUP_MARKER

REPOSITORY_URL = re.search(r'"(https://github\.com/[^"]+?)(?:\.git)?"', SETUP_CELL).group(1)
REPOSITORY_REF = "main"
INDEX, GLOSSARY = "index.html", "glossary.html"
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:|#|//)", re.IGNORECASE)   # a scheme, an anchor, //host
LINK = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)
REMOTE_IMAGE = re.compile(r'<img\b[^>]*\bsrc="(?:https?:)?//[^"]*"[^>]*>', re.IGNORECASE)


@dataclass
class Run:
    """What a page says about the run it shows."""

    profile: str
    machine: str
    dates: dict            # notebook stem -> when it was executed ("2026-12-03 00:15 UTC")

    def line(self, stem: str | None = None) -> str:
        if stem is not None:
            when = self.dates.get(stem, "date not recorded")
        else:
            days = sorted(d for d in self.dates.values() if d)
            when = days[0] if len(set(days)) <= 1 else f"{days[0]} to {days[-1]}"
        return (f"This page shows the executed run of profile <b>{html.escape(self.profile)}</b>, "
                f"{html.escape(when or 'date not recorded')}, on {html.escape(self.machine)}.")


def executed_notebooks(run_dir: Path) -> list[Path]:
    profile = run_dir.name
    hint = f"run `python course.py run --profile {profile}` first (it writes the executed notebooks there)"
    if not run_dir.is_dir():
        raise SystemExit(f"There is no run folder {run_dir}: {hint}.")
    notebooks = sorted(p for p in run_dir.glob("*.ipynb") if NAME_PATTERN.match(p.name))
    if not notebooks:
        raise SystemExit(f"{run_dir} holds no executed notebooks: {hint}.")
    return notebooks


def execution_date(nb) -> str | None:
    """When the notebook's first code cell ran (nbclient's timestamp), as "YYYY-MM-DD HH:MM UTC"."""
    for cell in nb.cells:
        stamp = cell.get("metadata", {}).get("execution", {}).get("iopub.execute_input")
        if stamp:
            return f"{stamp[:10]} {stamp[11:16]} UTC"
    return None


def setup_line(nb) -> str:
    """The first line the setup cell printed: "profile=study | device=cpu | ..."."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(SETUP_MARKER):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("text"):
                    return output["text"].splitlines()[0]
    return ""


def describe_run(run_dir: Path, notebooks: dict) -> Run:
    """The run's profile (what the setup cells printed), machine (results.md's first line, which
    ``course.py run`` writes) and the date of each notebook."""
    lines = [setup_line(nb) for nb in notebooks.values()]
    profiles = sorted({m.group(1) for line in lines if (m := re.search(r"profile=(\w+)", line))})
    results = run_dir / "results.md"
    machine = None
    if results.is_file():
        first = results.read_text(encoding="utf-8").strip().splitlines()[:1]
        match = re.search(r"\bon (.+?)\.(?:\s|$)", first[0]) if first else None
        machine = match.group(1) if match else None
    if machine is None:
        devices = sorted({m.group(1) for line in lines if (m := re.search(r"device=(\w+)", line))})
        machine = f"a machine not recorded (device {', '.join(devices) or 'unknown'}; no results.md)"
    return Run(", ".join(profiles) or run_dir.name, machine,
               {stem: execution_date(nb) for stem, nb in notebooks.items()})


def readme_course_map(readme: str) -> str:
    """The README's title, its first paragraph and its "## Course map" section."""
    title = next(line for line in readme.splitlines() if line.startswith("# "))
    intro = readme.split(title, 1)[1].strip().split("\n\n", 1)[0]
    course_map = re.search(r"^## Course map\n.*?(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    if course_map is None:
        raise SystemExit("README.md has no '## Course map' section to put on the index page.")
    return "\n\n".join([title, intro, course_map.group(0).strip()])


def rewrite_links(page_html: str, source_dir: str, pages: dict[str, str]) -> str:
    """Links written for the repository (``05_char_rnn.ipynb``, ``../GLOSSARY.md``) as links of the
    site: to its pages where there is one, else to the file in the repository online. Pictures
    from the web (Colab badges) become their alt text, since the site works offline."""
    def target(match: re.Match) -> str:
        href = html.unescape(match.group(2))
        if not href or EXTERNAL.match(href):
            return match.group(0)
        path, _, anchor = href.partition("#")
        repo_path = posixpath.normpath(posixpath.join(source_dir, unquote(path)))
        if repo_path in pages:
            new = pages[repo_path] + (f"#{anchor}" if anchor else "")
        elif (ROOT / repo_path).exists():
            new = f"{REPOSITORY_URL}/blob/{REPOSITORY_REF}/{repo_path}" + (f"#{anchor}" if anchor else "")
        else:
            return match.group(0)      # a broken link in the source: left for the link check to find
        return match.group(1) + html.escape(new) + match.group(3)

    def alt_text(match: re.Match) -> str:
        alt = re.search(r'\balt="([^"]*)"', match.group(0))
        return alt.group(1) if alt else "(picture)"

    return LINK.sub(target, REMOTE_IMAGE.sub(alt_text, page_html))


def navigation(order: list[tuple[str, str]], position: int, css_class: str = "") -> str:
    """The links at the top and bottom of a page: the map, the glossary, the previous and next page."""
    links = [f'<a href="{INDEX}">Course map</a>', f'<a href="{GLOSSARY}">Glossary</a>']
    if position > 0:
        page, title = order[position - 1]
        links.append(f'<a href="{page}" rel="prev">&larr; {html.escape(title)}</a>')
    if position < len(order) - 1:
        page, title = order[position + 1]
        links.append(f'<a href="{page}" rel="next">{html.escape(title)} &rarr;</a>')
    return f'<nav class="course-nav {css_class}">' + " ".join(links) + "</nav>"


def title_of(nb, default: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.match(r"#\s+(.+)", cell.source.strip())
            if match:
                return match.group(1).strip()
    return default


def build_site(run_dir: Path, out_dir: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    paths = executed_notebooks(run_dir)
    notebooks = {p.stem: nbformat.read(p, as_version=4) for p in paths}
    run = describe_run(run_dir, notebooks)
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="course_page", extra_template_basedirs=[str(TEMPLATE_DIR)],
                            extra_template_paths=[str(TEMPLATE_DIR)], mathjax_url=install_mathjax(out_dir),
                            embed_images=True)

    results = run_dir / "results.md"
    results_text = (results.read_text(encoding="utf-8") if results.is_file()
                    else "This run wrote no results.md (`python course.py run` writes it).")
    index_nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(readme_course_map((ROOT / "README.md").read_text(encoding="utf-8"))),
        nbformat.v4.new_markdown_cell(f'<a id="results"></a>\n\n## Results of this run\n\n{results_text}')])
    glossary_nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell((ROOT / "GLOSSARY.md").read_text(encoding="utf-8"))])

    # (page file, notebook, title, the repository folder its links are relative to, run stem)
    pages = [(INDEX, index_nb, "Course map", "", None)]
    pages += [(f"{stem}.html", nb, title_of(nb, stem), "notebooks", stem) for stem, nb in notebooks.items()]
    pages.append((GLOSSARY, glossary_nb, "Glossary", "", None))
    site_paths = {"README.md": INDEX, "GLOSSARY.md": GLOSSARY}
    site_paths.update({f"notebooks/{stem}.ipynb": f"{stem}.html" for stem in notebooks})
    order = [(page, title) for page, _, title, _, _ in pages]

    for position, (page, nb, title, source_dir, stem) in enumerate(pages):
        nb.metadata.pop("widgets", None)    # widget state would load the widget scripts from a CDN
        nb.metadata["title"] = title
        header = navigation(order, position) + f'<p class="course-run">{run.line(stem)}</p>'
        resources = {"metadata": {"name": Path(page).stem, "path": str(ROOT / source_dir)},
                     "course_page": {"header": header, "footer": navigation(order, position, "bottom")}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        (out_dir / page).write_text(rewrite_links(body, source_dir, site_paths), encoding="utf-8")
    print(f"{len(pages)} pages in {out_dir} (from {run_dir}): open {out_dir / INDEX}")
    return out_dir / INDEX


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python course.py site", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="study",
                        help="the run to show: runs/<profile>/ (default study)")
    parser.add_argument("--runs", default=str(ROOT / "runs"), help="the folder of runs (default runs/)")
    parser.add_argument("--out", default=str(ROOT / "runs" / "site"), help="where to write the site")
    args = parser.parse_args(argv)
    build_site(typed_path(args.runs) / args.profile, typed_path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

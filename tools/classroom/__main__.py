"""The classroom kit's commands (the Makefile's ``classroom*`` targets call them).

    python -m tools.classroom build                        # build/classroom: source/ release/ slides/ site/
    python -m tools.classroom release 01_gram_mmd          # (re)generate one student copy: release/01_gram_mmd/
    python -m tools.classroom grade 01_gram_mmd FOLDER     # FOLDER/<student>.ipynb → autograded scores (CSV too)
    python -m tools.classroom publish DEST                 # copy the website to DEST (a web root, a gh-pages checkout)
    python -m tools.classroom present [--port 8000]        # serve the slides at http://localhost:8000/

``--kit DIR`` (before the command) builds or reads another folder than ``build/classroom``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import time
from pathlib import Path

from . import assignments, course, execute, site, slides, vendor

KIT = course.ROOT / "build" / "classroom"


def build(kit: Path, parts: set[str]) -> dict:
    """Build the kit's ``parts`` (source, release, slides, site) into ``kit``; returns what was built."""
    t0 = time.perf_counter()
    kit.mkdir(parents=True, exist_ok=True)
    names = [p.stem for p in course.notebooks()]
    report: dict = {"notebooks": names}
    if parts & {"source", "release"}:
        shutil.rmtree(kit / "source", ignore_errors=True)  # generated; the gradebook (grades) is kept
        graded = assignments.write_sources(kit)
        report["graded"] = graded
        print(f"source/: {len(names)} nbgrader source notebooks, {sum(map(len, graded.values()))} autograded exercises")
    if "release" in parts:
        assignments.release(kit, names)
        print(f"release/: {len(names)} student notebooks (nbgrader generate_assignment)")
    if parts & {"slides", "site"}:
        modules = vendor.install(kit / ".npm")
        executed = [execute.execute(p, kit / "executed") for p in course.notebooks()]
        print(f"executed {len(executed)} notebooks in fast mode for the slides and the site")
        if "slides" in parts:
            shutil.rmtree(kit / "slides", ignore_errors=True)
            vendor.copy_assets(modules, kit / "slides" / "_static")
            for nb in executed:
                slides.write_deck(nb, kit / "slides")
            print(f"slides/: {len(executed)} reveal.js decks")
        if "site" in parts:
            site.build(executed, modules, kit)
            print("site/: the course website (index.html)")
    report["seconds"] = time.perf_counter() - t0
    print(f"classroom kit built in {kit} in {report['seconds']:.0f} s")
    return report


def release_one(kit: Path, assignment: str) -> Path:
    """(Re)generate the student copy of ``assignment`` from its source notebook; returns the release folder."""
    _require(kit, assignment)
    assignments.nbgrader(kit, "generate_assignment", assignment, "--force")
    out = kit / "release" / assignment
    print(f"student copy: {out / (assignment + '.ipynb')} (hand it out, or `nbgrader release_assignment "
          f"{assignment}` from {kit} with an nbgrader exchange)")
    return out


def _require(kit: Path, assignment: str) -> None:
    if not (kit / "source" / assignment).is_dir():
        known = ", ".join(sorted(p.name for p in (kit / "source").glob("*"))) or "none: run `make classroom` first"
        raise SystemExit(f"no assignment {assignment!r} in {kit}/source (assignments: {known})")


def grade(kit: Path, assignment: str, folder: Path) -> list[tuple[str, float, float]]:
    """Autograde every ``folder/<student>.ipynb`` submitted for ``assignment``; rows (student, score, max)."""
    _require(kit, assignment)
    subs = sorted(folder.glob("*.ipynb"))
    if not subs:
        raise SystemExit(f"no submissions in {folder}: put one notebook per student there, named <student>.ipynb")
    for sub in subs:
        tmp = kit / ".incoming" / sub.stem
        tmp.mkdir(parents=True, exist_ok=True)
        shutil.copy2(sub, tmp / f"{assignment}.ipynb")
        assignments.collect(kit, sub.stem, assignment, tmp)
    scores = assignments.autograde(kit, assignment, [sub.stem for sub in subs])
    rows = [(student, score, top) for student, (score, top) in scores.items()]
    for student, score, top in rows:
        print(f"{student:<24} {score:g} / {top:g}")
    out = kit / f"grades-{assignment}.csv"
    with out.open("w", newline="") as f:
        csv.writer(f).writerows([("student", "autograded score", "autograded maximum"), *rows])
    print(f"written {out}; questionnaires are graded by hand: `nbgrader formgrader` in {kit}")
    return rows


def publish(kit: Path, dest: Path) -> Path:
    """Copy the built website to ``dest`` (created; files there with the same names are replaced)."""
    src = kit / "site"
    if not (src / "index.html").exists():
        raise SystemExit(f"no website in {src}: run `make classroom` first")
    shutil.copytree(src, dest, dirs_exist_ok=True)
    print(f"published the website to {dest} (open {dest / 'index.html'})")
    return dest


def present(kit: Path, port: int) -> None:
    """Serve the decks over HTTP (MathJax's fonts load from a local server, not from file:// in every browser)."""
    import functools
    import http.server

    folder = kit / "slides"
    if not folder.is_dir():
        raise SystemExit(f"no slides in {folder}: run `make classroom` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        for deck in sorted(folder.glob("*.slides.html")):
            print(f"http://localhost:{port}/{deck.name}")
        print("speaker notes: press s in a deck; stop with Ctrl-C")
        server.serve_forever()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.classroom", description=__doc__.split("\n")[0])
    ap.add_argument("--kit", type=Path, default=KIT, help="the kit's folder (default build/classroom)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build source/, release/, slides/ and site/")
    b.add_argument("--only", nargs="+", choices=["source", "release", "slides", "site"],
                   default=["source", "release", "slides", "site"])
    r = sub.add_parser("release", help="(re)generate one assignment's student copy")
    r.add_argument("assignment")
    g = sub.add_parser("grade", help="autograde a folder of submissions (<student>.ipynb)")
    g.add_argument("assignment")
    g.add_argument("folder", type=Path)
    p = sub.add_parser("publish", help="copy the website to a folder")
    p.add_argument("dest", type=Path)
    s = sub.add_parser("present", help="serve the slides on localhost")
    s.add_argument("--port", type=int, default=8000)
    args = ap.parse_args(argv)
    kit = args.kit.resolve()
    if args.cmd == "build":
        build(kit, set(args.only))
    elif args.cmd == "release":
        release_one(kit, args.assignment)
    elif args.cmd == "grade":
        grade(kit, args.assignment, args.folder.resolve())
    elif args.cmd == "publish":
        publish(kit, args.dest.resolve())
    else:
        present(kit, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end and per-stage benchmark of the pipeline, with the bare-pandas floor beside it.

    python -m benchmarks.bench_pipeline --sizes 10k,100k,1m --db sqlite
    python -m benchmarks.bench_pipeline --sizes 100k --db postgresql --profile

For each size the data set is generated once under benchmarks/data/<size>/ (reused when its
manifest matches), then each measurement runs in a fresh child process, so every peak RSS
belongs to that measurement alone:

* ``stages``: the steps of ``reconcile.pipeline.run`` called one by one with the same functions
  (import: detect+parse+validate+dedup+store, load sources, match, reports), timing each and
  sampling the job's memory (this process's resident set and its worker processes' private
  pages, summed: ``RssSampler``) every 20 ms; beside them the *floor*: the credits and open
  invoices just stored, joined on (amount, normalised client name) with pandas alone. Then ``reconcile.pipeline.run`` over
  ``inbox_next/`` (the next day's 5,000 lines) on the same database: the incremental run;
* ``e2e``: ``reconcile.pipeline.run`` itself, inbox → workbook and CSVs, on a fresh database.

Each result is saved as benchmarks/out/results/<db>-<size>.json and benchmarks/RESULTS.md is rewritten
from all result files. PostgreSQL runs in a scratch schema of
postgresql+psycopg://postgres@127.0.0.1:5432/test, dropped afterwards. ``--profile`` also writes
a cProfile dump and a top-offenders text per stage to benchmarks/out/.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
OUT = HERE / "out"
RESULTS_DIR = OUT / "results"  # git-ignored; RESULTS.md is rendered from them
RESULTS_MD = HERE / "RESULTS.md"
PG_URL = os.environ.get(
    "RECONCILE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SEED = 7
INCREMENT = 5_000
# parse, validate and store: results written before stage 1 was timed as one "import"
STAGES = ("setup", "import", "parse", "validate", "store", "load_sources", "match", "report")
MIB = 1024 * 1024
BEGIN, END = "<!-- import-throughput -->", "<!-- /import-throughput -->"  # bench_import's block


# ---------------------------------------------------------------------------------------------
# measuring


class RssSampler:
    """Samples the job's memory in a thread; ``peak`` since the last ``reset``.

    The job is this process and its descendants: the file readers (spawned), the report
    worker (spawned) and the matching's helper (``reconcile.forked``: forked, so it shares
    every page of this process's memory at the fork until one of them writes it). The figure
    is this process's resident set (``/proc/self/statm``, every ``interval``, 20 ms) plus each
    descendant's private pages (``/proc/<pid>/smaps_rollup``: Private_Clean + Private_Dirty),
    i.e. every page the job holds counted once: a page a child shares with this process is in
    this process's resident set already (its resident set, or even its PSS, would count the
    shared pages twice, or half of them twice). Reading ``smaps_rollup`` costs time in
    proportion to the pages a process maps, ~25 ms for a child sharing 4 GiB: the descendants
    are read at most every ten times the last read took (at most 10% of a CPU, ~250 ms apart
    at 1M lines), this process every ``interval``; between reads a descendant counts as last
    read, or as its resident set now if that is less (0 once it has left). Pages shared with
    processes outside the job (libraries) count in full: it errs high by those only."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = 0
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._children: dict[int, int] = {}  # pid: private bytes, as last read
        self._next_read = 0.0

    def _resident(self, pid: int | str) -> int:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                return int(fh.read().split()[1]) * self._page
        except (OSError, IndexError, ValueError):
            return 0  # a worker that has just left

    @staticmethod
    def _private(pid: int) -> int:
        total = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(("Private_Clean:", "Private_Dirty:")):
                        total += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            return 0  # a worker that has just left
        return total

    def _descendants(self) -> list[int]:
        found: list[int] = []
        pending = [os.getpid()]
        while pending:
            pid = pending.pop()
            for path in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    children = path.read_text(encoding="ascii").split()
                except OSError:
                    continue
                found.extend(int(c) for c in children)
                pending.extend(int(c) for c in children)
        return found

    def rss(self, *, fresh: bool = False) -> int:
        """This process's resident set plus its descendants' private pages (those read
        again when due, or all of them with ``fresh``)."""
        now = time.monotonic()
        if fresh or now >= self._next_read:
            alive = self._descendants()
            started = time.monotonic()
            self._children = {pid: self._private(pid) for pid in alive}
            took = time.monotonic() - started
            self._next_read = time.monotonic() + max(self.interval, 10 * took)
        # between reads a child counts at most its resident set now (0 once it has left)
        children = sum(min(v, self._resident(pid)) for pid, v in self._children.items())
        return self._resident("self") + children

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = self.rss(fresh=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def reset(self) -> None:
        self.peak = self.rss(fresh=True)


class StageClock:
    """Wall time and peak RSS per stage, summed over repeated entries (one per file)."""

    def __init__(self, sampler: RssSampler, profile_to: Path | None) -> None:
        self.sampler = sampler
        self.seconds: dict[str, float] = {}
        self.peak: dict[str, int] = {}
        self.profile_to = profile_to
        self.profiles: dict[str, cProfile.Profile] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        prof = None
        if self.profile_to is not None:
            prof = self.profiles.setdefault(name, cProfile.Profile())
        self.sampler.reset()
        started = time.perf_counter()
        if prof is not None:
            prof.enable()
        try:
            yield
        finally:
            if prof is not None:
                prof.disable()
            took = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + took
            self.peak[name] = max(self.peak.get(name, 0), self.sampler.peak, self.sampler.rss())

    def dump_profiles(self, tag: str) -> None:
        if self.profile_to is None:
            return
        self.profile_to.mkdir(parents=True, exist_ok=True)
        for name, prof in self.profiles.items():
            prof.dump_stats(self.profile_to / f"{tag}-{name}.prof")
            (self.profile_to / f"{tag}-{name}.txt").write_text(
                top_offenders(prof, self.seconds[name]), encoding="utf-8"
            )


def top_offenders(prof: cProfile.Profile | pstats.Stats, total: float, n: int = 12) -> str:
    """The functions with the most own time, as 'file:function  share of the stage'."""
    stats = prof if isinstance(prof, pstats.Stats) else pstats.Stats(prof)
    rows = []
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tottime, cumtime, ncalls, f"{_short(file)}:{line}:{func}"))
    rows.sort(reverse=True)
    out = io.StringIO()
    out.write(f"stage total {total:.2f} s; own time (tottime) and cumulative, top {n}\n")
    for tottime, cumtime, ncalls, where in rows[:n]:
        share = 100 * tottime / total if total else 0.0
        out.write(
            f"{share:5.1f}%  {tottime:8.2f} s own {cumtime:8.2f} s cum {ncalls:>9}  {where}\n"
        )
    by_cum = sorted(rows, key=lambda r: r[1], reverse=True)
    out.write("\nby cumulative time (project code only)\n")
    for _, cumtime, ncalls, where in [r for r in by_cum if _ours(r[3])][:n]:
        out.write(
            f"{100 * cumtime / total if total else 0:5.1f}%  {cumtime:8.2f} s {ncalls:>9}  {where}\n"
        )
    return out.getvalue()


def _short(file: str) -> str:
    for marker in ("/reconcile/", "/importers/", "/benchmarks/", "site-packages/"):
        if marker in file:
            prefix = "" if marker == "site-packages/" else marker.lstrip("/")
            return prefix + file.split(marker, 1)[1].lstrip("/")
    return file


def _ours(where: str) -> bool:
    return where.startswith(("reconcile/", "importers/"))


def peak_rss_self() -> int:
    """Peak resident set of this process so far, in bytes (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------------------------------------
# the run, split into its stages (mirrors reconcile.pipeline.run / import_inbox)


def bench_rules(work: Path) -> Any:
    from benchmarks.generate import ACCOUNTS, HOLDER
    from reconcile.config import Rules

    return Rules.model_validate(
        {
            "accounts": [
                {"bank": b, "account_no": a, "holder": HOLDER.title()} for b, a in ACCOUNTS.items()
            ],
            "base_dir": str(work),
            "keep_inbox": True,
            "paths": {"archive": "archive", "rejected": "rejected", "reports": "reports"},
        }
    )


def run_options(data: Path, work: Path, db_url: str, inbox: str = "inbox") -> Any:
    from reconcile.pipeline import RunOptions

    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    as_of = manifest["as_of"] if inbox == "inbox" else manifest["increment_as_of"]
    return RunOptions(
        rules=bench_rules(work),
        inbox=data / inbox,
        out=work / "reports",
        db_url=db_url,
        as_of=date.fromisoformat(as_of),
        invoices=data / "invoices.csv",
        confirmations=data / "confirmations.csv",
        keep_inbox=True,
    )


def floor_join(credits: Any, invoices: Any) -> int:
    """Bare pandas: credits x open invoices on (amount_sen, normalised name); pair count."""
    import pandas as pd

    def norm(s: pd.Series) -> pd.Series:
        return (
            s.fillna("")
            .str.upper()
            .str.replace(r"[^A-Z ]", " ", regex=True)
            .str.split()
            .str.join(" ")
        )

    left = pd.DataFrame(
        {"amount_sen": credits["amount_sen"], "name": norm(credits["counterparty"])}
    )
    open_inv = invoices[invoices["status"].isin(["OPEN", "PARTIAL"])]
    right = pd.DataFrame(
        {"amount_sen": open_inv["amount_sen"], "name": norm(open_inv["client_name"])}
    )
    return len(left[left["name"] != ""].merge(right, on=["amount_sen", "name"]))


def start_bench_run(engine: Any, opts: Any, command: str) -> Any:
    """A prepared database and a started run for stages timed one by one."""
    from reconcile import pipeline, store
    from reconcile.config import snapshot

    pipeline.prepare_database(engine, opts.rules)
    with engine.begin() as conn:
        run_id = store.start_run(
            conn, as_of=opts.as_of, command=command, snapshot=snapshot(opts.rules),
            now=datetime.now(),
        )  # fmt: skip
    return pipeline.RunResult(run_id=run_id, exit_code=0)


def finish_bench_run(engine: Any, run: Any) -> None:
    """Record the run as completed, as cron's would be: the next run may trust it."""
    from reconcile import store

    with engine.begin() as conn:
        store.finish_run(
            conn, run.run_id, status="COMPLETED", exit_code=0, now=datetime.now(),
            counts=run.counts, input_hashes=run.input_hashes,
        )  # fmt: skip


def run_stages(data: Path, db_url: str, work: Path, profile: bool, tag: str) -> dict[str, Any]:
    from reconcile import pipeline, reports, store

    opts = run_options(data, work, db_url)
    result: dict[str, Any] = {"rejections": []}
    with RssSampler() as sampler:
        clock = StageClock(sampler, OUT if profile else None)
        engine = store.make_engine(db_url)
        with clock.stage("setup"):
            # a run like cron's: the incremental one reports after it
            run = start_bench_run(engine, opts, command="run")
        run_id = run.run_id
        # stage 1 as the job runs it: files read ahead in worker processes while the previous
        # one is stored, so parse, validate and store overlap and are timed as one
        with clock.stage("import"):
            seen = pipeline.import_inbox(engine, opts, run_id, run)
        lines = len(seen)
        result["rejections"] = [r.reason for r in run.rejections]
        with clock.stage("load_sources"):
            pipeline.load_sources(engine, opts, run_id, run)
        with engine.connect() as conn:
            credits = store.load_credits(conn)
            invoices = store.load_invoices(conn)
        started = time.perf_counter()
        pairs = floor_join(credits, invoices)
        floor_seconds = time.perf_counter() - started
        del credits, invoices
        with clock.stage("match"):
            considered = pipeline.match(engine, opts, run_id, run)
        with clock.stage("report"):
            inv_nos, tickets = pipeline.touched_rows(engine, run_id, run)
            reports.write_run_reports(
                engine,
                opts,
                run_id,
                seen=seen,
                considered=considered,
                invoice_nos=inv_nos,
                ticket_ids=tickets,
                rejections=run.rejections,
            )
        clock.dump_profiles(tag)
        finish_bench_run(engine, run)
        engine.dispose()
        # the next day's export over everything already imported
        next_opts = replace(run_options(data, work, db_url, "inbox_next"), out=work / "reports2")
        sampler.reset()
        marks: dict[str, float] = {}

        def mark(name: str, _detail: dict[str, Any]) -> None:
            if name in ("sources.begin", "sources.committed"):
                marks[name] = time.perf_counter()

        pipeline.step_listeners.append(mark)
        started = time.perf_counter()
        inc = pipeline.run(next_opts)
        inc_seconds = time.perf_counter() - started
        pipeline.step_listeners.remove(mark)
        inc_peak = sampler.peak
    result.update(
        lines=lines,
        counts=run.counts,
        row_rejections=len(run.rejections),
        stages={k: {"seconds": clock.seconds[k], "peak_rss": clock.peak[k]} for k in clock.seconds},
        floor={"seconds": floor_seconds, "pairs": pairs},
        incremental={
            "seconds": inc_seconds,
            "peak_rss": inc_peak,
            "lines_new": inc.counts.get("lines_new", 0),
            "rejected": len(inc.rejections),
            "load_sources_seconds": marks["sources.committed"] - marks["sources.begin"],
            "sources": {
                k: v
                for k, v in inc.counts.items()
                if k.startswith(("invoices_new", "invoices_changed", "invoices_skipped", "conf"))
            },
        },
        peak_rss=peak_rss_self(),
    )
    return result


def run_e2e(data: Path, db_url: str, work: Path) -> dict[str, Any]:
    from reconcile import pipeline

    opts = run_options(data, work, db_url)
    with RssSampler() as sampler:
        started = time.perf_counter()
        res = pipeline.run(opts)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        # the job with its workers, as sampled; this process's own peak if that is higher
        "peak_rss": max(sampler.peak, peak_rss_self()),
        "lines_new": res.counts.get("lines_new", 0),
        "files_rejected": sum(1 for r in res.rejections if r.line is None),
        "counts": res.counts,
    }


# ---------------------------------------------------------------------------------------------
# orchestration: data, databases, child processes, RESULTS.md


def ensure_data(size: int) -> Path:
    from benchmarks.generate import generate

    out = DATA / _label(size)
    manifest = out / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        if (
            m.get("size") == size
            and m.get("seed") == SEED
            and m.get("increment_lines") == INCREMENT
        ):
            return out
        shutil.rmtree(out)
    started = time.perf_counter()
    generate(size, SEED, out, increment=INCREMENT)
    print(f"generated {_label(size)} in {time.perf_counter() - started:.1f} s", flush=True)
    return out


@contextmanager
def scratch_db(kind: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'reconcile.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def child(mode: str, data: Path, db: str, profile: bool) -> dict[str, Any]:
    work = OUT / f"work-{mode}-{db}-{data.name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result_file = work / "result.json"
    with scratch_db(db, work) as url:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.bench_pipeline",
            "--child",
            mode,
            "--data",
            str(data),
            "--db-url",
            url,
            "--work",
            str(work),
            "--json",
            str(result_file),
        ]
        if profile:
            cmd.append("--profile")
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, check=False)
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        return {"failed": f"exit {proc.returncode}", "wall": wall}
    out = json.loads(result_file.read_text(encoding="utf-8"))
    out["wall"] = wall
    out["profiled"] = profile
    shutil.rmtree(work, ignore_errors=True)
    return out


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        ram = f"{int(mem) / MIB:.0f} GiB"
    except OSError:
        ram = "?"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "ram": ram,
        "python": platform.python_version(),
        "commit": commit,
    }


def save_result(db: str, size: int, result: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    result |= {"db": db, "size": size, "date": datetime.now().isoformat(timespec="seconds")}
    result["machine"] = machine()
    (RESULTS_DIR / f"{db}-{_label(size)}.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )


def _mib(n: int | None) -> str:
    return "" if not n else f"{n / MIB:,.0f}"


def _rate(lines: int, seconds: float) -> str:
    return f"{lines / seconds:,.0f}" if seconds > 0 else ""


def render_results() -> str:
    """RESULTS.md from every saved result: per stage, end to end, incremental, floor."""
    results = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS_DIR.glob("*.json"))
    ]
    results.sort(key=lambda r: (r["db"] != "sqlite", r["db"], r["size"]))
    out = [
        "# Pipeline benchmark results",
        "",
        "Written by `python -m benchmarks.bench_pipeline` (see README.md); do not edit by hand.",
        "Synthetic data from `benchmarks/generate.py` (seed 7): bank lines in 16 files (four",
        "layouts), open invoices ≈ lines / 2, confirmations ≈ lines / 10.",
        "Targets: 1M lines inbox → workbook ≤ 60 s and ≤ 4 GiB on SQLite, PostgreSQL ≤ 1.5×;",
        "matching ≤ 20× the floor; incremental 5,000 lines over 1M ≤ 5 s.",
        "",
    ]
    for r in results:
        m = r["machine"]
        out.append(
            f"## {r['db']}, {r['size']:,} lines: {r['date']}, commit {m['commit']}, "
            f"{m['cpu']}, {m['ram']}, Python {m['python']}"
        )
        out.append("")
        st = r.get("stages", {})
        if "failed" in st:
            out += [f"Stages run failed: {st['failed']}", ""]
        else:
            lines = st.get("lines", 0)
            if st.get("profiled"):
                out += ["Stages ran under cProfile (2–3× slower than unprofiled).", ""]
            out += [
                "| stage | wall s | lines/s | peak RSS MiB |",
                "|---|---:|---:|---:|",
            ]
            for name in STAGES:
                s = st["stages"].get(name)
                if s:
                    out.append(
                        f"| {name} | {s['seconds']:.2f} | {_rate(lines, s['seconds'])} | "
                        f"{_mib(s['peak_rss'])} |"
                    )
            total = sum(s["seconds"] for s in st["stages"].values())
            out.append(
                f"| **sum of stages** | {total:.2f} | {_rate(lines, total)} | {_mib(st['peak_rss'])} |"
            )
            fl = st["floor"]
            match = st["stages"].get("match", {}).get("seconds", 0.0)
            ratio = f"{match / fl['seconds']:,.0f}×" if fl["seconds"] > 0 else ""
            out.append(f"| floor: pandas join (amount, name) | {fl['seconds']:.2f} | | | ")
            inc = st["incremental"]
            out += [
                "",
                f"- matching / floor: **{ratio}** (floor found {fl['pairs']:,} pairs)",
                f"- incremental run, {inc['lines_new']:,} new lines over {lines:,}: "
                f"**{inc['seconds']:.2f} s**, peak RSS {_mib(inc['peak_rss'])} MiB, "
                f"{inc['rejected']} rejected; its load_sources "
                f"{inc.get('load_sources_seconds', float('nan')):.2f} s "
                f"`{json.dumps(inc.get('sources', {}))}`",
                f"- rejected files: {len(st['rejections'])}; counts: `{json.dumps(st['counts'])}`",
            ]
        e2e = r.get("e2e", {})
        if "failed" in e2e:
            out.append(f"- end to end (`pipeline.run`): failed ({e2e['failed']})")
        elif e2e:
            out.append(
                f"- end to end (`pipeline.run`, inbox → workbook + CSVs): **{e2e['seconds']:.1f} s**, "
                f"{_rate(e2e['lines_new'], e2e['seconds'])} lines/s, peak RSS "
                f"**{_mib(e2e['peak_rss'])} MiB**"
            )
        out.append("")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    from benchmarks.generate import parse_size

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k", help="comma-separated: 10k,100k,1m")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", action="store_true", help="cProfile each stage")
    parser.add_argument("--skip-e2e", action="store_true", help="per-stage run only")
    parser.add_argument("--child", choices=("stages", "e2e"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        tag = f"{'pg' if 'postgresql' in args.db_url else 'sqlite'}-{args.data.name}"
        if args.child == "stages":
            res = run_stages(args.data, args.db_url, args.work, args.profile, tag)
        else:
            res = run_e2e(args.data, args.db_url, args.work)
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
        return 0
    for size in [parse_size(s) for s in args.sizes.split(",") if s.strip()]:
        data = ensure_data(size)
        result: dict[str, Any] = {"stages": child("stages", data, args.db, args.profile)}
        if not args.skip_e2e:
            result["e2e"] = child("e2e", data, args.db, False)
        save_result(args.db, size, result)
        text = render_results()
        old = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
        if BEGIN in old and END in old:
            text += "\n" + old[old.index(BEGIN) : old.index(END) + len(END)] + "\n"
        RESULTS_MD.write_text(text, encoding="utf-8")
        print(f"{args.db} {_label(size)} done: see {RESULTS_MD}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Quality and speed of the matching core on labelled synthetic scenarios.

    /work/venv/bin/python benchmarks/bench_matching_quality.py [--seed 7] [--cases 5000]
        [--mix every|production|both] [--speed-credits 100000 --speed-invoices 50000]

Two labelled mixes (benchmarks/scenarios.py ``MIXES``): ``every`` draws each situation equally
often (15 % of it is review by design) to measure every code; ``production`` uses realistic
shares and is where the review-rate target applies.

Prints and writes benchmarks/RESULTS_matching.md: precision of automatic links, recall of
matchable credits, review rate, per-code precision/recall/F1, per-situation outcomes, and the
time of decide() at scale beside a bare pandas join floor on (amount, normalised client name).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scenarios import AS_OF, MIXES, generate
from reconcile.config import Matching
from reconcile.matching import Code, decide
from reconcile.names import normalise_names

TARGETS = {"precision": 0.999, "recall": 0.97, "review_rate": 0.05, "f1": 0.95}


def _codes(value: str) -> set[str]:
    return {c for c in value.split(";") if c}


def quality(
    seed: int, cases: int, mix: str = "every"
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    noise_credits = cases // 10 if mix == "every" else 0  # production: unidentified is in the mix
    sc = generate(seed, cases, noise_invoices=cases, noise_credits=noise_credits, mix=mix)
    result = decide(sc.credits, sc.invoices, sc.confirmations, sc.aliases, Matching(), AS_OF)
    got = sc.truth.merge(result.lines, on="line_id", suffixes=("_truth", ""))
    auto = got[got["status"] == "MATCHED"]
    correct = auto["invoice_nos"] == auto["invoice_nos_truth"]
    matchable = got[got["status_truth"] == "MATCHED"]
    found = (matchable["status"] == "MATCHED") & (
        matchable["invoice_nos"] == matchable["invoice_nos_truth"]
    )
    summary = {
        "credits": float(len(got)),
        "precision": float(correct.mean()) if len(auto) else 1.0,
        "recall": float(found.mean()),
        "review_rate": float((got["status"] == "REVIEW").mean()),
        "truth_review_rate": float((got["status_truth"] == "REVIEW").mean()),
        "excess_review_rate": float(
            ((got["status"] == "REVIEW") & (got["status_truth"] != "REVIEW")).mean()
        ),
    }
    conf = sc.confirmation_truth.merge(
        result.confirmations, on="ticket_id", suffixes=("_truth", "")
    )
    rows = []
    for code in Code:
        pairs = [
            (_codes(t), _codes(p)) for t, p in zip(got["codes_truth"], got["codes"], strict=True)
        ]
        pairs += [
            (_codes(t), _codes(p)) for t, p in zip(conf["codes_truth"], conf["codes"], strict=True)
        ]
        tp = sum(code in t and code in p for t, p in pairs)
        fp = sum(code not in t and code in p for t, p in pairs)
        fn = sum(code in t and code not in p for t, p in pairs)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((code.value, tp + fn, tp, fp, fn, precision, recall, f1))
    per_code = pd.DataFrame(
        rows, columns=["code", "truth", "tp", "fp", "fn", "precision", "recall", "f1"]
    )
    got["ok"] = (
        (got["status"] == got["status_truth"])
        & (got["codes"].map(_codes) == got["codes_truth"].map(_codes))
        & ((got["status"] != "MATCHED") | (got["invoice_nos"] == got["invoice_nos_truth"]))
    )
    per_situation = (
        got.groupby("situation")
        .agg(credits=("line_id", "size"), as_expected=("ok", "mean"))
        .reset_index()
    )
    return summary, per_code, per_situation


def speed(seed: int, n_credits: int, n_invoices: int) -> dict[str, float]:
    labelled = n_invoices // 2
    sc = generate(seed, labelled, noise_invoices=n_invoices - labelled,
                  noise_credits=max(0, n_credits - labelled))  # fmt: skip
    t0 = time.perf_counter()
    result = decide(sc.credits, sc.invoices, sc.confirmations, sc.aliases, Matching(), AS_OF)
    t_decide = time.perf_counter() - t0
    t0 = time.perf_counter()
    left = pd.DataFrame(
        {
            "amount_sen": sc.credits["amount_sen"],
            "name": normalise_names(sc.credits["counterparty"]),
        }
    )
    right = pd.DataFrame(
        {
            "amount_sen": sc.invoices["amount_sen"],
            "name": normalise_names(sc.invoices["client_name"]),
        }
    )
    t_norm = time.perf_counter() - t0
    t0 = time.perf_counter()
    joined = left.merge(right, on=["amount_sen", "name"])
    t_join = time.perf_counter() - t0
    return {
        "credits": float(len(sc.credits)), "invoices": float(len(sc.invoices)),
        "decide_s": t_decide, "floor_normalise_s": t_norm, "floor_join_s": t_join,
        "floor_pairs": float(len(joined)), "matched": float((result.lines["status"] == "MATCHED").sum()),
    }  # fmt: skip


def _ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def render(args: argparse.Namespace, runs: dict[str, tuple[dict[str, float], pd.DataFrame,
           pd.DataFrame]], timing: dict[str, float] | None) -> str:  # fmt: skip
    out = [
        "# Matching quality and speed",
        "",
        f"Command: `/work/venv/bin/python benchmarks/bench_matching_quality.py --seed {args.seed} "
        f"--cases {args.cases} --mix {args.mix} --speed-credits {args.speed_credits} "
        f"--speed-invoices {args.speed_invoices}`",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, pandas {pd.__version__}.",
        "",
    ]
    if len(runs) > 1:
        out += ["| measure | " + " | ".join(runs) + " | target |",
                "|---|" + "---:|" * len(runs) + "---:|"]  # fmt: skip
        for key, label, target in (
            ("precision", "precision of automatic links", "≥ 99.9 %"),
            ("recall", "recall of matchable credits", "≥ 97 %"),
            ("review_rate", "review rate, all credits", "≤ 5 % (production)"),
            ("truth_review_rate", "review rate by design of the mix", ""),
        ):
            out.append(f"| {label} | " + " | ".join(f"{r[0][key]:.2%}" for r in runs.values())
                       + f" | {target} |")  # fmt: skip
        out.append(
            "| codes with F1 < 0.95 | "
            + " | ".join(str(int((r[1]["f1"] < TARGETS["f1"]).sum())) for r in runs.values())
            + " | 0 |"
        )
        out.append("")
    for mix, (summary, per_code, per_situation) in runs.items():
        out += _render_mix(args, mix, summary, per_code, per_situation)
    return _render_timing(out, timing)


def _render_mix(args: argparse.Namespace, mix: str, summary: dict[str, float],
                per_code: pd.DataFrame, per_situation: pd.DataFrame) -> list[str]:  # fmt: skip
    ok = _ok
    background = "unidentified background" if mix == "every" else "no extra background credits"
    out = [
        f"## Mix `{mix}`",
        "",
        f"Labelled run: {int(summary['credits'])} credits ({args.cases} cases, {background}).",
        "",
        "| measure | value | target | |",
        "|---|---:|---:|---|",
        f"| precision of automatic links | {summary['precision']:.4%} | ≥ 99.9 % | {ok(summary['precision'] >= TARGETS['precision'])} |",
        f"| recall of matchable credits | {summary['recall']:.2%} | ≥ 97 % | {ok(summary['recall'] >= TARGETS['recall'])} |",
        f"| review rate, all credits (the mix is {summary['truth_review_rate']:.1%} review by design) | {summary['review_rate']:.2%} | ≤ 5 % on production | "
        + (
            ok(summary["review_rate"] <= TARGETS["review_rate"])
            if mix == "production"
            else "n/a: by design"
        )
        + " |",
        f"| review rate beyond the labelled review cases | {summary['excess_review_rate']:.2%} | ≤ 5 % | {ok(summary['excess_review_rate'] <= TARGETS['review_rate'])} |",
        "",
        "| code | truth | tp | fp | fn | precision | recall | F1 | ≥ 0.95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in per_code.itertuples():
        out.append(f"| {r.code} | {r.truth} | {r.tp} | {r.fp} | {r.fn} | {r.precision:.3f} | "
                   f"{r.recall:.3f} | {r.f1:.3f} | {ok(r.f1 >= TARGETS['f1'])} |")  # fmt: skip
    out += [
        "",
        "| situation | credits | status, invoices and codes as expected |",
        "|---|---:|---:|",
    ]
    for r in per_situation.itertuples():
        out.append(f"| {r.situation} | {r.credits} | {r.as_expected:.1%} |")
    return [*out, ""]


def _render_timing(out: list[str], timing: dict[str, float] | None) -> str:
    if timing:
        out += [
            "",
            f"Speed: decide() on {int(timing['credits'])} credits × {int(timing['invoices'])} invoices: "
            f"**{timing['decide_s']:.1f} s** ({int(timing['matched'])} matched). Floor, bare pandas join on "
            f"(amount, normalised name): normalising {timing['floor_normalise_s']:.2f} s + join "
            f"{timing['floor_join_s']:.2f} s ({int(timing['floor_pairs'])} pairs).",
        ]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--mix", choices=[*MIXES, "both"], default="both")
    parser.add_argument("--speed-credits", type=int, default=100_000)
    parser.add_argument("--speed-invoices", type=int, default=50_000)
    args = parser.parse_args()
    mixes = list(MIXES) if args.mix == "both" else [args.mix]
    runs = {mix: quality(args.seed, args.cases, mix) for mix in mixes}
    timing = (
        speed(args.seed, args.speed_credits, args.speed_invoices) if args.speed_credits else None
    )
    text = render(args, runs, timing)
    print(text)
    (Path(__file__).parent / "RESULTS_matching.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

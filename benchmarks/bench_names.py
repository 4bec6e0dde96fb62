"""Speed of the name normaliser over arrays (formats.md §8.6, §8.7), distinct names per second.

    /work/venv/bin/python -m benchmarks.bench_names [--names 1000000] [--seed 7] [--repeat 3]
        [--scalar 20000] [--pairs 1000000] [--profile]

Generates distinct synthetic Indonesian names as banks print them and customers type them
(honorifics, religious and academic titles, degrees, companies with legal forms, old spellings,
Muhammad variants, e-wallet senders, bank truncation at 14-24 characters, mixed case and
punctuation), deterministic by seed, then times:

* ``normalise_names`` over all of them, ``--repeat`` times (every value distinct: the worst
  case of a run);
* ``normalise_name`` (the scalar path, cache cleared) over the first ``--scalar`` of them;
* ``name_similarity_pairs`` over ``--pairs`` (sender, client) pairs.

``--profile`` prints the cProfile of the array path (top 15 by cumulative time) instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconcile.names import name_similarity_pairs, normalise_name, normalise_names

FIRST = ["Budi", "Siti", "Agus", "Dewi", "Hendra", "Rina", "Joko", "Sri", "Andi", "Yusuf", "Fitri", "Bambang", "Wahyu", "Indah", "Rudi", "Eko", "Nur", "Dian", "Ratna", "Teguh", "Lina", "Adi", "Putri", "Bayu", "Sari", "Dimas", "Ayu", "Fajar", "Wulan", "Rizky", "Ahmad", "Abdul", "Slamet", "Suharto", "Djoko", "Soeparman", "Tjahjono", "Ma'ruf", "Yohanes", "Kadek", "Made", "Nyoman", "Ketut", "Wayan", "Gede", "Ni", "Lukman", "Hasan", "Ismail", "Rahmat"]  # fmt: skip
MIDDLE = ["Adi", "Cahya", "Eka", "Tri", "Dwi", "Budi", "Arif", "Dharma", "Kurnia", "Putra", "Sakti", "Wira", "Jaya", "Mulya", "Tirta", "Bagus", "Citra", "Dewa", "Guna", "Harsa", "Nur", "Sri", "Dyah", "Ayu", "Indra", "Rizal", "Fadli", "Hadi", "Surya", "Wahyu"]  # fmt: skip
LAST = ["Santoso", "Rahayu", "Wijaya", "Anggraini", "Pratama", "Hartono", "Setiawan", "Lestari", "Susilo", "Maulana", "Kurniawan", "Hidayat", "Saputra", "Wibowo", "Nugroho", "Purnomo", "Siregar", "Nasution", "Simanjuntak", "Halim", "Gunawan", "Sutanto", "Permana", "Utomo", "Suryadi", "Soedarsono", "Djunaedi", "Tjandra", "Fadillah", "Pratiwi", "Sembiring", "Lubis", "Harahap", "Tanjung", "Panjaitan", "Sihombing", "Wulandari", "Kusuma", "Firmansyah", "Ramadhan"]  # fmt: skip
PREFIXES = ["", "", "", "", "BPK ", "Bpk. ", "Bp ", "Bapak ", "IBU ", "Ibu ", "Sdr. ", "Sdri ", "Ny. ", "Tn. ", "a.n. ", "A/N ", "H. ", "Hj. ", "Dr. ", "Ir. ", "Drs. ", "Prof. Dr. ", "KH ", "Bpk. H. "]  # fmt: skip
MUHAMMAD = ["", "", "", "", "", "", "M. ", "Moh. ", "Moch ", "Muh. ", "Mhd ", "Muhamad ", "Mohammad ", "MUHAMMAD "]  # fmt: skip
DEGREES = ["", "", "", "", "", ", S.Kom", " S.Pd", ", S.E., M.M.", " A.Md", ", S.T.", ", M.Kom.", " SH", ", Hj."]  # fmt: skip
LEGAL = ["PT. ", "PT ", "CV ", "CV. ", "UD ", "Yayasan ", "Koperasi "]
TRADES = ["Niaga", "Makmur", "Sentosa", "Grafika", "Digital", "Teknologi", "Media", "Abadi", "Jaya", "Mandiri", "Sejahtera", "Karya", "Sumber", "Cipta", "Global", "Nusantara", "Solusi", "Data", "Kreasi", "Utama"]  # fmt: skip
EWALLETS = ["DANA", "OVO", "GOPAY", "SHOPEEPAY", "LINKAJA", "FLIP", "XENDIT", "DANA TOPUP"]


def _pick(rng: np.random.Generator, words: list[str], n: int) -> np.ndarray:
    return np.asarray(words, dtype=object)[rng.integers(0, len(words), n)]


def synthetic_names(n: int, seed: int) -> list[str]:
    """``n`` distinct synthetic names, deterministic by seed (vectorised over object arrays)."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        m = 2 * (n - len(out)) + 1000
        person = (
            _pick(rng, PREFIXES, m)
            + _pick(rng, MUHAMMAD, m)
            + _pick(rng, FIRST, m)
            + " "
            + _pick(rng, MIDDLE, m)
            + " "
            + _pick(rng, LAST, m)
            + np.where(rng.random(m) < 0.3, " " + _pick(rng, LAST, m), "")
            + _pick(rng, DEGREES, m)
        )
        company = (
            _pick(rng, LEGAL, m)
            + _pick(rng, TRADES, m)
            + " "
            + _pick(rng, TRADES, m)
            + " "
            + _pick(rng, LAST, m)
            + np.where(rng.random(m) < 0.2, " Tbk", "")
        )
        kind = rng.random(m)
        names = np.where(kind < 0.8, person, company)
        names = np.where(kind > 0.995, _pick(rng, EWALLETS, m), names)
        case = rng.random(m)
        upper = np.fromiter((s.upper() for s in names), dtype=object, count=m)
        names = np.where(case < 0.5, upper, names)
        # banks cut the name at 14-24 characters (§8.7)
        cut = rng.integers(14, 25, m)
        truncated = np.fromiter(
            (s[:c] for s, c in zip(upper, cut, strict=True)), dtype=object, count=m
        )
        names = np.where(case > 0.85, truncated, names)
        for name in names.tolist():
            if name not in seen:
                seen.add(name)
                out.append(name)
                if len(out) == n:
                    break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scalar", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    names = synthetic_names(args.names, args.seed)
    print(f"generated {len(names):,} distinct names in {time.perf_counter() - t0:.1f} s")
    series = pd.Series(names, dtype=object)

    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        normalise_names(series)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(15)
        return 0

    for run in range(1, args.repeat + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        array_result = normalise_names(series)
        t_array, c_array = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"normalise_names run {run}: {len(names):,} distinct names in {t_array:.2f} s "
            f"= {len(names) / t_array:,.0f} names/s (CPU {c_array:.2f} s "
            f"= {len(names) / c_array:,.0f} names/s)"
        )

    clear = getattr(normalise_name, "cache_clear", None)
    if clear is not None:
        clear()
    sample = names[: args.scalar]
    t0 = time.perf_counter()
    scalar_result = [normalise_name(s) for s in sample]
    t_scalar = time.perf_counter() - t0
    print(
        f"normalise_name (scalar): {len(sample):,} names in {t_scalar:.2f} s "
        f"= {len(sample) / t_scalar:,.0f} names/s"
    )
    if array_result.iloc[: len(sample)].tolist() != scalar_result:
        print("MISMATCH between the array and the scalar path", file=sys.stderr)
        return 1

    normalised = array_result.to_numpy()
    rng = np.random.default_rng(args.seed)
    left = normalised[rng.integers(0, len(normalised), args.pairs)]
    right = normalised[rng.integers(0, len(normalised), args.pairs)]
    t0 = time.perf_counter()
    name_similarity_pairs(left, right)
    t_pairs = time.perf_counter() - t0
    print(
        f"name_similarity_pairs: {args.pairs:,} pairs in {t_pairs:.2f} s "
        f"= {args.pairs / t_pairs:,.0f} pairs/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

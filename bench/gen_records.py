#!/usr/bin/env python3
"""Generates benchmark data: N case records in batches, as JSON request bodies
for POST /api/v1/cases/batch (batch-00000.json, …) and, for the first
BASELINE_ROWS records (all of them unless given), as SQL upsert batches for
psql (batch-00000.sql, …) and one CSV for COPY (baseline.csv). Deterministic:
the same N gives the same rows. Streams, so a million records need little
memory.

usage: gen_records.py OUT_DIR N BATCH_SIZE [BASELINE_ROWS]
"""
import csv, json, os, random, sys

out, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
baseline_rows = int(sys.argv[4]) if len(sys.argv) > 4 else n
os.makedirs(out, exist_ok=True)
rng = random.Random(2019)
# Kalbar regencies and the provinces migrant workers mostly come from.
kalbar = ["61.01", "61.02", "61.03", "61.04", "61.05", "61.06", "61.07", "61.08", "61.09", "61.10",
          "61.11", "61.12", "61.71", "61.72"]
others = ["32.01", "32.03", "33.01", "33.02", "35.07", "35.09", "52.01", "52.03", "53.01", "18.01", "12.01"]
points = ["plbn_entikong", "plbn_aruk", "plbn_nanga_badau", "pelabuhan_dwikora_pontianak", "bandara_supadio"]
categories = ["migrant_worker", "undocumented_migrant", "trafficking_victim"]
first = ["Siti", "Nur", "Dewi", "Ani", "Budi", "Agus", "Rina", "Yusuf", "Eka", "Joko", "Maria", "Hendra"]
last = ["Rahmawati", "Hidayat", "Santoso", "Wijaya", "Lestari", "Saputra", "Kurniawan", "Susanti"]


def record(i):
    origin = rng.choice(kalbar) if rng.random() < 0.45 else rng.choice(others)
    female = rng.random() < 0.4
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(70, 99)
    # District and serial from i keep every NIK unique up to a million records.
    nik = "%s%02d%02d%02d%02d%04d" % (origin.replace(".", ""), (i // 10000) % 100,
                                       day + (40 if female else 0), month, year, i % 10000)
    return {
        "external_reference": "BENCH-%07d" % i,
        "person": {"full_name": "%s %s %d" % (rng.choice(first), rng.choice(last), i), "nik": nik,
                   "sex": "female" if female else "male"},
        "category": rng.choice(categories),
        "arrived_at": "2019-%02d-%02dT%02d:%02d:00Z" % (rng.randint(1, 10), rng.randint(1, 28),
                                                       rng.randint(0, 23), rng.randint(0, 59)),
        "entry_point": rng.choice(points),
        "country_left": "MY",
        "documents": ["splp"],
        "origin_region": origin,
        "handling_province": "61",
    }


# The baseline table has the cases table's columns, constraints and indexes,
# plus the person's name, NIK and sex with the persons table's indexes.
cols = ["external_reference", "case_number", "full_name", "nik", "sex", "category", "arrived_at", "entry_point",
        "country_left", "origin_region", "origin_province", "handling_province", "funding_scope"]
upsert_tail = ("\nON CONFLICT (source_agency_id, external_reference) WHERE external_reference IS NOT NULL "
               "DO UPDATE SET full_name = EXCLUDED.full_name, nik = EXCLUDED.nik, sex = EXCLUDED.sex, "
               "category = EXCLUDED.category, arrived_at = EXCLUDED.arrived_at, entry_point = EXCLUDED.entry_point, "
               "country_left = EXCLUDED.country_left, origin_region = EXCLUDED.origin_region, "
               "origin_province = EXCLUDED.origin_province, handling_province = EXCLUDED.handling_province, "
               "funding_scope = EXCLUDED.funding_scope;\n")


def row(r):
    p = r["person"]
    province = r["origin_region"].split(".")[0]
    return [r["external_reference"], "B" + r["external_reference"], p["full_name"], p["nik"], p["sex"],
            r["category"], r["arrived_at"], r["entry_point"], r["country_left"], r["origin_region"], province,
            r["handling_province"], "apbd_shared" if province == r["handling_province"] else "apbn"]


def lit(v):
    return "'" + str(v).replace("'", "''") + "'"


with open(os.path.join(out, "baseline.csv"), "w", newline="") as baseline_csv:
    w = csv.writer(baseline_csv)
    for b in range(0, n, size):
        chunk = [record(i) for i in range(b, min(b + size, n))]
        name = "batch-%05d" % (b // size)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"records": chunk}, f)
        if b >= baseline_rows:
            continue
        chunk = chunk[:baseline_rows - b]
        with open(os.path.join(out, name + ".sql"), "w") as f:
            f.write("INSERT INTO bench_cases (%s) VALUES\n" % ", ".join(cols))
            f.write(",\n".join("(" + ", ".join(lit(v) for v in row(r)) + ")" for r in chunk))
            f.write(upsert_tail)
        for r in chunk:
            w.writerow(row(r))

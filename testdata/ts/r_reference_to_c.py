#!/usr/bin/python3
"""Turns the output of r_reference.R into tests/unit/ts_reference.h (the R numbers the unit
tests compare with). Usage, from testdata/ts:
    Rscript r_reference.R | python3 r_reference_to_c.py > ../../tests/unit/ts_reference.h"""
import sys

periods = {"AirPassengers": 12, "nottem": 12, "UKgas": 4, "Nile": 1, "WWWusage": 1,
           "USAccDeaths": 12}
recs, cur = [], None
for line in sys.stdin:
    w = line.split()
    if not w:
        continue
    if w[0].startswith("##"):
        kind = {"##": "ZZZ", "##fixed": None, "##theta": "theta", "##snaive": "snaive",
                "##naive": "naive"}[w[0]]
        name = w[1]
        method = w[2] if len(w) > 2 else ""
        if kind is None:  # fixed model: spec from the method name
            c = method[4:-1].split(",")
            kind = c[0] + c[1] + c[2]
        cur = {"kind": kind, "name": name, "method": method, "loglik": "NAN", "aicc": "NAN"}
        if "loglik" in w:
            cur["loglik"] = w[w.index("loglik") + 1]
            cur["aicc"] = w[w.index("aicc") + 1]
        recs.append(cur)
    elif w[0] in ("mean", "lo80", "hi95") and cur is not None:
        cur[w[0]] = w[1:]
print("/* R's forecast::ets, thetaf, snaive and naive on R's datasets: generated, do not edit.")
print(" * Command (from testdata/ts): Rscript r_reference.R | python3 r_reference_to_c.py")
print(" * R 4.2.2, forecast 8.20 (Debian bookworm r-base-core, r-cran-forecast). */")
print("struct ts_ref {\n\tconst char *file, *kind, *method;\n\tsize_t m, h;")
print("\tdouble loglik, aicc;\n\tdouble mean[14], lo80[14], hi95[14];\n};\n")
print("static const struct ts_ref ts_refs[] = {")
for r in recs:
    h = len(r["mean"])
    arr = lambda k: "{" + ", ".join(r[k]) + "}"
    print('\t{"%s.csv", "%s", "%s", %d, %d, %s, %s,\n\t %s,\n\t %s,\n\t %s},' % (
        r["name"], r["kind"], r["method"], periods[r["name"]], h, r["loglik"], r["aicc"],
        arr("mean"), arr("lo80"), arr("hi95")))
print("};")

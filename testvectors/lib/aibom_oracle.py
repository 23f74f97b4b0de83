#!/usr/bin/env python3
"""Independent facts about one AIBOM test case (python3 stdlib only; shares no code with aicert).

Usage: aibom_oracle.py CASE.json   where CASE.json = {"doc": path, "format": "legacy"|"v1", "nonce": hex|null,
       "measurements": path|null, "containers": path|null, "model": [paths]}
Prints {"parse": "ok"|"error", ...facts..., "qualification": hex|null, "problems": [...]}. tpm2_checkquote and
openssl are run by the generator; this script replays PCRs, checks the v1 binding, claims, policy and artifacts.
Formats: testvectors/README-aibom.md, spec/aibom-v1.md, provenance-formats.md §4 (original attestation.json).
"""
import base64, binascii, hashlib, json, struct, sys

ZERO = bytes(32)


def b64(s, what):
    if not isinstance(s, str):
        raise ValueError(f"{what}: not a string")
    try:
        return base64.b64decode(s, validate=True)
    except binascii.Error as e:
        raise ValueError(f"{what}: bad base64 ({e})")


def replay(strings):
    pcr = ZERO
    for s in strings:
        pcr = hashlib.sha256(pcr + hashlib.sha256(s.encode("utf-8")).digest()).digest()
    return pcr.hex()


def parse_pcr_file(raw):
    """tpm2-tools serialized PCR file: TPML_PCR_SELECTION (u32 count + 16 x 8-byte TPMS_PCR_SELECTION), u32 count,
    count x TPML_DIGEST (u32 count + 8 x (u16 size + 64-byte buffer)); all little-endian (x86-64 memory dump)."""
    if len(raw) < 136:
        raise ValueError("PCR file too short")
    (nsel,) = struct.unpack_from("<I", raw, 0)
    sel = []
    for i in range(nsel):
        alg, size = struct.unpack_from("<HB", raw, 4 + 8 * i)
        bits = raw[4 + 8 * i + 3: 4 + 8 * i + 3 + size]
        sel.append((alg, [p for p in range(8 * size) if bits[p // 8] >> (p % 8) & 1]))
    (ndig,) = struct.unpack_from("<I", raw, 132)
    digests = []
    for j in range(ndig):
        base = 136 + 532 * j
        (cnt,) = struct.unpack_from("<I", raw, base)
        for k in range(cnt):
            (sz,) = struct.unpack_from("<H", raw, base + 4 + 66 * k)
            digests.append(raw[base + 6 + 66 * k: base + 6 + 66 * k + sz].hex())
    values, n = {}, 0
    for alg, pcrs in sel:
        for p in pcrs:
            if alg == 0x000B:
                values[p] = digests[n]
            n += 1
    if n != len(digests):
        raise ValueError("PCR file: selection and digest count disagree")
    return values


def attest_extra_data(raw):
    """TPMS_ATTEST: magic u32 | type u16 | qualifiedSigner TPM2B | extraData TPM2B (big-endian)."""
    (nlen,) = struct.unpack_from(">H", raw, 6)
    (dlen,) = struct.unpack_from(">H", raw, 8 + nlen)
    return raw[10 + nlen: 10 + nlen + dlen].hex()


def load(case):
    with open(case["doc"], "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("document is not an object")
    if case["format"] == "legacy":
        ra = doc["remote_attestation"]
        if ra.get("simulation_mode") is True:
            return {"simulation": True, "events": {"14": doc["event_log"], "8": doc.get("output_event_log", [])}}
        q = ra["quote"]
        msg, pcr = b64(q["message"]["base64"], "message"), b64(q["pcr"]["base64"], "pcr")
        b64(q["signature"]["base64"], "signature")
        for n, c in enumerate(ra["cert_chain"]):
            b64(c["base64"], f"cert_chain[{n}]")
        return {"simulation": False, "attest": msg, "quoted": parse_pcr_file(pcr), "tls": doc.get("ca_cert") or "",
                "events": {"14": doc["event_log"], "8": doc.get("output_event_log", [])}}
    ev, tpm = doc["evidence"], doc["evidence"]["tpm"]
    if doc.get("_type") != "https://aicert.dev/aibom/v1":
        raise ValueError("unknown _type")
    msg = b64(tpm["attest"], "attest")
    b64(tpm["signature"], "signature")
    quoted = {int(k): v.lower() for k, v in tpm["pcrs"]["sha256"].items()}
    return {"simulation": False, "attest": msg, "quoted": quoted, "tls": ev.get("tlsCertificate") or "",
            "events": ev["appEventLog"], "statement": b64(doc["statement"], "statement"), "nonce": ev["nonce"]}


def claims(d, problems):
    """v1 statement vs the measured events (subjects = outputs event; dependencies = input events)."""
    st = json.loads(d["statement"].decode("utf-8"))
    outs = [json.loads(s) for s in d["events"]["8"] if json.loads(s)["event_type"] == "outputs"]
    want_sub = sorted((o["spec"]["path"], o["resolved"]["hash"]) for e in outs for o in e["content"])
    got_sub = sorted((s["name"], s["digest"]["sha256"]) for s in st["subject"])
    if want_sub != got_sub:
        problems.append("statement subjects differ from the PCR 8 outputs event")
    want = []
    for s in d["events"]["14"]:
        e = json.loads(s)
        t, c = e["event_type"], e["content"]
        if t == "input_image":
            want.append(("image", c["spec"]["image_name"], c["resolved"]["id"].split(":", 1)[1]))
        elif t == "input_resource":
            r = c["spec"]["resource_proto"]
            want.append((r["resource_type"], r["repo"], c["resolved"]["hash"].split(":", 1)[1]))
        elif t == "axolotl_configuration":
            want.append(("config", "config", c["resolved"]["hash"]))
    got = []
    for dep in st["predicate"]["buildDefinition"]["resolvedDependencies"]:
        role = dep["annotations"]["role"]
        name = dep.get("uri") if role in ("model", "dataset") else dep["name"]
        got.append((role, name, dep["digest"].get("gitCommit") or dep["digest"].get("sha256")))
    if sorted(want) != sorted(got):
        problems.append("statement resolvedDependencies differ from the PCR 14 input events")


def main():
    with open(sys.argv[1]) as f:
        case = json.load(f)
    out = {"parse": "ok", "problems": []}
    try:
        d = load(case)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, struct.error, IndexError, json.JSONDecodeError) as e:
        print(json.dumps({"parse": "error", "error": f"{type(e).__name__}: {e}", "problems": ["malformed input"]}))
        return
    p = out["problems"]
    if d["simulation"]:
        out["simulation_mode"] = True
        p.append("simulation mode: no quote at all")
        print(json.dumps(out))
        return
    quoted, events = d["quoted"], d["events"]
    out["quote_extra_data"] = attest_extra_data(d["attest"])
    rep = {"14": replay(events["14"]), "8": replay(events["8"])}
    if d["tls"]:
        rep["15"] = hashlib.sha256(ZERO + hashlib.sha256(d["tls"].encode("utf-8")).digest()).digest().hex()
    out["replay"] = {k: {"replayed": v, "quoted": quoted.get(int(k)), "match": quoted.get(int(k)) == v} for k, v in rep.items()}
    for k, r in out["replay"].items():
        if r["quoted"] is None:
            p.append(f"PCR {k} is not in the quote")
        elif not r["match"]:
            p.append(f"PCR {k} replay != quoted value")
    out["qualification"] = None
    if "statement" in d:
        dg = hashlib.sha256(d["statement"]).hexdigest()
        want_last = json.dumps({"event_type": "aibom_statement", "content": {"digest": f"sha256:{dg}"}})
        last = events["8"][-1] if events["8"] else None
        out["binding"] = {"statement_sha256": dg, "last_pcr8_event_matches": last == want_last}
        if last != want_last:
            p.append("last PCR 8 event does not name sha256(statement)")
        out["qualification"] = hashlib.sha256(bytes.fromhex(dg) + bytes.fromhex(d["nonce"])).hexdigest()
        if out["quote_extra_data"] != out["qualification"]:
            p.append("quote extraData != sha256(D || evidence.nonce)")
        if case.get("nonce") and case["nonce"] != d["nonce"]:
            p.append("--nonce differs from evidence.nonce")
        claims(d, p)
    else:
        if case.get("nonce") is not None and out["quote_extra_data"] != case["nonce"]:
            p.append("--nonce differs from the quote's extraData")
    if case.get("measurements"):
        gold = json.load(open(case["measurements"]))["measurements"]
        bad = {k: {"golden": v, "quoted": quoted.get(int(k))} for k, v in gold.items() if quoted.get(int(k)) != v.lower()}
        out["measurements"] = {"checked": sorted(gold, key=int), "mismatches": bad}
        p += [f"PCR {k} != golden measurement" for k in bad]
    if case.get("containers"):
        gold = json.load(open(case["containers"]))
        imgs = [json.loads(s)["content"] for s in events["14"] if json.loads(s)["event_type"] == "input_image"]
        out["containers"] = {c["spec"]["image_name"]: {"measured": c["resolved"]["id"], "golden": gold.get(c["spec"]["image_name"]),
                                                      "match": gold.get(c["spec"]["image_name"]) == c["resolved"]["id"]} for c in imgs}
        p += [f"container {n} not in containers file" for n, r in out["containers"].items() if not r["match"]]
    if case.get("model"):
        bound = {o["resolved"]["hash"] for s in events["8"] for e in [json.loads(s)] if e["event_type"] == "outputs" for o in e["content"]}
        out["artifacts"] = {}
        for path in case["model"]:
            h = hashlib.sha256(open(path, "rb").read()).hexdigest()
            out["artifacts"][path] = {"sha256": h, "bound": h in bound}
            if h not in bound:
                p.append(f"artifact {path} matches no bound output digest")
    print(json.dumps(out))


if __name__ == "__main__":
    main()

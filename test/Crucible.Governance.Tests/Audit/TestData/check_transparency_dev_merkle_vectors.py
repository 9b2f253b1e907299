"""Cross-checks transparency-dev-merkle-vectors.json (LOG-2) independently of the C# verifier under test.

Run: /usr/bin/python3 check_transparency_dev_merkle_vectors.py  (exit 0 = every check passed)

1. Counts: 98 inclusion (6 accept / 92 reject) and 98 consistency (6 / 92), no duplicate paths.
2. Every file name is what cmd/proofgen's fileName() makes of its desc (the newest naming: "(" and ")" dropped,
   " - " -> "-", " " -> "-").
3. The happy paths are recomputed here from RFC 6962 (hashlib, the 8 reference leaves of the upstream tests).
4. Every must-fail vector of a numbered folder is its folder's happy path with the one corruption proofgen
   documents for its desc; the additional/ and single-entry/ vectors equal proofgen's static tables.
Check 4 catches a transcription slip in a vector a verifier would reject anyway.
"""
import base64, hashlib, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
F = json.load(open(os.path.join(HERE, "transparency-dev-merkle-vectors.json"), encoding="utf-8"))
B = lambda s: base64.b64decode(s)
U64 = 2 ** 64
EMPTY = hashlib.sha256(b"").digest()
SOME = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
leaf = lambda d: hashlib.sha256(b"\x00" + d).digest()
node = lambda l, r: hashlib.sha256(b"\x01" + l + r).digest()
LEAVES = [leaf(bytes.fromhex(h)) for h in
          ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
fails = []

def check(cond, msg):
    if not cond:
        fails.append(msg)

def k(n):  # largest power of two < n
    p = 1
    while p * 2 < n:
        p *= 2
    return p

def mth(ls):
    if not ls:
        return EMPTY
    if len(ls) == 1:
        return ls[0]
    s = k(len(ls))
    return node(mth(ls[:s]), mth(ls[s:]))

def path(m, ls):
    if len(ls) <= 1:
        return []
    s = k(len(ls))
    return path(m, ls[:s]) + [mth(ls[s:])] if m < s else path(m - s, ls[s:]) + [mth(ls[:s])]

def subproof(m, ls, b):
    n = len(ls)
    if m == n:
        return [] if b else [mth(ls)]
    s = k(n)
    return subproof(m, ls[:s], b) + [mth(ls[s:])] if m <= s else subproof(m - s, ls[s:], False) + [mth(ls[:s])]

def file_name(desc):
    return desc.replace(" - ", "-").replace("(", "").replace(")", "").replace(" ", "-") + ".json"

def proof(v):
    return [B(p) for p in (v["proof"] or [])]

for kind in ["inclusion", "consistency"]:
    vs = F[kind]
    check(len(vs) == 98, f"{kind}: {len(vs)} vectors, want 98")
    check(sum(not v["wantErr"] for v in vs) == 6, f"{kind}: accept count")
    check(len({v["path"] for v in vs}) == len(vs), f"{kind}: duplicate paths")
    for v in vs:
        check(os.path.basename(v["path"]) == file_name(v["desc"]), f"{v['path']}: name vs desc {v['desc']!r}")

# Inclusion.
inc = {v["path"]: v for v in F["inclusion"]}
for d, (i, n) in enumerate([(0, 1), (0, 8), (5, 8), (2, 3), (1, 5)]):
    pre = f"testdata/inclusion/{d}/"
    h = inc[pre + "happy-path.json"]
    tree = LEAVES[:n]
    hp, root, lh = proof(h), B(h["root"]), B(h["leafHash"])
    check((h["leafIdx"], h["treeSize"]) == (i, n) and root == mth(tree) and lh == tree[i] and hp == path(i, tree),
          f"{pre}happy-path differs from RFC 6962")
    want = {
        "leafIdx-sub-@1": ((i - 1) % U64, n, root, lh, hp), "leafIdx-plus-@1": (i + 1, n, root, lh, hp),
        "leafIdx-XOR-@2": (i ^ 2, n, root, lh, hp), "treeSize-mul-@2": (i, n * 2, root, lh, hp),
        "treeSize-div-@2": (i, n // 2, root, lh, hp), "wrong-leaf": (i, n, root, b"WrongLeaf", hp),
        "empty-root": (i, n, EMPTY, lh, hp), "random-root": (i, n, SOME, lh, hp),
        "trailing-garbage": (i, n, root, lh, hp + [b""]), "trailing-root": (i, n, root, lh, hp + [root]),
        "preceding-garbage": (i, n, root, lh, [b""] + hp), "preceding-root": (i, n, root, lh, [root] + hp),
    }
    for e in range(len(hp)):
        bad = list(hp)
        bad[e] = bytes([bad[e][0] ^ 8]) + bad[e][1:]
        want[f"modified-proof[{e}]-bit-@3"] = (i, n, root, lh, bad)
    if hp:
        want["removed-component"] = (i, n, root, lh, hp[:-1])
    if len(hp) > 1:
        want["inserted-component"] = (i, n, root, lh, [hp[0], SOME] + hp[1:])
    got = {p[len(pre):-5]: v for p, v in inc.items() if p.startswith(pre)}
    check(set(got) == set(want) | {"happy-path"}, f"{pre}: files {sorted(set(got) ^ (set(want) | {'happy-path'}))}")
    for name, w in want.items():
        v = got.get(name)
        if v is not None:
            check((v["leafIdx"], v["treeSize"], B(v["root"]), B(v["leafHash"]), proof(v)) == w and v["wantErr"],
                  f"{pre}{name}")
data = leaf(b"data")
for d, (i, n) in enumerate([(0, 0), (0, 1), (1, 0), (2, 1)]):
    pre = f"testdata/inclusion/additional/{d}/"
    for name, (r, l) in {"random-leaf": (b"", SOME), "empty-root": (EMPTY, b""),
                         "empty-root-and-random-leaf": (EMPTY, SOME)}.items():
        v = inc[pre + name + ".json"]
        check((v["leafIdx"], v["treeSize"], B(v["root"]), B(v["leafHash"]), proof(v), v["wantErr"]) == (i, n, r, l, [], True),
              pre + name)
for name, (r, l, w) in {"matching-root-and-leaf": (data, data, False), "empty-leaf": (data, b"", True),
                        "empty-root": (b"", data, True), "empty-root-and-leaf": (b"", b"", True)}.items():
    v = inc["testdata/inclusion/single-entry/" + name + ".json"]
    check((v["leafIdx"], v["treeSize"], B(v["root"]), B(v["leafHash"]), proof(v), v["wantErr"]) == (0, 1, r, l, [], w),
          "single-entry/" + name)

# Consistency.
con = {v["path"]: v for v in F["consistency"]}
for d, (m, n) in enumerate([(1, 1), (1, 8), (6, 8), (2, 5), (6, 7)]):
    pre = f"testdata/consistency/{d}/"
    h = con[pre + "happy-path.json"]
    r1, r2, hp = B(h["root1"]), B(h["root2"]), proof(h)
    check((h["size1"], h["size2"]) == (m, n) and r1 == mth(LEAVES[:m]) and r2 == mth(LEAVES[:n])
          and hp == ([] if m == n else subproof(m, LEAVES[:n], True)), f"{pre}happy-path differs from RFC 6962")
    want = {}
    if hp:
        want = {
            "size1-sub-@1": (m - 1, n, r1, r2, hp), "size1-plus-@1": (m + 1, n, r1, r2, hp),
            "size1-XOR-@2": (m ^ 2, n, r1, r2, hp), "size2-mul-@2": (m, n * 2, r1, r2, hp),
            "size2-div-@2": (m, n // 2, r1, r2, hp), "wrong-root1": (m, n, b"WrongRoot", r2, hp),
            "wrong-root2": (m, n, r1, b"WrongRoot", hp), "swapped-roots": (m, n, r2, r1, hp),
            "empty-proof": (m, n, r1, r2, []), "trailing-garbage": (m, n, r1, r2, hp + [b""]),
            "trailing-root1": (m, n, r1, r2, hp + [r1]), "trailing-root2": (m, n, r1, r2, hp + [r2]),
            "preceding-garbage": (m, n, r1, r2, [b""] + hp), "preceding-root1": (m, n, r1, r2, [r1] + hp),
            "preceding-root2": (m, n, r1, r2, [r2] + hp), "preceding-proof-@0": (m, n, r1, r2, [hp[0]] + hp),
            "truncated-proof": (m, n, r1, r2, hp[:-1]),
        }
        for e in range(len(hp)):
            bad = list(hp)
            bad[e] = bytes([bad[e][0] ^ 16]) + bad[e][1:]
            want[f"modified-proof@{e}-bit-@4"] = (m, n, r1, r2, bad)
    got = {p[len(pre):-5]: v for p, v in con.items() if p.startswith(pre)}
    check(set(got) == set(want) | {"happy-path"}, f"{pre}: files {sorted(set(got) ^ (set(want) | {'happy-path'}))}")
    for name, w in want.items():
        v = got.get(name)
        if v is not None:
            check((v["size1"], v["size2"], B(v["root1"]), B(v["root2"]), proof(v)) == w and v["wantErr"], f"{pre}{name}")
c1, c2 = b"don't care 1", b"don't care 2"
static = [  # cmd/proofgen staticConsistencyProbes at 0e039277 / 8c666a79, in order
    (0, 0, c1, c2, [], "sizes are equal (zero) but roots are not", True),
    (1, 1, c1, c2, [], "sizes are equal (one) but roots are not", True),
    (0, 0, c1, c1, [], "sizes are equal (zero) and proof is empty", True),
    (0, 1, c1, c2, [], "size1 is zero and does not equal size2", True),
    (1, 1, c2, c2, [], "sizes are equal (one) and proof is empty", False),
    (1, 0, c1, c2, [], "size1 is greater than size2", True),
    (2, 1, c1, c2, [], "size1 is greater than size2 again", True),
    (1, 2, c1, c2, [], "sizes do not watch and proof is empty", True),
    (0, 0, EMPTY, c2, [], "roots do not match and sizes are zero", True),
    (1, 1, EMPTY, c2, [], "roots do not not match and sizes are one", True),
    (0, 0, EMPTY, EMPTY, [EMPTY], "sizes match but proof is not empty and sizes are zero", True),
    (1, 1, EMPTY, EMPTY, [EMPTY], "sizes match but proof is not empty and sizes are one", True),
    (0, 1, EMPTY, c2, [], "size1 is zero and size2 is not zero", True),
    (0, 1, EMPTY, EMPTY, [EMPTY], "consistency check on empty tree (size1 is zero) is useless", True),
]
add = {p: v for p, v in con.items() if p.startswith("testdata/consistency/additional/")}
check(len(add) == len(static), "consistency/additional count")
for s1, s2, a, b, pr, desc, w in static:
    v = add.get("testdata/consistency/additional/" + file_name(desc))
    check(v is not None and (v["size1"], v["size2"], B(v["root1"]), B(v["root2"]), proof(v), v["desc"], v["wantErr"])
          == (s1, s2, a, b, pr, desc, w), "additional: " + desc)

for f in fails:
    print("FAIL", f)
print(f"{len(fails)} failures; inclusion {len(F['inclusion'])}, consistency {len(F['consistency'])}")
sys.exit(1 if fails else 0)

"""Python peer: PyJWT. Reads the fixture file, prints one JSON line per alg."""
import json
import sys
import time

import jwt

fx = json.load(open(sys.argv[1]))


def measure(fn):
    for _ in range(fx["batch"]):
        fn()
    per = []
    for _ in range(fx["batches"]):
        t0 = time.perf_counter_ns()
        for _ in range(fx["batch"]):
            fn()
        per.append((time.perf_counter_ns() - t0) / fx["batch"])
    per.sort()
    return per[len(per) // 2]


for case in fx["cases"]:
    alg, token = case["alg"], case["token"]
    key = jwt.PyJWK(case["jwk"], algorithm=alg).key

    def verify():
        return jwt.decode(token, key=key, algorithms=[alg], audience=fx["audience"], issuer=fx["issuer"],
                          options={"require": ["exp", "iss", "aud", "sub"]})

    ok = verify()["sub"] == "alice"
    print(json.dumps({"lib": "PyJWT (Python)", "alg": alg, "ns": measure(verify), "ok": ok}))

#!/usr/bin/env python3
"""The backfill benchmark's two helpers (scripts/bench backfill).

  bench-backfill.py config OUT PORT ASSETS DAYS   the shipped history-fetcher config on the fake
                                                  upstream: the first ASSETS coins of the demo
                                                  listing (one per symbol), the last DAYS days
  bench-backfill.py requests PATH < requests.json the fake's request log (GET /_requests): how many
                                                  requests to PATH and the busiest calendar second,
                                                  calendar minute and 60 s window
"""
import json
import sys


def config(out, port, count, days):
    config = json.load(open("Config/history-fetcher.json"))
    listing = json.load(open("Config/demo/upstream/coinmarketcap/listings-latest.json"))["data"]
    seen, assets = set(), []
    for coin in listing:
        symbol = coin["symbol"].upper()
        if coin["quote"]["USD"]["price"] is not None and symbol not in seen and len(assets) < count:
            seen.add(symbol)
            assets.append({"cmc_id": coin["id"], "symbol": coin["symbol"]})
    config["assets"] = {"list": assets}
    config["range"] = {"last_days": days}
    config["request"]["url"] = f"http://127.0.0.1:{port}/data/v2/histoday"
    del config["request"]["headers"]["authorization"]
    config["log_level"] = "warning"
    json.dump(config, open(out, "w"))


def requests(path):
    times = sorted(r["at_ms"] for r in json.load(sys.stdin) if r["path"] == path)

    def busiest(width):
        counts = {}
        for t in times:
            counts[t // width] = counts.get(t // width, 0) + 1
        return max(counts.values(), default=0)

    window, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 60000:
            start += 1
        window = max(window, end - start + 1)
    print(f"requests {len(times)}, busiest second {busiest(1000)}, minute {busiest(60000)}, 60 s window {window}")


if sys.argv[1] == "config":
    config(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
else:
    requests(sys.argv[2])

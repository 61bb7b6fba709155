#!/usr/bin/env python3
"""Generate deterministic, synthetic upstream payloads shaped like the real
CoinMarketCap Pro and CryptoCompare (data-api / min-api) responses.

Standard library only. Same arguments -> byte-identical output.

    python3 scripts/make-upstream-fixtures.py [--out DIR] [--coins N] [--seed S]

Default output: Config/demo/upstream/ (relative to the repo root).
Shapes, key order and number formatting are those documented for each source's endpoints
(CoinMarketCap Pro listings/latest, CryptoCompare data-api top/list and min-api errors).
Numbers are written the way JavaScript's JSON.stringify writes doubles
(shortest round-trip; exponent form only below 1e-6 or from 1e21 up, as `1.23e-7` / `1e+21`).
"""

import argparse
import json
import math
import os
import random
from decimal import Decimal

# --------------------------------------------------------------------------------------------
# JSON emission with JavaScript number formatting
# --------------------------------------------------------------------------------------------


def js_number(x):
    """Format a number exactly like JavaScript's Number.prototype.toString / JSON.stringify."""
    if isinstance(x, bool):
        raise TypeError("bool is not a number here")
    if isinstance(x, int):
        return str(x)
    if math.isnan(x) or math.isinf(x):
        raise ValueError("JSON cannot carry NaN/Infinity")
    if x == 0:
        return "0"  # JS prints -0 as "0" too
    sign = "-" if x < 0 else ""
    # repr() is the shortest round-trip representation (same digits JS chooses).
    _, digits, exp = Decimal(repr(abs(x))).as_tuple()
    ds = "".join(str(d) for d in digits).rstrip("0")
    # value = 0.ds * 10^n  ==  ds * 10^(n-k)
    stripped = len("".join(str(d) for d in digits)) - len(ds)
    k = len(ds)
    n = exp + stripped + k
    if k <= n <= 21:
        body = ds + "0" * (n - k)
    elif 0 < n <= 21:
        body = ds[:n] + "." + ds[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + ds
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        body = (ds if k == 1 else ds[0] + "." + ds[1:]) + "e" + es
    return sign + body


def dump(v):
    """Compact JSON like JSON.stringify: ordered keys, no spaces, non-ASCII kept as UTF-8."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return js_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + dump(val) for k, val in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(dump(i) for i in v) + "]"
    raise TypeError(type(v))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# --------------------------------------------------------------------------------------------
# Fixed snapshot time (no wall clock: output must be deterministic)
# --------------------------------------------------------------------------------------------

SNAPSHOT_TS = 1718366400  # 2024-06-14T12:00:00Z
SNAPSHOT_ISO = "2024-06-14T12:00:00.000Z"
EPOCH_2013 = 1366934400  # 2013-04-26


def iso_ms(ts, ms=0):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % ms


def iso_day(ts):
    import time
    return time.strftime("%Y-%m-%dT00:00:00.000Z", time.gmtime(ts))


def parse_day(s):
    import calendar
    import time
    return calendar.timegm(time.strptime(s, "%Y-%m-%d"))


ETH_PLATFORM = {"id": 1027, "name": "Ethereum", "symbol": "ETH", "slug": "ethereum"}
BNB_PLATFORM = {"id": 1839, "name": "BNB Smart Chain (BEP20)", "symbol": "BNB", "slug": "bnb"}
SOL_PLATFORM = {"id": 5426, "name": "Solana", "symbol": "SOL", "slug": "solana"}
PLATFORMS = [ETH_PLATFORM, ETH_PLATFORM, ETH_PLATFORM, BNB_PLATFORM, BNB_PLATFORM, SOL_PLATFORM]

# Real CoinMarketCap ids / names / symbols / slugs for well-known coins. Prices and supplies are
# approximate mid-2024 values; the generator adds noise so they look like live data.
# (id, name, symbol, slug, date_added, price, circulating, max_supply, infinite, platform, token_address, tags)
REAL = [
    (1, "Bitcoin", "BTC", "bitcoin", "2013-04-28", 61923.40938478237, 19703431, 21000000, False, None, None,
     ["mineable", "pow", "sha-256", "store-of-value", "state-channel", "coinbase-ventures-portfolio"]),
    (1027, "Ethereum", "ETH", "ethereum", "2015-08-07", 3478.21, 120146775.12379843, None, True, None, None,
     ["pos", "smart-contracts", "ethereum-ecosystem", "coinbase-ventures-portfolio"]),
    (825, "Tether USDt", "USDT", "tether", "2015-02-25", 1.0003, 112452617613.1, None, True, ETH_PLATFORM,
     "0xdac17f958d2ee523a2206206994597c13d831ec7", ["payments", "stablecoin", "asset-backed-stablecoin"]),
    (1839, "BNB", "BNB", "bnb", "2017-07-25", 601.87, 147582826.3, None, False, None, None,
     ["marketplace", "centralized-exchange", "bnb-chain"]),
    (5426, "Solana", "SOL", "solana", "2020-04-10", 145.31, 462190133.77, None, True, None, None,
     ["pos", "platform", "solana-ecosystem", "layer-1"]),
    (3408, "USDC", "USDC", "usd-coin", "2018-10-08", 0.9999, 32498765432.2, None, False, ETH_PLATFORM,
     "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", ["medium-of-exchange", "stablecoin", "asset-backed-stablecoin"]),
    (52, "XRP", "XRP", "xrp", "2013-08-04", 0.4891, 55601230434, 100000000000, False, None, None,
     ["medium-of-exchange", "enterprise-solutions", "layer-1"]),
    (8085, "Lido Staked ETH", "stETH", "steth", "2020-12-23", 3476.95, 9561334.4, None, True, ETH_PLATFORM,
     "0xae7ab96520de3a18e5e111b5eaab095312d7fe84", ["defi", "liquid-staking-derivatives"]),
    (74, "Dogecoin", "DOGE", "dogecoin", "2013-12-15", 0.1427, 144863916383.7, None, True, None, None,
     ["mineable", "pow", "scrypt", "memes"]),
    (11419, "Toncoin", "TON", "toncoin", "2021-08-26", 7.42, 2450000000.1, None, False, None, None,
     ["pos", "layer-1", "ton-ecosystem"]),
    (2010, "Cardano", "ADA", "cardano", "2017-10-01", 0.4212, 35780000000.8, 45000000000, False, None, None,
     ["dpos", "pos", "platform", "research", "smart-contracts"]),
    (1958, "TRON", "TRX", "tron", "2017-09-13", 0.1156, 87331090817.2, None, True, None, None,
     ["media", "payments", "tron-ecosystem", "layer-1"]),
    (5805, "Avalanche", "AVAX", "avalanche", "2020-07-13", 30.12, 394291000.5, 720000000, False, None, None,
     ["defi", "smart-contracts", "layer-1"]),
    (5994, "Shiba Inu", "SHIB", "shiba-inu", "2020-08-01", 0.00002139, 589264883286605.8, None, False, ETH_PLATFORM,
     "0x95ad61b0a150d79219dcf64e1e6cc01f0b64c4ce", ["memes", "ethereum-ecosystem", "doggone-doggerel"]),
    (3717, "Wrapped Bitcoin", "WBTC", "wrapped-bitcoin", "2019-01-30", 61889.1, 154312.9, None, False, ETH_PLATFORM,
     "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599", ["medium-of-exchange", "defi", "wrapped-tokens"]),
    (1975, "Chainlink", "LINK", "chainlink", "2017-09-20", 15.23, 587099971.3, 1000000000, False, ETH_PLATFORM,
     "0x514910771af9ca656af840dff83e8264ecf986ca", ["platform", "defi", "oracles", "smart-contracts"]),
    (6636, "Polkadot", "DOT", "polkadot-new", "2020-08-19", 6.41, 1436291000.3, None, True, None, None,
     ["substrate", "polkadot", "polkadot-ecosystem", "layer-0"]),
    (1831, "Bitcoin Cash", "BCH", "bitcoin-cash", "2017-07-23", 445.8, 19719131.25, 21000000, False, None, None,
     ["mineable", "pow", "sha-256", "marketplace"]),
    (3890, "Polygon", "MATIC", "polygon", "2019-04-28", 0.6321, 9898327099.3, 10000000000, False, ETH_PLATFORM,
     "0x7d1afa7b718fb893db30a3abc0cfc608aacfebb0", ["pos", "platform", "scaling", "layer-2"]),
    (2, "Litecoin", "LTC", "litecoin", "2013-04-28", 78.44, 74616238.2, 84000000, False, None, None,
     ["mineable", "pow", "scrypt", "medium-of-exchange"]),
    (4943, "Dai", "DAI", "multi-collateral-dai", "2019-11-22", 0.9997, 5349843672.6, None, False, ETH_PLATFORM,
     "0x6b175474e89094c44da98b954eedeac495271d0f", ["defi", "stablecoin", "algorithmic-stablecoin"]),
    (24478, "Pepe", "PEPE", "pepe", "2023-04-17", 0.00001182, 420690000000000, 420690000000000, False, ETH_PLATFORM,
     "0x6982508145454ce325ddbe47a25d4ec3d2311933", ["memes", "ethereum-ecosystem"]),
    (7083, "Uniswap", "UNI", "uniswap", "2020-09-17", 9.87, 598727133.8, 1000000000, False, ETH_PLATFORM,
     "0x1f9840a85d5af5bf1d1762f925bdaddc4201f984", ["decentralized-exchange-dex-token", "defi", "amm"]),
    (6535, "NEAR Protocol", "NEAR", "near-protocol", "2020-08-11", 5.91, 1094718329.4, None, True, None, None,
     ["platform", "staking", "sharding", "layer-1"]),
    (3794, "Cosmos", "ATOM", "cosmos", "2019-03-14", 7.79, 390930671.5, None, True, None, None,
     ["platform", "cosmos-ecosystem", "layer-0"]),
    (512, "Stellar", "XLM", "stellar", "2014-08-05", 0.0951, 29108327516.4, 50001806812, False, None, None,
     ["medium-of-exchange", "layer-1"]),
    (1321, "Ethereum Classic", "ETC", "ethereum-classic", "2016-07-24", 26.14, 147417853.9, 210700000, False, None, None,
     ["mineable", "pow", "ethash", "platform"]),
    (328, "Monero", "XMR", "monero", "2014-05-21", 163.2, 18446744.07, None, True, None, None,
     ["mineable", "pow", "medium-of-exchange", "privacy"]),
    (2280, "Filecoin", "FIL", "filecoin", "2017-12-13", 5.02, 567512011.6, None, False, None, None,
     ["mineable", "distributed-computing", "filesharing", "storage"]),
    (3635, "Cronos", "CRO", "cronos", "2018-12-14", 0.1012, 26910574271.3, 30263013692, False, None, None,
     ["medium-of-exchange", "cosmos-ecosystem", "layer-1"]),
    (11841, "Arbitrum", "ARB", "arbitrum", "2023-03-23", 0.9412, 2904378713.1, 10000000000, False, ETH_PLATFORM,
     "0xb50721bcf8d664c30412cfbc6cf7a15145234ad1", ["arbitrum-ecosytem", "layer-2", "rollups"]),
    (4642, "Hedera", "HBAR", "hedera", "2019-09-17", 0.0891, 35830485519.5, 50000000000, False, None, None,
     ["dag", "marketplace", "enterprise-solutions", "layer-1"]),
    (8916, "Internet Computer", "ICP", "internet-computer", "2021-03-23", 9.51, 464820193.2, None, True, None, None,
     ["platform", "distributed-computing", "layer-1"]),
    (20947, "Sui", "SUI", "sui", "2022-07-12", 0.8931, 2381510402.3, 10000000000, False, None, None,
     ["layer-1", "move-vm"]),
    (21794, "Aptos", "APT", "aptos", "2022-10-12", 7.98, 437102399.1, None, True, None, None,
     ["layer-1", "move-vm"]),
    (11840, "Optimism", "OP", "optimism-ethereum", "2022-06-01", 2.12, 1083101877.4, 4294967296, False, None, None,
     ["layer-2", "rollups", "optimism-ecosystem"]),
    (3077, "VeChain", "VET", "vechain", "2017-08-22", 0.03012, 72714516834, 86712634466, False, None, None,
     ["logistics", "data-provenance", "layer-1"]),
    (5690, "Render", "RENDER", "render", "2020-06-11", 8.76, 388419002.7, 644168762, False, SOL_PLATFORM,
     "rndrizKT3MK1iimdxRdWabcF7Zg7AR5T4nud4EkHBof", ["distributed-computing", "ai-big-data", "solana-ecosystem"]),
    (2927, "sUSD", "sUSD", "susd", "2018-08-22", 0.9932, 59431922.1, None, False, ETH_PLATFORM,
     "0x57ab1ec28d129707052df4df418d58a2d46d5f51", ["stablecoin", "synthetics", "algorithmic-stablecoin"]),
    (2682, "Holo", "HOT", "holo", "2018-04-30", 0.001872, 173289183442.2, None, False, ETH_PLATFORM,
     "0x6c6ee5e31d828de241282b9606c8e98ea48526e2", ["platform", "distributed-computing", "holochain"]),
    (2467, "Hydro Protocol", "HOT", "hydro-protocol", "2018-03-16", 4.123e-7, 9820000000000, 10000000000000, False, ETH_PLATFORM,
     "0x9af839687f6c94542ac5ece2e317daae355493a1", ["decentralized-exchange-dex-token"]),
]

# Invented coins that exercise edge cases. (id, name, symbol, slug, date_added, price, circulating, max, infinite, platform, addr, tags)
SPECIAL = [
    (29815, "HotDAO", "HOT", "hotdao", "2024-01-11", 0.002081, 9812345678.5, 21000000000, False, SOL_PLATFORM,
     "HoTdAoX9wQ4yKx8gGJf6vU3tQmNaPZkz1e2r3t4y5u6", ["memes", "solana-ecosystem"]),
    (27311, "Æterna Token", "ÆTERNA", "aeterna-token", "2023-08-02", 0.3187, 811234567.25, 1000000000, False, ETH_PLATFORM,
     "0x3e9a1c58f0b1b0f7f8c06f5c9d2b9d4e0a7c3f21", ["gaming", "ethereum-ecosystem"]),
    (30577, "币安币 Classic", "币安币", "bian-bi-classic", "2024-03-19", 0.04417, 1287654321.5, 2100000000, False, BNB_PLATFORM,
     "0x5b1f3e4d9c2a8b7e6f0d1c3a2b4e5f6a7b8c9d0e", ["memes", "bnb-chain"]),
    (25896, "Omega Ωmega", "Ω", "omega-omega", "2023-05-09", 1.4821, 48102030.5, 100000000, False, None, None,
     ["layer-1"]),
    (19230, 'Foo, Inc "Token"', "FOOI", "foo-inc-token", "2022-04-06", 0.7731, 120044120.5, 250000000, False, ETH_PLATFORM,
     "0x0f00f00f00f00f00f00f00f00f00f00f00f00f00", ["platform"]),
    (23114, "Yes, Finance", "YESF", "yes-finance", "2022-12-01", 0.05119, 612345678.9, None, True, BNB_PLATFORM,
     "0x7e5f0f1a2b3c4d5e6f708192a3b4c5d6e7f80912", ["defi"]),
    (32008, "Nanocap Dust", "DUST", "nanocap-dust", "2024-04-20", 1.23e-7, 69000000000000, 100000000000000, False, SOL_PLATFORM,
     "DusTnAno1111111111111111111111111111111111", ["memes", "solana-ecosystem"]),
    (33471, "PicoPepe", "PPEPE", "picopepe", "2024-05-05", 4.5e-9, 1000000000000000, 1e+21, False, ETH_PLATFORM,
     "0x9999c0ffee00000000000000000000000000c0de", ["memes"]),
    (26640, "Quintillion Inu", "QINU", "quintillion-inu", "2023-06-21", 2.9e-15, 1.5e+21, 2e+21, False, BNB_PLATFORM,
     "0x1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d", ["memes", "bnb-chain"]),
]

# Coins whose quote.USD.price is null (unpriced / untracked-style rows at the bottom of the list).
NULL_PRICE = [
    (31742, "Ghostchain Reserve", "GHOST", "ghostchain-reserve", "2024-02-27", None, 0, None, False, None, None, []),
    (34120, "Nullified Protocol", "NULLP", "nullified-protocol", "2024-05-30", None, 0, 500000000, False, ETH_PLATFORM,
     "0xdeaddeaddeaddeaddeaddeaddeaddeaddead0000", ["defi"]),
]

SYL = ["ka", "zen", "tor", "vex", "lu", "mi", "ra", "qua", "dex", "no", "vo", "xi", "ter", "bit", "sol", "ne",
       "ark", "om", "ly", "pha", "chain", "gri", "fi", "zo", "ul", "tra", "ix", "ca", "mon", "sky", "dra", "pe"]
SUFFIX = ["", "", "", " Protocol", " Network", " Finance", " Token", " Coin", " AI", " Chain", " DAO", " Swap",
          " Labs", " Inu", " Games", " Bridge"]
TAG_POOL = ["defi", "memes", "gaming", "ai-big-data", "layer-1", "layer-2", "dao", "yield-farming", "nft",
            "metaverse", "ethereum-ecosystem", "bnb-chain", "solana-ecosystem", "arbitrum-ecosytem",
            "stablecoin", "payments", "rwa", "depin", "storage", "oracles", "privacy", "staking"]


def loginterp(rank, anchors):
    for (r0, v0), (r1, v1) in zip(anchors, anchors[1:]):
        if r0 <= rank <= r1:
            t = (math.log(rank) - math.log(r0)) / (math.log(r1) - math.log(r0))
            return math.exp(math.log(v0) + t * (math.log(v1) - math.log(v0)))
    return anchors[-1][1]


# --------------------------------------------------------------------------------------------
# CoinMarketCap listing
# --------------------------------------------------------------------------------------------


def make_cmc(rng, n_coins):
    rows = []  # dicts with internal fields, later converted to the API shape
    used_ids, used_syms, used_slugs = set(), set(), set()

    def add(t, synthetic=False):
        (cid, name, sym, slug, added, price, circ, mx, inf, plat, addr, tags) = t
        assert cid not in used_ids, cid
        used_ids.add(cid)
        used_slugs.add(slug)
        used_syms.add(sym)
        if price is not None and not synthetic:
            if cid != 1:  # keep BTC's literal 17-significant-digit example price
                price = price * (1 + rng.uniform(-0.004, 0.004)) if price > 1e-6 else price
        rows.append(dict(id=cid, name=name, symbol=sym, slug=slug, added=added, price=price, circ=circ, max=mx,
                         infinite=inf, platform=plat, addr=addr, tags=tags))

    for t in REAL:
        add(t)
    for t in SPECIAL:
        add(t, synthetic=True)

    n_synth = n_coins - len(rows) - len(NULL_PRICE)
    assert n_synth > 0, "--coins too small"
    # Market caps for synthetic coins follow a rough real-world rank curve.
    anchors = [(1, 1.2e12), (40, 4.5e9), (100, 1.1e9), (500, 6e7), (1000, 1.3e7), (2500, 9e5), (5000, 9e4)]
    synth_ranks = sorted(rng.sample(range(25, n_coins + 40), n_synth))
    free_ids = [i for i in range(3, max(35001, 3 * n_coins)) if i not in used_ids and i not in (29815,)]
    synth_ids = rng.sample(free_ids, n_synth)
    # Large listings can draw the null-price coins' ids: move those to unused ids past the range.
    reserved = {t[0] for t in NULL_PRICE}
    spare = (i for i in range(max(35001, 3 * n_coins), 10 * max(35001, 3 * n_coins)) if i not in used_ids)
    synth_ids = [next(spare) if cid in reserved else cid for cid in synth_ids]
    for rank, cid in zip(synth_ranks, synth_ids):
        attempts = 0
        while True:
            base = "".join(rng.choice(SYL) for _ in range(rng.choice([2, 2, 3])))
            name = base.capitalize() + rng.choice(SUFFIX)
            slug = name.lower().replace(" ", "-")
            sym = (base[:rng.choice([3, 3, 4, 4, 5])]).upper()
            attempts += 1
            if attempts > 2000:  # large listings run out of syllable combinations
                name, slug, sym = f"{name} {cid}", f"{slug}-{cid}", f"{sym}{cid}"
            if slug not in used_slugs and sym not in used_syms and sym != "HOT":
                break
        mcap = loginterp(rank, anchors) * math.exp(rng.gauss(0, 0.15))
        # supply: log-uniform 1e6 .. 1.6e13, giving a wide price range (some tiny prices)
        circ = 10 ** rng.uniform(6, 13.2)
        circ = float(round(circ)) if rng.random() < 0.5 else circ
        price = mcap / circ
        frac_added = cid / 35000.0
        added_ts = EPOCH_2013 + int(frac_added * (SNAPSHOT_TS - 86400 * 30 - EPOCH_2013)) + rng.randint(-60, 60) * 86400
        added_ts = max(EPOCH_2013 + 2 * 86400, min(added_ts, SNAPSHOT_TS - 86400 * 2))
        plat_roll = rng.random()
        plat = None if plat_roll < 0.25 else rng.choice(PLATFORMS)
        addr = None
        if plat is not None:
            addr = "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40)) if plat is not SOL_PLATFORM else \
                "".join(rng.choice("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz") for _ in range(44))
        inf = rng.random() < 0.2
        mx = None if inf or rng.random() < 0.35 else float(round(circ * rng.uniform(1.0, 3.0)))
        tags = rng.sample(TAG_POOL, rng.choice([0, 1, 2, 2, 3, 4]))
        add((cid, name, sym, slug, time_day(added_ts), price, circ, mx, inf, plat, addr, tags), synthetic=True)

    # compute market cap & sort (null-price coins go to the bottom, like CMC's unranked-by-cap rows)
    for r in rows:
        r["mcap"] = r["price"] * r["circ"]
    rows.sort(key=lambda r: -r["mcap"])
    for t in NULL_PRICE:
        add(t, synthetic=True)
        rows[-1]["mcap"] = 0
    total_mcap = sum(r["mcap"] for r in rows)

    data = []
    for rank, r in enumerate(rows, start=1):
        price = r["price"]
        is_stable = "stablecoin" in r["tags"]
        if price is None:
            vol = 0
        else:
            ratio = math.exp(rng.gauss(math.log(0.04), 0.9)) if not is_stable else rng.uniform(0.15, 0.6)
            if r["id"] == 825:
                ratio = 0.45
            vol = r["mcap"] * ratio
        n_pairs = max(1, int(loginterp(rank, [(1, 11000), (10, 900), (100, 250), (1000, 20), (5000, 2)])
                             * math.exp(rng.gauss(0, 0.4))))
        total = r["circ"] if r["max"] is None else min(r["max"], r["circ"] * rng.uniform(1.0, 1.3))
        if r["id"] == 1:
            total = r["circ"]
        upd = SNAPSHOT_TS - rng.randint(0, 120)
        upd_iso = iso_ms(upd, 0)
        srcs = None
        if rng.random() < 0.04 and price is not None:
            srcs = float(round(r["circ"] * rng.uniform(0.7, 1.2)))
        pc = (lambda s: round(rng.gauss(0, s), rng.choice([8, 8, 8, 7])) if price is not None else 0)
        fd_supply = r["max"] if r["max"] is not None else total
        usd = {
            "price": price,
            "volume_24h": vol,
            "volume_change_24h": round(rng.gauss(0, 25), 4) if price is not None else 0,
            "percent_change_1h": pc(0.6),
            "percent_change_24h": pc(3.0),
            "percent_change_7d": pc(8.0),
            "percent_change_30d": pc(18.0),
            "percent_change_60d": pc(25.0),
            "percent_change_90d": pc(35.0),
            "market_cap": r["mcap"],
            "market_cap_dominance": round(100.0 * r["mcap"] / total_mcap, 4),
            "fully_diluted_market_cap": round(price * fd_supply, 2) if price is not None else None,
            "tvl": None if "defi" not in r["tags"] or rng.random() < 0.6 or price is None else round(r["mcap"] * rng.uniform(0.05, 2), 2),
            "last_updated": upd_iso,
        }
        if is_stable and price is not None:
            usd["percent_change_1h"] = round(rng.gauss(0, 0.01), 8)
            usd["percent_change_24h"] = round(rng.gauss(0, 0.03), 8)
        platform = None
        if r["platform"] is not None:
            platform = dict(r["platform"])
            platform["token_address"] = r["addr"]
        item = {
            "id": r["id"],
            "name": r["name"],
            "symbol": r["symbol"],
            "slug": r["slug"],
            "num_market_pairs": n_pairs,
            "date_added": r["added"] + "T00:00:00.000Z" if len(r["added"]) == 10 else r["added"],
            "tags": r["tags"],
            "max_supply": r["max"],
            "circulating_supply": r["circ"],
            "total_supply": total,
            "infinite_supply": r["infinite"],
            "platform": platform,
            "cmc_rank": rank,
            "self_reported_circulating_supply": srcs,
            "self_reported_market_cap": (srcs * price) if srcs is not None else None,
            "tvl_ratio": (round(r["mcap"] / usd["tvl"], 8) if usd["tvl"] else None),
            "last_updated": upd_iso,
            "quote": {"USD": usd},
        }
        data.append(item)

    doc = {
        "status": {
            "timestamp": SNAPSHOT_ISO,
            "error_code": 0,
            "error_message": None,
            "elapsed": 23,
            "credit_count": (len(data) + 199) // 200,
            "notice": None,
            "total_count": 9843,
        },
        "data": data,
    }
    return doc


def time_day(ts):
    import time
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


# --------------------------------------------------------------------------------------------
# CryptoCompare data-api toplist
# --------------------------------------------------------------------------------------------

# Hard-case slots: 1-based overall position (source_rank) -> case kind (+ argument)
def hard_slots():
    s = {}
    for p in (37, 151, 233, 318, 402, 455, 478, 497):
        s[p] = ("alt_null",)
    for p in (58, 129, 266, 340, 389, 421, 466, 490):
        s[p] = ("alt_empty",)
    for p in (22, 77, 144, 198, 251, 299, 356, 410, 444, 483):
        s[p] = ("alt_cg_only",)
    for p in (15, 64, 112, 187, 205, 277, 311, 347, 378, 399, 431, 459, 471, 495):
        s[p] = ("cmc_not_listed",)
    s[30] = ("map", 3890, "MATIC", "Polygon")                      # dup pair A, first
    s[165] = ("map", 3890, "POL", "POL (ex-MATIC)")                # dup pair A, second
    s[45] = ("map", 5690, "RENDER", "Render")                      # dup pair B, first
    s[260] = ("map", 5690, "RNDR", "Render Token (old)")           # dup pair B, second
    s[20] = ("map", 11419, "TON", "Toncoin")                       # dup pair C, first
    s[183] = ("map", 11419, "TONCOIN", "Toncoin (legacy ticker)")  # dup pair C, second
    s[48] = ("map_numeric_id", 5805)                               # CMC id as JSON number
    s[61] = ("map_price_null", 1975)                               # PRICE_USD null, CMC LINK
    s[305] = ("map_price_null", 2280)                              # PRICE_USD null, CMC FIL
    s[73] = ("map", 31742, None, None)                             # CMC coin with null price
    s[388] = ("map", 34120, None, None)                            # CMC coin with null price
    s[88] = ("map", 27311, None, None)                             # non-ASCII symbol ÆTERNA
    s[275] = ("map", 25896, None, None)                            # non-ASCII symbol Ω
    s[333] = ("map", 30577, None, None)                            # non-ASCII symbol 币安币
    s[95] = ("map", 2682, None, None)                              # HOT -> Holo
    s[350] = ("map", 29815, None, None)                            # HOT -> HotDAO (different CMC id)
    s[140] = ("map_price", 32008, 1.23e-7)                         # tiny price, exponent form
    s[420] = ("map_price", 33471, 4.5e-9)                          # tiny price, exponent form
    s[180] = ("map", 19230, None, None)                            # name with comma and quotes
    s[8] = ("map", 8085, "STETH", "Lido Staked ETH")               # CC upper-cases stETH
    s[236] = ("map", 2927, "SUSD", "sUSD")
    return s


def make_cc(rng, cmc_doc):
    listing = {c["id"]: c for c in cmc_doc["data"]}
    listed_ids = set(listing)
    slots = hard_slots()
    total = 500
    explicit_ids = set()
    for v in slots.values():
        if v[0].startswith("map"):
            explicit_ids.add(v[1])
    n_fill = total - len(slots)
    head = [825, 1, 1027, 3408]
    # candidate pool: priced listing coins by (noisy) volume, excluding explicit ones and the fixed head
    pool = [c for c in cmc_doc["data"] if c["quote"]["USD"]["price"] is not None
            and c["id"] not in explicit_ids and c["id"] not in head and c["cmc_rank"] <= 1800]
    scored = sorted(pool, key=lambda c: -(c["quote"]["USD"]["volume_24h"] * math.exp(rng.gauss(0, 0.8))))
    if len(scored) < n_fill - len(head):
        raise SystemExit("--coins too small: the 500-item toplist needs about 600 CMC coins (use --coins >= 700)")
    fill = [listing[i] for i in head] + scored[: n_fill - len(head)]

    # descending 24h volumes for the 500 positions
    vols = sorted((5.8e10 * (r ** -1.32) * math.exp(rng.gauss(0, 0.08)) for r in range(1, total + 1)), reverse=True)
    vols = [round(v, rng.choice([2, 4, 6, 8])) for v in vols]

    used_legacy, used_dataid = {1182, 7605}, {1, 2, 5}
    used_not_listed = set()

    def new_legacy():
        while True:
            v = rng.randint(1200, 960000)
            if v not in used_legacy:
                used_legacy.add(v)
                return v

    def new_dataid():
        while True:
            v = rng.randint(6, 120000)
            if v not in used_dataid:
                used_dataid.add(v)
                return v

    items, manifest = [], []
    taken_syms = {c["symbol"].upper() for c in cmc_doc["data"]}
    fill_iter = iter(fill)
    synth_n = 0
    for pos in range(1, total + 1):
        kind = slots.get(pos, ("fill",))
        coin, sym, name, alt_kind, cmc_alt = None, None, None, "cmc", None
        price_override, price_null = None, False
        if kind[0] == "fill":
            coin = next(fill_iter)
        elif kind[0] in ("map", "map_numeric_id", "map_price_null", "map_price"):
            coin = listing[kind[1]]
            if kind[0] == "map" and kind[2]:
                sym, name = kind[2], kind[3]
            if kind[0] == "map_numeric_id":
                alt_kind = "cmc_numeric"
            if kind[0] == "map_price_null":
                price_null = True
            if kind[0] == "map_price":
                price_override = kind[2]
        else:
            alt_kind = kind[0]
        if coin is not None:
            sym = sym or coin["symbol"].upper()
            name = name or coin["name"]
            cmc_id = coin["id"]
            cprice = coin["quote"]["USD"]["price"]
            circ = coin["circulating_supply"]
            tot = coin["total_supply"]
            mx = coin["max_supply"]
            launch = coin["date_added"][:10]
            is_token = coin["platform"] is not None
            cg = coin["slug"]
        else:
            synth_n += 1
            while True:
                base = "".join(rng.choice(SYL) for _ in range(2)).capitalize()
                sym = (base[:3] + rng.choice("XYZQKJ")).upper()
                if sym not in taken_syms:
                    break
            taken_syms.add(sym)
            name = base + rng.choice([" Network", " Protocol", " USD", " AI", " Bridge", ""])
            cmc_id = None
            if alt_kind == "cmc_not_listed":
                while pos != 15:
                    cmc_id = rng.choice([rng.randint(100, 35000), rng.randint(35001, 36900)])
                    if cmc_id not in listed_ids and cmc_id not in used_not_listed:
                        used_not_listed.add(cmc_id)
                        break
                if pos == 15:  # a newly listed stablecoin ranked beyond the CMC page
                    cmc_id = 36148
                    used_not_listed.add(cmc_id)
                    sym, name = "USD1", "World Liberty USD (synthetic)"
            cprice = 10 ** rng.uniform(-4, 2) if pos != 15 else 1.0001
            circ = float(round(10 ** rng.uniform(6, 9.3) / cprice))
            tot = circ * 1.1
            mx = None
            launch = "2024-0%d-1%d" % (rng.randint(1, 5), rng.randint(0, 9))
            is_token = rng.random() < 0.7
            cg = name.lower().replace(" ", "-").replace("(", "").replace(")", "")

        if price_null:
            price = None
        elif price_override is not None:
            price = price_override
        elif cprice is None:
            # CMC has no price for this coin, but it still trades and CryptoCompare prices it.
            price = 10 ** rng.uniform(-5, -2)
        else:
            price = cprice * (1 + rng.gauss(0, 0.002)) if cprice >= 1e-6 else cprice
        if coin is not None and price is not None and 0.99 < price < 1.01 and "stablecoin" in coin["tags"]:
            price = round(price, rng.choice([6, 8, 10, 12]))
        circ_mc = price * circ if price is not None else 0
        tot_mc = price * tot if price is not None else 0

        if alt_kind == "alt_null":
            alts = None
        elif alt_kind == "alt_empty":
            alts = []
        elif alt_kind == "alt_cg_only":
            alts = [{"NAME": "CG", "ID": cg}]
        else:
            cmc_val = str(cmc_id) if alt_kind != "cmc_numeric" else cmc_id
            alts = [{"NAME": "CMC", "ID": cmc_val}, {"NAME": "CG", "ID": cg}]
            if rng.random() < 0.15:
                alts.reverse()  # CMC entry is not always first
            if rng.random() < 0.05:
                alts.append({"NAME": "ISIN", "ID": "XT" + "".join(rng.choice("0123456789ABCDEFGHJK") for _ in range(10))})

        if coin is not None and coin["id"] == 1:
            data_id, legacy = 1, 1182
        elif coin is not None and coin["id"] == 1027 and pos == 3:
            data_id, legacy = 2, 7605
        else:
            data_id, legacy = new_dataid(), new_legacy()
        launch_ts = parse_day(launch) if coin is not None else parse_day(launch)
        created = max(1514764800, launch_ts) + rng.randint(0, 400) * 86400
        created = min(created, SNAPSHOT_TS - 86400)
        vol = vols[pos - 1]
        chg_pct = round(rng.gauss(0, 12), rng.choice([8, 10, 12]))
        chg_usd = round(vol * chg_pct / (100 + chg_pct), 4)
        item = {
            "ID": data_id,
            "TYPE": "162",
            "ID_LEGACY": legacy,
            "SYMBOL": sym,
            "URI": sym.lower(),
            "ASSET_TYPE": "TOKEN" if is_token else "BLOCKCHAIN",
            "NAME": name,
            "LOGO_URL": "https://resources.cryptocompare.com/asset-management/%d/%d.png" % (data_id, 1650000000000 + data_id * 7919 % 90000000000),
            "LAUNCH_DATE": launch_ts,
            "CREATED_ON": created,
            "UPDATED_ON": SNAPSHOT_TS - rng.randint(60, 86400 * 30),
            "PREVIOUS_ASSET_SYMBOLS": ["MATIC"] if sym == "POL" else (["RNDR"] if sym == "RENDER" else None),
            "ASSET_ALTERNATIVE_IDS": alts,
            "SUPPLY_MAX": mx if mx is not None else -1,
            "SUPPLY_ISSUED": tot,
            "SUPPLY_TOTAL": tot,
            "SUPPLY_CIRCULATING": circ,
            "PRICE_USD": price,
            "PRICE_USD_SOURCE": "cadli",
            "PRICE_USD_LAST_UPDATE_TS": SNAPSHOT_TS - rng.randint(0, 90),
            "CIRCULATING_MKT_CAP_USD": circ_mc,
            "TOTAL_MKT_CAP_USD": tot_mc,
            "SPOT_MOVING_24_HOUR_QUOTE_VOLUME_TOP_TIER_USD": round(vol * rng.uniform(0.6, 0.95), 4),
            "SPOT_MOVING_24_HOUR_QUOTE_VOLUME_USD": vol,
            "SPOT_MOVING_24_HOUR_CHANGE_USD": chg_usd,
            "SPOT_MOVING_24_HOUR_CHANGE_PERCENTAGE_USD": chg_pct,
            "TOPLIST_BASE_RANK": None,  # filled below
        }
        items.append(item)
        cmc_in_alts = None
        if alts:
            for a in alts:
                if a["NAME"] == "CMC":
                    cmc_in_alts = a["ID"]
        manifest.append(dict(pos=pos, page=(pos - 1) // 100 + 1, index=(pos - 1) % 100, kind=kind[0],
                             symbol=sym, name=name, cmc=cmc_in_alts, price=price))

    # TOPLIST_BASE_RANK (ranks within this 500-asset universe)
    def ranks(key):
        order = sorted(range(total), key=lambda i: -(items[i][key] or 0))
        out = [0] * total
        for r, i in enumerate(order, start=1):
            out[i] = r
        return out
    r_circ, r_tot = ranks("CIRCULATING_MKT_CAP_USD"), ranks("TOTAL_MKT_CAP_USD")
    r_chg = ranks("SPOT_MOVING_24_HOUR_CHANGE_PERCENTAGE_USD")
    r_created = sorted(range(total), key=lambda i: -items[i]["CREATED_ON"])
    r_launch = sorted(range(total), key=lambda i: -items[i]["LAUNCH_DATE"])
    rc = {i: r + 1 for r, i in enumerate(r_created)}
    rl = {i: r + 1 for r, i in enumerate(r_launch)}
    for i, it in enumerate(items):
        it["TOPLIST_BASE_RANK"] = {
            "CREATED_ON": rc[i],
            "LAUNCH_DATE": rl[i],
            "CIRCULATING_MKT_CAP_USD": r_circ[i],
            "TOTAL_MKT_CAP_USD": r_tot[i],
            "SPOT_MOVING_24_HOUR_QUOTE_VOLUME_USD": i + 1,
            "SPOT_MOVING_24_HOUR_CHANGE_PERCENTAGE_USD": r_chg[i],
        }

    pages = []
    for p in range(1, 7):
        chunk = items[(p - 1) * 100: p * 100]
        pages.append({"Data": {"STATS": {"PAGE": p, "PAGE_SIZE": 100, "TOTAL_ASSETS": total}, "LIST": chunk},
                      "Err": {}})
    return pages, manifest


# --------------------------------------------------------------------------------------------
# Error bodies
# --------------------------------------------------------------------------------------------


def error_bodies():
    def cmc(code, msg):
        return {"status": {"timestamp": SNAPSHOT_ISO, "error_code": code, "error_message": msg,
                           "elapsed": 0, "credit_count": 0}}
    rl = cmc(1008, "You've exceeded your API Key's HTTP request rate limit. Rate limits reset every minute.")
    return {
        "cmc-401-invalid-key.json": cmc(1001, "This API Key is invalid."),
        "cmc-429-rate-limit.json": rl,
        "cmc-500.json": cmc(500, "An internal server error occurred."),
        "cmc-200-error-body.json": rl,
        "cryptocompare-429.json": {"Data": {}, "Err": {
            "type": 99, "message": "You are over your rate limit please upgrade your account!",
            "other_info": {"param": "api_key", "values": ["minute"]}}},
        "cryptocompare-401.json": {"Data": {}, "Err": {
            "type": 2, "message": "You need a valid auth key or api key to access this endpoint",
            "other_info": {"param": "api_key", "values": ["00000000-invalid-key"]}}},
        "cryptocompare-minapi-rate-limit.json": {
            "Response": "Error", "Message": "You are over your rate limit please upgrade your account!",
            "HasWarning": False, "Type": 99,
            "RateLimit": {"calls_made": {"second": 1, "minute": 301, "hour": 1287, "day": 6120, "month": 75012,
                                         "total_calls": 75012},
                          "max_calls": {"second": 20, "minute": 300, "hour": 3000, "day": 10000, "month": 75000}},
            "Data": {}, "Cooldown": 3},
    }


# --------------------------------------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "Config", "demo", "upstream"))
    ap.add_argument("--coins", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    out = os.path.normpath(a.out)
    rng = random.Random(a.seed)

    cmc = make_cmc(rng, a.coins)
    write(os.path.join(out, "coinmarketcap", "listings-latest.json"), dump(cmc) + "\n")

    pages, manifest = make_cc(rng, cmc)
    for i, page in enumerate(pages, start=1):
        write(os.path.join(out, "cryptocompare", "top-list-page-%d.json" % i), dump(page) + "\n")

    for fname, body in error_bodies().items():
        write(os.path.join(out, "errors", fname), dump(body) + "\n")
    full = dump(cmc)
    write(os.path.join(out, "errors", "malformed.json"), full[:700])  # truncated mid-document, no newline

    for m in manifest:
        if m["kind"] != "fill":
            print("page %d idx %2d rank %3d  %-15s %-10s cmc=%r price=%s" % (
                m["page"], m["index"], m["pos"], m["kind"], m["symbol"], m["cmc"],
                "null" if m["price"] is None else js_number(m["price"])))


if __name__ == "__main__":
    main()

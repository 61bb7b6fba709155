import TopCoins

/// CoinGecko's exchanges as the fake serves them, generated from a seed (smaller than a
/// shipped fixture, and the same on every start):
///
/// - `GET /api/v3/exchanges?per_page=&page=`: 150 exchanges in trust-score-rank order, in
///   CoinGecko's shape; one of them (rank 7) has a null `trust_score`.
/// - `GET /api/v3/exchanges/{id}/tickers?page=&coin_ids=`: 100 tickers a page in base/target
///   order, restricted to tickers whose `coin_id` is listed when `coin_ids` is given; an
///   unknown id is CoinGecko's 404.
/// - `GET /_fixture/coingecko-exchanges`: everything at once (`{exchanges, tickers: {id: [...]}}`),
///   so a test computes the tables on its own.
///
/// `bitso` (rank 30) lists 40 markets with counted tickers, plus `NEAR/MXN` stale and
/// `APE/MXN` anomalous. Other exchanges spell some symbols in lower case; rank 2 lists every
/// pair of Bitso's coins (more than a page), rank 3 exactly 100 of them (a full page, then an
/// empty one), rank 150 none.
struct CoinGeckoExchanges: Sendable {
    struct Ticker: Sendable {
        let base: String
        let target: String
        let coinId: String
        let targetCoinId: String?
        let isStale: Bool
        let isAnomaly: Bool
        let last: String
    }

    struct Exchange: Sendable {
        let id: String
        let name: String
        let trustScore: Int?
        let trustScoreRank: Int
        let tickers: [Ticker]
    }

    static let coins: [(id: String, symbol: String)] = [
        ("bitcoin", "BTC"), ("ethereum", "ETH"), ("ripple", "XRP"), ("litecoin", "LTC"), ("bitcoin-cash", "BCH"), ("dai", "DAI"),
        ("cardano", "ADA"), ("solana", "SOL"), ("dogecoin", "DOGE"), ("polkadot", "DOT"), ("chainlink", "LINK"), ("matic-network", "MATIC"),
        ("tron", "TRX"), ("stellar", "XLM"), ("avalanche-2", "AVAX"), ("shiba-inu", "SHIB"), ("uniswap", "UNI"), ("the-graph", "GRT"),
        ("aave", "AAVE"), ("maker", "MKR"), ("decentraland", "MANA"), ("the-sandbox", "SAND"), ("axie-infinity", "AXS"),
        ("basic-attention-token", "BAT"), ("curve-dao-token", "CRV"), ("near", "NEAR"), ("apecoin", "APE"), ("algorand", "ALGO"),
        ("cosmos", "ATOM"), ("pepe", "PEPE"), ("arbitrum", "ARB"), ("optimism", "OP"), ("compound-governance-token", "COMP"),
    ]
    /// Quote currencies: fiat ones have no `target_coin_id`.
    static let targets: [(symbol: String, coinId: String?)] = [
        ("MXN", nil), ("USD", nil), ("BRL", nil), ("ARS", nil), ("USDT", "tether"), ("BTC", "bitcoin"), ("USDC", "usd-coin"),
    ]
    static let referenceId = "bitso"
    static let referenceRank = 30
    static let nullTrustRank = 7
    static let pageSize = 100
    static let knownNames = [
        "Binance", "Coinbase Exchange", "Kraken", "OKX", "Bybit", "KuCoin", "Bitstamp", "Gemini", "Bitfinex", "Gate.io", "HTX", "Crypto.com Exchange",
        "Bitget", "MEXC", "Upbit", "Bithumb", "bitFlyer", "Mercado Bitcoin", "Foxbit", "Ripio Trade", "Buenbit", "Lemon Cash", "Novadax", "Bitpanda Pro",
    ]

    let exchanges: [Exchange]

    init(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // Bitso's 40 markets: its first 25 coins in MXN, and 15 more quotes of the first ones.
        let bitsoCoins = Array(CoinGeckoExchanges.coins.prefix(25))
        var bitsoPairs = bitsoCoins.map { ($0, CoinGeckoExchanges.targets[0]) }
        for index in 0..<15 { bitsoPairs.append((bitsoCoins[index % 10], CoinGeckoExchanges.targets[[1, 4, 5][index / 5]])) }
        bitsoPairs.removeAll { $0.0.symbol == "BTC" && $0.1.symbol == "BTC" }
        if bitsoPairs.count < 40 { bitsoPairs.append((bitsoCoins[12], CoinGeckoExchanges.targets[6])) }
        var bitsoTickers = bitsoPairs.map { CoinGeckoExchanges.ticker($0.0, $0.1, stale: false, anomaly: false, lowercased: false, &random) }
        bitsoTickers.append(CoinGeckoExchanges.ticker(CoinGeckoExchanges.coins[25], CoinGeckoExchanges.targets[0], stale: true, anomaly: false, lowercased: false, &random))
        bitsoTickers.append(CoinGeckoExchanges.ticker(CoinGeckoExchanges.coins[26], CoinGeckoExchanges.targets[0], stale: false, anomaly: true, lowercased: false, &random))
        let bitsoCoinIds = Set(bitsoTickers.map(\.coinId))
        let universe = CoinGeckoExchanges.coins.flatMap { coin in
            CoinGeckoExchanges.targets.filter { $0.symbol != coin.symbol }.map { (coin, $0) }
        }
        let referencePairs = universe.filter { bitsoCoinIds.contains($0.0.id) }

        var exchanges: [Exchange] = []
        var trust = 10
        for rank in 1...150 {
            let id: String
            let name: String
            if rank == CoinGeckoExchanges.referenceRank {
                (id, name) = (CoinGeckoExchanges.referenceId, "Bitso")
            } else if rank - 1 < CoinGeckoExchanges.knownNames.count {
                name = CoinGeckoExchanges.knownNames[rank - 1]
                id = String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
            } else {
                (id, name) = ("exchange_\(rank)", "Exchange \(rank)")
            }
            if rank > 1, random.next() % 4 == 0 { trust = max(1, trust - 1) }
            let pairs: [((id: String, symbol: String), (symbol: String, coinId: String?))]
            switch rank {
            case CoinGeckoExchanges.referenceRank: pairs = []
            case 2: pairs = referencePairs
            case 3: pairs = Array(referencePairs.prefix(100))
            case 150: pairs = universe.filter { !bitsoCoinIds.contains($0.0.id) }.prefix(20).map { $0 }
            default:
                let wanted = Int(random.next() % 90)
                pairs = universe.filter { _ in Int(random.next() % UInt64(universe.count)) < wanted }
            }
            var tickers = rank == CoinGeckoExchanges.referenceRank ? bitsoTickers : []
            for (coin, target) in pairs {
                let roll = random.next() % 100
                // Rank 2 and 3 keep exact counts of counted tickers: no flags, lower case only.
                let plain = rank == 2 || rank == 3
                tickers.append(
                    CoinGeckoExchanges.ticker(
                        coin, target, stale: !plain && roll < 5, anomaly: !plain && (5..<8).contains(roll), lowercased: (20..<40).contains(roll), &random))
            }
            tickers.sort { ($0.base.uppercased(), $0.target.uppercased()) < ($1.base.uppercased(), $1.target.uppercased()) }
            exchanges.append(
                Exchange(id: id, name: name, trustScore: rank == CoinGeckoExchanges.nullTrustRank ? nil : trust, trustScoreRank: rank, tickers: tickers))
        }
        self.exchanges = exchanges
    }

    static func ticker(
        _ coin: (id: String, symbol: String), _ target: (symbol: String, coinId: String?), stale: Bool, anomaly: Bool, lowercased: Bool,
        _ random: inout SplitMix64
    ) -> Ticker {
        let cents = 1 + random.next() % 10_000_000
        return Ticker(
            base: lowercased ? coin.symbol.lowercased() : coin.symbol, target: lowercased ? target.symbol.prefix(1) + target.symbol.dropFirst().lowercased() : target.symbol, coinId: coin.id,
            targetCoinId: target.coinId, isStale: stale, isAnomaly: anomaly, last: "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)")
    }

    /// `/exchanges?per_page=&page=`: CoinGecko's default page is 100, at most 250.
    func exchangesPage(query: [String: String]) -> [UInt8] {
        let perPage = min(max(query["per_page"].flatMap { Int($0) } ?? 100, 1), 250)
        let page = max(query["page"].flatMap { Int($0) } ?? 1, 1)
        let from = min((page - 1) * perPage, exchanges.count)
        return JSONWriter.encode(.array(exchanges[from..<min(from + perPage, exchanges.count)].map(CoinGeckoExchanges.json)))
    }

    /// `/exchanges/{id}/tickers?page=&coin_ids=`, or nil for an unknown exchange.
    func tickersPage(id: String, query: [String: String]) -> [UInt8]? {
        guard let exchange = exchanges.first(where: { $0.id == id }) else { return nil }
        let page = max(query["page"].flatMap { Int($0) } ?? 1, 1)
        var tickers = exchange.tickers
        if let list = query["coin_ids"] {
            let ids = Set(list.split(separator: ",").map(String.init))
            tickers = tickers.filter { ids.contains($0.coinId) }
        }
        let from = min((page - 1) * CoinGeckoExchanges.pageSize, tickers.count)
        let slice = tickers[from..<min(from + CoinGeckoExchanges.pageSize, tickers.count)]
        return JSONWriter.encode(
            .object(JSONObject([("name", .string(exchange.name)), ("tickers", .array(slice.map { CoinGeckoExchanges.json($0, of: exchange) }))])))
    }

    /// Every exchange and all its tickers, unpaged.
    var fixture: [UInt8] {
        JSONWriter.encode(
            .object(
                JSONObject([
                    ("exchanges", .array(exchanges.map(CoinGeckoExchanges.json))),
                    ("tickers", .object(JSONObject(exchanges.map { exchange in (exchange.id, .array(exchange.tickers.map { CoinGeckoExchanges.json($0, of: exchange) })) }))),
                ])))
    }

    static func json(_ exchange: Exchange) -> JSONValue {
        .object(
            JSONObject([
                ("id", .string(exchange.id)), ("name", .string(exchange.name)), ("year_established", .number(String(2010 + exchange.trustScoreRank % 12))),
                ("country", .string(["Mexico", "United States", "Brazil", "Argentina", "Cayman Islands"][exchange.trustScoreRank % 5])),
                ("description", .string("")), ("url", .string("https://\(exchange.id).example")),
                ("image", .string("https://assets.coingecko.com/markets/images/\(exchange.trustScoreRank)/small/\(exchange.id).png")),
                ("has_trading_incentive", .bool(false)), ("trust_score", exchange.trustScore.map { .number(String($0)) } ?? .null),
                ("trust_score_rank", .number(String(exchange.trustScoreRank))), ("trade_volume_24h_btc", .number("\(20000 / exchange.trustScoreRank).5")),
                ("trade_volume_24h_btc_normalized", .number("\(15000 / exchange.trustScoreRank).25")),
            ]))
    }

    static func json(_ ticker: Ticker, of exchange: Exchange) -> JSONValue {
        var object = JSONObject([
            ("base", .string(ticker.base)), ("target", .string(ticker.target)),
            (
                "market",
                .object(JSONObject([("name", .string(exchange.name)), ("identifier", .string(exchange.id)), ("has_trading_incentive", .bool(false))]))
            ),
            ("last", .number(ticker.last)), ("volume", .number("1234.5")),
            ("converted_last", .object(JSONObject([("btc", .number("0.0001")), ("eth", .number("0.003")), ("usd", .number("10.5"))]))),
            ("converted_volume", .object(JSONObject([("btc", .number("1.5")), ("eth", .number("40.2")), ("usd", .number("150000"))]))),
            ("trust_score", exchange.trustScore.map { .string($0 >= 7 ? "green" : "yellow") } ?? .null), ("bid_ask_spread_percentage", .number("0.21")),
            ("timestamp", .string("2026-12-01T23:59:30+00:00")), ("last_traded_at", .string("2026-12-01T23:59:30+00:00")),
            ("last_fetch_at", .string("2026-12-01T23:59:58+00:00")), ("is_anomaly", .bool(ticker.isAnomaly)), ("is_stale", .bool(ticker.isStale)),
            ("trade_url", .string("https://\(exchange.id).example/trade/\(ticker.base)_\(ticker.target)")), ("token_info_url", .null),
            ("coin_id", .string(ticker.coinId)),
        ])
        if let target = ticker.targetCoinId { object.append("target_coin_id", .string(target)) }
        return .object(object)
    }
}

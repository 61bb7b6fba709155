/// One run's two tables, with what the answers say about the run: when it fetched, for which
/// reference, how many exchanges and tickers it read, and when the next run is due (answers
/// may be cached until then).
public struct ExchangeTables: Sendable, Equatable {
    public let reference: String
    public let fetchedAt: Timestamp
    public let nextRunAt: Timestamp
    /// Candidates whose tickers were read.
    public let exchangesConsidered: Int
    /// Tickers read, the reference's included, counted or not.
    public let tickersConsidered: Int
    public let similar: [SimilarExchange]
    public let markets: [MarketRow]

    public init(
        reference: String, fetchedAt: Timestamp, nextRunAt: Timestamp, exchangesConsidered: Int, tickersConsidered: Int, similar: [SimilarExchange],
        markets: [MarketRow]
    ) {
        self.reference = reference
        self.fetchedAt = fetchedAt
        self.nextRunAt = nextRunAt
        self.exchangesConsidered = exchangesConsidered
        self.tickersConsidered = tickersConsidered
        self.similar = similar
        self.markets = markets
    }

    /// Why stored tables could not be read back.
    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The stored form: JSON, readable with `redis-cli GET`.
    public var encoded: [UInt8] {
        JSONWriter.encode(
            .object(
                JSONObject([
                    ("reference", .string(reference)), ("fetched_at", .number(String(fetchedAt.milliseconds))),
                    ("next_run_at", .number(String(nextRunAt.milliseconds))), ("exchanges_considered", .number(String(exchangesConsidered))),
                    ("tickers_considered", .number(String(tickersConsidered))),
                    ("similar", .array(similar.map { row in .object(JSONObject(ExchangeTables.members(row))) })),
                    ("markets", .array(markets.map { row in .array([.string(row.exchangeId), .string(row.market.base), .string(row.market.target)]) })),
                ])))
    }

    /// A similar exchange's members, in the CSV's column order (the JSON answers use them too).
    static func members(_ row: SimilarExchange) -> [(String, JSONValue)] {
        [
            ("exchange_id", .string(row.exchangeId)), ("exchange_name", .string(row.exchangeName)),
            ("trust_score", row.trustScore.map { .number(String($0)) } ?? .null), ("trust_score_rank", row.trustScoreRank.map { .number(String($0)) } ?? .null),
            ("shared_markets", .number(String(row.sharedMarkets))),
        ]
    }

    /// Reads the stored form; anything else is a `DecodingError`, never a half-read table.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw DecodingError(description: "not JSON: \(error)")
        }
        func fail(_ what: String) -> DecodingError { DecodingError(description: "stored exchange tables: \(what)") }
        func integer(_ value: JSONValue?, _ what: String) throws(DecodingError) -> Int64 {
            guard case .number(let literal)? = value, let number = Int64(literal) else { throw fail("\(what) is not an integer") }
            return number
        }
        func optionalInteger(_ value: JSONValue?, _ what: String) throws(DecodingError) -> Int64? {
            if case .null? = value { return nil }
            return try integer(value, what)
        }
        func string(_ value: JSONValue?, _ what: String) throws(DecodingError) -> String {
            guard case .string(let text)? = value else { throw fail("\(what) is not a string") }
            return text
        }
        guard case .array(let similarRows)? = document["similar"], case .array(let marketRows)? = document["markets"] else {
            throw fail("similar or markets is not an array")
        }
        var similar: [SimilarExchange] = []
        for row in similarRows {
            similar.append(
                SimilarExchange(
                    exchangeId: try string(row["exchange_id"], "exchange_id"), exchangeName: try string(row["exchange_name"], "exchange_name"),
                    trustScore: try optionalInteger(row["trust_score"], "trust_score"),
                    trustScoreRank: try optionalInteger(row["trust_score_rank"], "trust_score_rank"),
                    sharedMarkets: Int(try integer(row["shared_markets"], "shared_markets"))))
        }
        var markets: [MarketRow] = []
        for row in marketRows {
            guard case .array(let cells) = row, cells.count == 3 else { throw fail("a market row is not [exchange_id, base, target]") }
            markets.append(
                MarketRow(exchangeId: try string(cells[0], "exchange_id"), market: Market(base: try string(cells[1], "base"), target: try string(cells[2], "target"))))
        }
        self.init(
            reference: try string(document["reference"], "reference"), fetchedAt: Timestamp(milliseconds: try integer(document["fetched_at"], "fetched_at")),
            nextRunAt: Timestamp(milliseconds: try integer(document["next_run_at"], "next_run_at")),
            exchangesConsidered: Int(try integer(document["exchanges_considered"], "exchanges_considered")),
            tickersConsidered: Int(try integer(document["tickers_considered"], "tickers_considered")), similar: similar, markets: markets)
    }
}

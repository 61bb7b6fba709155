import HTTPTypes
import Hummingbird
import NIOCore

/// The exchange fetcher's two tables: `/exchanges/similar?to=&min_shared=` and
/// `/exchanges/markets?exchange=`, read from Redis through `ExchangeStore` (`run=previous`: the
/// run the one in service replaced). Until a run has completed both answer 503 with
/// `Retry-After`, as `/` does before its first snapshot; answers may be cached until the next
/// run is due.
struct ExchangeRoutes: Sendable {
    let store: ExchangeStore

    static let similarCSVHeader = "exchange_id,exchange_name,trust_score,trust_score_rank,shared_markets\r\n"
    static let marketsCSVHeader = "exchange_id,base,target\r\n"
    /// A client that finds no run yet asks again after this: the first run takes a few minutes.
    static let noRunRetryAfterSeconds = 60

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("exchanges/similar", use: similar)
        routes.get("exchanges/markets", use: markets)
        return routes
    }

    func similar(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let minShared = try parameters.integer("min_shared", in: 1...100_000) ?? 1
        let to = try ExchangeRoutes.exchangeId(parameters, "to")
        let tables = try await tables(parameters)
        if let to, to != tables.reference {
            throw APIError(
                status: .notFound, code: "unknown_reference", message: "the exchange tables compare with \(tables.reference), not \(to)", parameter: "to")
        }
        let rows = tables.similar.filter { $0.sharedMarkets >= minShared }
        return ExchangeRoutes.answer(
            request, tables, parts: ["similar", "\(minShared)", format.rawValue], format: format, name: "exchanges-similar",
            json: rows.map { .object(JSONObject(ExchangeTables.members($0))) },
            csv: ExchangeRoutes.similarCSVHeader
                + rows.map { row in
                    ExchangeRoutes.csvLine([
                        row.exchangeId, row.exchangeName, row.trustScore.map(String.init) ?? "", row.trustScoreRank.map(String.init) ?? "", String(row.sharedMarkets),
                    ])
                }.joined())
    }

    func markets(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let exchange = try ExchangeRoutes.exchangeId(parameters, "exchange")
        let tables = try await tables(parameters)
        let rows = exchange.map { id in tables.markets.filter { $0.exchangeId == id } } ?? tables.markets
        if let exchange, rows.isEmpty {
            throw APIError(
                status: .notFound, code: "unknown_exchange",
                message: "\(exchange) lists none of \(tables.reference)'s markets (or was not among the exchanges considered)", parameter: "exchange")
        }
        return ExchangeRoutes.answer(
            request, tables, parts: ["markets", exchange ?? "", format.rawValue], format: format, name: "exchanges-markets",
            json: rows.map { row in
                .object(JSONObject([("exchange_id", .string(row.exchangeId)), ("base", .string(row.market.base)), ("target", .string(row.market.target))]))
            },
            csv: ExchangeRoutes.marketsCSVHeader + rows.map { ExchangeRoutes.csvLine([$0.exchangeId, $0.market.base, $0.market.target]) }.joined())
    }

    /// The run `run` names (`current` by default); none yet is a 503, a broken store too.
    func tables(_ parameters: QueryParameters) async throws(APIError) -> ExchangeTables {
        let which: ExchangeStore.Which
        switch try parameters.single("run") {
        case nil: which = .current
        case let text?:
            guard let asked = ExchangeStore.Which(rawValue: text) else { throw APIError.invalid("run", "run must be current or previous") }
            which = asked
        }
        let found: ExchangeTables?
        do {
            found = try await store.tables(which)
        } catch let error as ExchangeTables.DecodingError {
            throw APIError.unavailable("the exchange tables are stored corrupt (\(error)); the next run replaces them", retryAfter: 3600)
        } catch {
            throw APIError.unavailable("the exchange tables are unavailable right now: Redis cannot be reached", retryAfter: 5)
        }
        guard let found else {
            if which == .previous { throw APIError(status: .notFound, code: "no_previous_run", message: "only one exchange run has completed", parameter: "run") }
            throw APIError.unavailable("no exchange run has completed yet", retryAfter: ExchangeRoutes.noRunRetryAfterSeconds)
        }
        return found
    }

    /// An exchange id parameter: CoinGecko's ids are short words of letters, digits, - and _.
    static func exchangeId(_ parameters: QueryParameters, _ name: String) throws(APIError) -> String? {
        guard let text = try parameters.single(name) else { return nil }
        guard (1...100).contains(text.count), text.allSatisfy({ $0 == "_" || $0 == "-" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
            throw APIError.invalid(name, "\(name) must be an exchange id (1 to 100 letters, digits, - and _)")
        }
        return text
    }

    /// One table's answer: the envelope in JSON (`reference`, `fetched_at`, the counts
    /// considered, `count`, `data`), the columns alone in CSV; cacheable until the next run.
    static func answer(
        _ request: Request, _ tables: ExchangeTables, parts: [String], format: ListQuery.Format, name: String, json rows: [JSONValue], csv: String
    ) -> Response {
        let now = Timestamp.now
        let validators = ConditionalGET(
            etag: AssetRoutes.tag(["exchanges", tables.reference, "\(tables.fetchedAt.milliseconds)"] + parts), lastModified: tables.fetchedAt,
            maxAgeSeconds: (tables.nextRunAt.milliseconds - now.milliseconds) / 1000)
        return validators.response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                format, &headers,
                json: ByteBuffer(
                    bytes: JSONWriter.encode(
                        .object(
                            JSONObject([
                                ("reference", .string(tables.reference)), ("fetched_at", .string(tables.fetchedAt.iso8601)),
                                ("exchanges_considered", .number(String(tables.exchangesConsidered))),
                                ("tickers_considered", .number(String(tables.tickersConsidered))), ("count", .number(String(rows.count))), ("data", .array(rows)),
                            ])))), csv: ByteBuffer(string: csv), name: name)
        }
    }

    static func csvLine(_ fields: [String]) -> String {
        var bytes: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            RenderedSnapshot.appendCSVField(field, to: &bytes)
        }
        bytes += [0x0D, 0x0A]
        return String(decoding: bytes, as: UTF8.self)
    }
}

import HTTPTypes
import Hummingbird
import NIOCore

/// The spread monitor's record: `/spreads` (observations), `/spreads/summary` (per hour or
/// day) and `/alerts` (episodes), read from Redis through `SpreadLibrary`. `book` omitted is
/// every monitored book; one not monitored is 404 `unknown_book`.
struct SpreadRoutes: Sendable {
    let config: APIConfig
    let spreads: SpreadLibrary
    let cache: SpreadAnswerCache

    /// `Cache-Control` of an answer whose range reaches the present: half the book fetcher's
    /// default 10-second interval, so a CDN absorbs a storm and a client still sees each cycle.
    static let liveMaxAgeSeconds: Int64 = 5
    /// An answer whose range ended longer ago than this (and a bucket) no longer changes,
    /// except as retention drops it.
    static let settledAfterMilliseconds: Int64 = 60_000

    var collection: RouteCollection<APIRouter.Context> {
        let routes = RouteCollection(context: APIRouter.Context.self)
        routes.get("spreads", use: observations)
        routes.get("spreads/summary", use: summary)
        routes.get("alerts", use: alerts)
        return routes
    }

    func observations(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let book = try parameters.single("book")
        let (from, to) = try SpreadRoutes.range(parameters, now: now) { $0.adding(milliseconds: -3_600_000) }
        let books = try await selected(book)
        // Taken before the reads: a tag never names a version newer than its rows.
        let version = try await spreads.version()
        var rows: [SpreadObservation] = []
        for name in books {
            rows += try await spreads.observations(of: name, from: from, to: to, limit: config.maxPoints + 1)
            if rows.count > config.maxPoints { throw SeriesQuery.tooManyPoints(atLeast: Int64(rows.count), maxPoints: config.maxPoints) }
        }
        if books.count > 1 { rows.sort { ($0.observedAt, $0.book) < ($1.observedAt, $1.book) } }
        // The content's identity: which rows (a contiguous run of the stored ones) of which version.
        let tag = AssetRoutes.tag(
            ["spreads", "\(version)", book ?? "", "\(rows.count)", "\(rows.first?.observedAt.milliseconds ?? 0)", "\(rows.last?.observedAt.milliseconds ?? 0)", format.rawValue])
        return validators(tag, newest: rows.last?.observedAt, to: to, now: now).response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                format, &headers,
                json: {
                    let body = JSONObject([
                        ("book", book.map { .string($0) } ?? .null), ("count", .number(String(rows.count))), ("data", .array(rows.map(SpreadRendering.json))),
                    ])
                    return ByteBuffer(bytes: JSONWriter.encode(.object(body)))
                }(),
                csv: ByteBuffer(string: SpreadRendering.observationsCSVHeader + rows.map(SpreadRendering.csvLine).joined()), name: "spreads")
        }
    }

    func summary(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let book = try parameters.single("book")
        let width: SpreadSummary.Width
        if let text = try parameters.single("by") {
            guard let asked = SpreadSummary.Width(rawValue: text) else { throw APIError.invalid("by", "by must be hour or day") }
            width = asked
        } else {
            width = .hour
        }
        let span: Int64 = width == .hour ? 86_400_000 : 30 * 86_400_000
        let (from, to) = try SpreadRoutes.range(parameters, now: now) { $0.adding(milliseconds: -span) }
        // The buckets whose start lies within from...to.
        let floorFrom = width.start(of: from)
        let first = floorFrom == from ? from : floorFrom.adding(milliseconds: width.milliseconds)
        let last = width.start(of: to)
        let buckets = first > last ? 0 : (last.milliseconds - first.milliseconds) / width.milliseconds + 1
        if buckets > Int64(config.maxPoints) { throw SeriesQuery.tooManyPoints(atLeast: buckets, maxPoints: config.maxPoints) }
        let books = try await selected(book)
        let version = try await spreads.version()
        let key = SpreadAnswerCache.Key(books: books, all: book == nil, width: width, first: first.milliseconds, last: last.milliseconds, format: format)
        let rows: SpreadAnswerCache.Rows
        if let cached = cache.rows(key, version: version) {
            rows = cached
        } else {
            rows = try await summaryRows(books: books, all: book == nil, width: width, first: first, last: last, format: format, version: version)
            cache.remember(rows, as: key)
        }
        // The answer names the buckets' range, not the instants asked: equal answers (the
        // default range, asked again within the hour) share a tag and revalidate.
        let (shownFrom, shownTo) = first <= last ? (first, last) : (from, to)
        let tag = AssetRoutes.tag(
            ["summary", "\(version)", book ?? "", width.rawValue, "\(shownFrom.milliseconds)", "\(shownTo.milliseconds)", format.rawValue])
        return validators(tag, newest: rows.newest, to: to.adding(milliseconds: width.milliseconds), now: now).response(to: request, headers: [.vary: "Accept"])
        { headers in
            AssetRoutes.body(
                format, &headers,
                json: {
                    var head = JSONWriter(reservingCapacity: 160 + rows.bytes.count)
                    head.raw("{\"book\":")
                    head.value(book.map { .string($0) } ?? .null)
                    head.raw(",\"by\":\"\(width.rawValue)\",\"from\":\"\(shownFrom.iso8601)\",\"to\":\"\(shownTo.iso8601)\",\"count\":\(rows.count),\"data\":[")
                    var buffer = ByteBuffer(bytes: head.bytes)
                    buffer.writeBytes(rows.bytes)
                    buffer.writeString("]}")
                    return buffer
                }(),
                csv: {
                    var buffer = ByteBuffer(string: SpreadRendering.summaryCSVHeader)
                    buffer.writeBytes(rows.bytes)
                    return buffer
                }(), name: "spreads-summary")
        }
    }

    /// Every asked book's summaries in time order (books by name within a bucket), rendered.
    func summaryRows(
        books: [String], all: Bool, width: SpreadSummary.Width, first: Timestamp, last: Timestamp, format: ListQuery.Format, version: Int64
    ) async throws(APIError) -> SpreadAnswerCache.Rows {
        var summaries: [(book: String, summary: SpreadSummary)] = []
        guard first <= last else { return SpreadAnswerCache.Rows(version: version, bytes: [], count: 0, newest: nil) }
        for name in books {
            let rules = try await spreads.rules(of: name)
            summaries += try await spreads.summaries(of: name, rules: rules, width: width, first: first, last: last).map { (name, $0) }
        }
        if books.count > 1 { summaries.sort { ($0.summary.start, $0.book) < ($1.summary.start, $1.book) } }
        var bytes: [UInt8] = []
        for (index, (name, summary)) in summaries.enumerated() {
            switch format {
            case .json:
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes += JSONWriter.encode(SpreadRendering.json(summary, book: all ? name : nil))
            case .csv:
                bytes += SpreadRendering.csvLine(summary, book: name).utf8
            }
        }
        return SpreadAnswerCache.Rows(version: version, bytes: bytes, count: summaries.count, newest: summaries.last?.summary.start)
    }

    func alerts(_ request: Request, context: APIRouter.Context) async throws -> Response {
        let now = Timestamp.now
        let parameters = QueryParameters(request.uri.query)
        let format = try parameters.format(accept: request.headers[.accept])
        let book = try parameters.single("book")
        let openOnly: Bool
        switch try parameters.single("state") {
        case nil, "all": openOnly = false
        case "open": openOnly = true
        default: throw APIError.invalid("state", "state must be open or all")
        }
        // Every open episode by default; all of them over the retention by default.
        let retention = Int64(config.spreadRetentionDays) * 86_400_000
        let (from, to) =
            openOnly
            ? try SpreadRoutes.range(parameters, now: .latestRepresentable) { _ in .earliestPlausible }
            : try SpreadRoutes.range(parameters, now: now) { $0.adding(milliseconds: -retention) }
        if let book { _ = try await spreads.rules(of: book) }
        let version = try await spreads.version()
        let episodes =
            openOnly
            ? try await spreads.openEpisodes(book: book).filter { $0.startedAt >= from && $0.startedAt <= to }
            : try await spreads.episodes(book: book, from: from, to: to)
        if episodes.count > config.maxPoints { throw SeriesQuery.tooManyPoints(atLeast: Int64(episodes.count), maxPoints: config.maxPoints) }
        let tag = AssetRoutes.tag(
            ["alerts", "\(version)", book ?? "", "\(episodes.count)", episodes.first?.id ?? "", episodes.last?.id ?? "", format.rawValue])
        let newest = episodes.map { $0.endedAt ?? $0.startedAt }.max()
        // Open episodes change with any observation: never the settled max-age.
        return validators(tag, newest: newest, to: openOnly ? now : to, now: now).response(to: request, headers: [.vary: "Accept"]) { headers in
            AssetRoutes.body(
                format, &headers,
                json: ByteBuffer(
                    bytes: JSONWriter.encode(.object(JSONObject([("count", .number(String(episodes.count))), ("data", .array(episodes.map(\.json)))])))),
                csv: ByteBuffer(string: SpreadRendering.alertsCSVHeader + episodes.map(SpreadRendering.csvLine).joined()), name: "alerts")
        }
    }

    /// The books an answer covers: `asked` (404 unless monitored), or every monitored book.
    func selected(_ asked: String?) async throws(APIError) -> [String] {
        if let asked {
            _ = try await spreads.rules(of: asked)
            return [asked]
        }
        return try await spreads.books().keys.sorted()
    }

    /// An answer reaching the present may change with the next observation; one that ended a
    /// while ago stands for an hour.
    func validators(_ tag: String, newest: Timestamp?, to: Timestamp, now: Timestamp) -> ConditionalGET {
        let settled = to.milliseconds < now.milliseconds - SpreadRoutes.settledAfterMilliseconds
        return ConditionalGET(etag: tag, lastModified: newest ?? min(to, now), maxAgeSeconds: settled ? 3600 : SpreadRoutes.liveMaxAgeSeconds)
    }

    /// `from` and `to` (inclusive, every form `datetime` takes): `to` defaults to `now`,
    /// `from` to `defaultFrom(to)`; `from` after `to` is a 400.
    static func range(_ parameters: QueryParameters, now: Timestamp, defaultFrom: (Timestamp) -> Timestamp) throws(APIError) -> (Timestamp, Timestamp) {
        let to = try parameters.instant("to") ?? now
        let from = try parameters.instant("from") ?? defaultFrom(to)
        guard from <= to else {
            var error = APIError.invalid("from", "from must not be after to")
            error.details = [("from", .string(from.iso8601)), ("to", .string(to.iso8601))]
            throw error
        }
        return (from, to)
    }
}

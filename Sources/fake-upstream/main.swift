#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import Logging
import HTTPTypes
import NIOCore
import TopCoins

/// A stand-in for CoinMarketCap, CryptoCompare, CoinGecko and Bitso that replays the shipped payloads, for the
/// demo and the integration tests (no internet, no keys). Tests script faults through
/// `POST /_faults` and read what was asked of it from `GET /_requests`.
///
/// - `GET /v1/cryptocurrency/listings/latest?start=&limit=`: the CoinMarketCap listing, sliced.
/// - `GET /asset/v1/top/list?page=&page_size=`: CryptoCompare data-api pages (empty past the last).
/// - `GET /data/v2/histoday?fsym=&tsym=USD&limit=&toTs=`: CryptoCompare min-api daily candles of
///   every listed coin (see ``DailyHistory``), with its rate-limit body past 20 calls a second or
///   300 a minute.
/// - `GET /api/v3/coins/{id}/market_chart/range?vs_currency=usd&from=&to=`: CoinGecko's daily
///   prices of the same coins, by slug.
/// - `GET /v3/order_book/?book=btc_mxn|usd_mxn` (with or without the trailing slash): Bitso's
///   order books, moving on a seeded schedule (see ``BitsoBooks``); another book is Bitso's
///   `0301` under HTTP 400.
/// - `GET /api/v3/exchanges`, `/api/v3/exchanges/{id}/tickers` and `/_fixture/coingecko-exchanges`:
///   CoinGecko's exchanges and their tickers (see ``CoinGeckoExchanges``).
/// - `POST /_faults` `{"path": "...", "responses": [{"status": 429, "headers": {...},
///   "body_file": "errors/x.json" | "body": "...", "delay_ms": 0}]}`: answers for the next
///   requests to that path, in order; `DELETE /_faults` clears them.
/// - `GET /_requests`: every request so far (`path`, `query`, `headers`, `at_ms`: when it
///   arrived, unix ms; `body`, the text of a POST's body, at most 1 MiB) as JSON.
///
/// With `--walk-seed N` the CoinMarketCap prices move (for the demo): the first listing is the
/// shipped one and every later request for its first page moves each coin's
/// `quote.USD.price` one ``PriceWalk`` step, so the k-th listing of a seed is always the same
/// and the pages of one fetch agree. Without it every listing is the shipped one, which the
/// integration tests rely on.

struct ScriptedResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var delayMilliseconds: Int
}

actor UpstreamState {
    var faults: [String: [ScriptedResponse]] = [:]
    var requests: [JSONValue] = []
    private var listing: JSONValue
    private var walk: PriceWalk?
    private var listingsServed = 0

    init(listing: JSONValue, walk: PriceWalk?) {
        self.listing = listing
        self.walk = walk
    }

    /// The listing for a request from `start` (1-based): one walk step on when it asks for the
    /// first page of any listing but the first.
    func servedListing(start: Int) -> JSONValue {
        if start <= 1, walk != nil {
            if listingsServed > 0 { listing = walked(listing, &walk!) }
            listingsServed += 1
        }
        return listing
    }

    func record(_ request: JSONValue) { requests.append(request) }
    func nextFault(for path: String) -> ScriptedResponse? {
        guard var queue = faults[path], !queue.isEmpty else { return nil }
        let next = queue.removeFirst()
        faults[path] = queue
        return next
    }
    func add(_ responses: [ScriptedResponse], for path: String) { faults[path, default: []] += responses }
    func clear() {
        faults = [:]
        requests = []
    }
}

enum FakeUpstreamError: Error { case usage(String) }

struct Options {
    var port = 0
    var host = "127.0.0.1"
    var dataDirectory = "Config/demo/upstream"
    var walkSeed: UInt64?

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--port": port = Int(iterator.next() ?? "") ?? 0
            case "--host": host = iterator.next() ?? host
            case "--data": dataDirectory = iterator.next() ?? dataDirectory
            case "--walk-seed":
                guard let seed = UInt64(iterator.next() ?? "") else { Exit.usage("--walk-seed takes an unsigned integer") }
                walkSeed = seed
            default: Exit.usage("usage: fake-upstream [--port N] [--host ADDRESS] [--data DIR] [--walk-seed N]")
            }
        }
    }
}
let options = Options(Array(CommandLine.arguments.dropFirst()))
let dataDirectory = options.dataDirectory

func load(_ relative: String) -> [UInt8] {
    guard let bytes = ConfigFile.readFile("\(dataDirectory)/\(relative)") else { Exit.usage("cannot read \(dataDirectory)/\(relative)") }
    return bytes
}

let listing: JSONValue
do {
    listing = try JSONParser.parse(load("coinmarketcap/listings-latest.json"))
} catch {
    Exit.usage("the CoinMarketCap listing is not JSON: \(error)")
}
let toplistPages: [[UInt8]] = (1...).lazy.map { "cryptocompare/top-list-page-\($0).json" }
    .prefix { ConfigFile.readFile("\(dataDirectory)/\($0)") != nil }.map { load($0) }
let emptyToplistPage = Array(#"{"Data":{"STATS":{"PAGE":0,"PAGE_SIZE":100,"TOTAL_ASSETS":0},"LIST":[]},"Err":{}}"#.utf8)
let state = UpstreamState(listing: listing, walk: options.walkSeed.map(PriceWalk.init(seed:)))
let dailyHistory = DailyHistory(listing: listing)
let histodayCalls = CallCounter()
/// The books' schedule is the same for every seed; the seed moves prices and amounts.
let bitsoBooks = BitsoBooks(seed: options.walkSeed ?? 12)
/// The same exchanges for every seed: tests compute the tables from the fixture.
let coinGeckoExchanges = CoinGeckoExchanges(seed: 13)

func json(_ status: HTTPResponse.Status, _ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// `value` with its member at `path` replaced by `transform` of it; unchanged where the path
/// leads nowhere. Members keep their order.
func updating(_ value: JSONValue, at path: ArraySlice<String>, _ transform: (JSONValue) -> JSONValue) -> JSONValue {
    guard let key = path.first else { return transform(value) }
    guard case .object(let object) = value else { return value }
    var rebuilt = JSONObject()
    for (name, member) in object.members { rebuilt.append(name, name == key ? updating(member, at: path.dropFirst(), transform) : member) }
    return .object(rebuilt)
}

/// The listing with every coin's non-null `quote.USD.price` one walk step on.
func walked(_ listing: JSONValue, _ walk: inout PriceWalk) -> JSONValue {
    updating(listing, at: ["data"]) { data in
        guard case .array(let coins) = data else { return data }
        return .array(
            coins.map { coin in
                updating(coin, at: ["quote", "USD", "price"]) { price in
                    guard case .number(let literal) = price, let decimal = DecimalNumber(literal) else { return price }
                    return .number(walk.step(decimal).text)
                }
            })
    }
}

/// The listing's `data` from `start` (1-based), at most `limit` items, like CoinMarketCap.
func listingSlice(_ listing: JSONValue, start: Int, limit: Int) -> [UInt8] {
    guard case .object(var envelope) = listing, case .array(let data)? = listing["data"] else { return [] }
    let from = min(max(start - 1, 0), data.count)
    let slice = Array(data[from..<min(from + max(limit, 0), data.count)])
    var rebuilt = JSONObject()
    for (key, value) in envelope.members { rebuilt.append(key, key == "data" ? .array(slice) : value) }
    envelope = rebuilt
    return JSONWriter.encode(.object(envelope))
}

func scripted(_ body: JSONValue) throws -> (String, [ScriptedResponse]) {
    guard case .string(let path)? = body["path"], case .array(let list)? = body["responses"] else {
        throw FakeUpstreamError.usage("expected {\"path\": ..., \"responses\": [...]}")
    }
    var responses: [ScriptedResponse] = []
    for item in list {
        guard case .number(let status)? = item["status"], let code = Int(status) else { throw FakeUpstreamError.usage("status missing") }
        var headers: [(String, String)] = []
        if case .object(let object)? = item["headers"] {
            for (name, value) in object.members { if case .string(let text) = value { headers.append((name, text)) } }
        }
        var bytes: [UInt8] = []
        if case .string(let file)? = item["body_file"] { bytes = load(file) }
        if case .string(let text)? = item["body"] { bytes = Array(text.utf8) }
        var delay = 0
        if case .number(let literal)? = item["delay_ms"] { delay = Int(literal) ?? 0 }
        responses.append(ScriptedResponse(status: code, headers: headers, body: bytes, delayMilliseconds: delay))
    }
    return (path, responses)
}

let responder = CallbackResponder<BasicRequestContext> { request, context in
    let path = request.uri.path
    let query = request.uri.queryParameters
    switch (request.method, path) {
    case (.post, "/_faults"):
        let body = try await request.body.collect(upTo: 1 << 20)
        let (faultPath, responses) = try scripted(try JSONParser.parse(Array(buffer: body)))
        await state.add(responses, for: faultPath)
        return json(.ok, Array(#"{"ok":true}"#.utf8))
    case (.delete, "/_faults"):
        await state.clear()
        return json(.ok, Array(#"{"ok":true}"#.utf8))
    case (.get, "/_requests"):
        return json(.ok, JSONWriter.encode(.array(await state.requests)))
    case (.get, "/_fixture/coingecko-exchanges"):
        return json(.ok, coinGeckoExchanges.fixture)
    default:
        break
    }
    var headerObject = JSONObject()
    for field in request.headers { headerObject.append(field.name.canonicalName, .string(field.value)) }
    var queryObject = JSONObject()
    var queryValues: [String: String] = [:]
    for (name, value) in query {
        queryObject.append(String(name), .string(String(value)))
        queryValues[String(name)] = String(value)
    }
    let arrival = Timestamp.now
    var recorded = JSONObject([
        ("path", .string(path)), ("query", .object(queryObject)), ("headers", .object(headerObject)), ("at_ms", .number(String(arrival.milliseconds))),
    ])
    if request.method == .post {
        recorded.append("body", .string(String(decoding: Array(buffer: try await request.body.collect(upTo: 1 << 20)), as: UTF8.self)))
    }
    await state.record(.object(recorded))

    if let fault = await state.nextFault(for: path) {
        if fault.delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(fault.delayMilliseconds)) }
        var headers = HTTPFields()
        for (name, value) in fault.headers { if let field = HTTPField.Name(name) { headers[field] = value } }
        return json(HTTPResponse.Status(code: fault.status), fault.body, headers: headers)
    }
    switch path {
    case "/v1/cryptocurrency/listings/latest":
        let start = query["start"].flatMap { Int($0) } ?? 1
        let limit = query["limit"].flatMap { Int($0) } ?? 100
        return json(.ok, listingSlice(await state.servedListing(start: start), start: start, limit: limit))
    case "/asset/v1/top/list":
        let page = query["page"].flatMap { Int($0) } ?? 1
        return json(.ok, (1...toplistPages.count).contains(page) ? toplistPages[page - 1] : emptyToplistPage)
    case "/data/v2/histoday":
        // CryptoCompare answers its rate limit and unknown pairs under HTTP 200.
        if let limited = histodayCalls.count(at: arrival) { return json(.ok, limited) }
        return json(.ok, dailyHistory.histoday(query: queryValues, today: UTCDay(containing: arrival)))
    case "/v3/order_book/", "/v3/order_book":
        let answer = bitsoBooks.answer(book: queryValues["book"], at: arrival)
        return json(HTTPResponse.Status(code: answer.status), answer.body)
    case "/api/v3/exchanges":
        return json(.ok, coinGeckoExchanges.exchangesPage(query: queryValues))
    case let tickers where tickers.hasPrefix("/api/v3/exchanges/") && tickers.hasSuffix("/tickers"):
        let id = String(tickers.dropFirst("/api/v3/exchanges/".count).dropLast("/tickers".count))
        guard let body = coinGeckoExchanges.tickersPage(id: id, query: queryValues) else {
            return json(.notFound, Array(#"{"error":"exchange not found"}"#.utf8))
        }
        return json(.ok, body)
    case let chart where chart.hasPrefix("/api/v3/coins/") && chart.hasSuffix("/market_chart/range"):
        let slug = String(chart.dropFirst("/api/v3/coins/".count).dropLast("/market_chart/range".count))
        guard let body = dailyHistory.marketChart(slug: slug, query: queryValues, today: UTCDay(containing: arrival)) else {
            return json(.notFound, Array(#"{"error":"coin not found"}"#.utf8))
        }
        return json(.ok, body)
    default:
        return json(.notFound, Array(#"{"error":"no such path in the fake upstream"}"#.utf8))
    }
}

var logger = Logger(label: "fake-upstream")
logger.logLevel = .warning
let app = Application(
    responder: responder,
    configuration: .init(address: .hostname(options.host, port: options.port), serverName: "fake-upstream"),
    onServerRunning: { channel in
        // Tests and the demo script read the bound port from this line.
        StandardOutput.write("listening on \(options.host):\(channel.localAddress?.port ?? 0)\n")
    },
    logger: logger
)
do {
    try await app.runService()
} catch {
    // Most often the port is taken (another demo, another test run): say so in one line.
    StandardError.write("fake-upstream: cannot serve on \(options.host):\(options.port): \(error)\n")
    exit(1)
}

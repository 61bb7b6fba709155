import Foundation
import Testing

@testable import TopCoins

@Suite("HTTP API end to end", .serialized, .timeLimit(.minutes(3)))
struct HTTPAPITests {
    /// The top list computed here from the fixture files, independently of the library's merge:
    /// (symbol, plain-notation price) in ranking order.
    static func expectedRows() throws -> [(cmcId: Int, symbol: String, name: String, price: String, sourceRank: Int)] {
        let listing = try FetcherEndToEndTests.fixture("coinmarketcap/listings-latest.json")
        guard case .array(let coins)? = listing["data"] else { throw HarnessError("no data in the listing") }
        var prices: [Int: (symbol: String, name: String, price: String?)] = [:]
        for coin in coins {
            guard case .number(let id)? = coin["id"], let cmcId = Int(id), prices[cmcId] == nil,
                case .string(let symbol)? = coin["symbol"], case .string(let name)? = coin["name"]
            else { continue }
            var price: String?
            if case .number(let literal)? = coin["quote"]?["USD"]?["price"] { price = FetcherEndToEndTests.plainNotation(literal) }
            prices[cmcId] = (symbol, name, price)
        }
        var rows: [(cmcId: Int, symbol: String, name: String, price: String, sourceRank: Int)] = []
        var seen: Set<Int> = []
        var position = 0
        for page in 1...5 {
            guard case .array(let items)? = try FetcherEndToEndTests.fixture("cryptocompare/top-list-page-\(page).json")["Data"]?["LIST"] else {
                throw HarnessError("no LIST on page \(page)")
            }
            for item in items {
                position += 1
                var cmcId: Int?
                if case .array(let ids)? = item["ASSET_ALTERNATIVE_IDS"], let cmc = ids.first(where: { $0["NAME"] == .string("CMC") }) {
                    switch cmc["ID"] {
                    case .string(let text)?: cmcId = Int(text)
                    case .number(let text)?: cmcId = Int(text)
                    default: break
                    }
                }
                guard let cmcId, seen.insert(cmcId).inserted, let priced = prices[cmcId], let price = priced.price else { continue }
                rows.append((cmcId, priced.symbol, priced.name, price, position))
            }
        }
        return rows
    }

    /// RFC 4180 quoting, written here for the comparison.
    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// A running pipeline: both fetchers published once, merged, and the API serving it.
    static func withPipeline(_ body: (TestBed, APIServer, Timestamp) async throws -> Void) async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger()
            let api = try await bed.startAPI()
            try await bed.publishPair()
            let timestamp = try await bed.waitForSnapshot(merger: merger)
            try await api.waitForServing(timestamp)
            try await body(bed, api, timestamp)
        }
    }

    @Test("limit=200 as CSV and JSON equals the join computed from the fixture files")
    func top200MatchesTheFixtures() async throws {
        let expected = try Self.expectedRows()
        #expect(expected.count == 455)
        try await Self.withPipeline { _, api, timestamp in
            let csv = try await api.request("/?limit=200&format=csv")
            #expect(csv.status == 200)
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv; charset=utf-8") == true)
            let expectedCSV = "Rank,Symbol,Price USD\r\n" + expected.prefix(200).enumerated().map { index, row in
                "\(index + 1),\(Self.csvField(row.symbol)),\(row.price)\r\n"
            }.joined()
            #expect(csv.bodyText == expectedCSV)

            let json = try await api.request("/?limit=200")
            #expect(json.status == 200)
            #expect(json.header("Content-Type") == "application/json; charset=utf-8")
            let document = try JSONParser.parse(json.body)
            #expect(document["timestamp"] == .string(timestamp.iso8601))
            #expect(document["count"] == .number("200"))
            #expect(document["total"] == .number("455"))
            guard case .array(let data)? = document["data"] else { throw HarnessError("no data") }
            #expect(data.count == 200)
            for (index, (row, expectedRow)) in zip(data, expected).enumerated() {
                #expect(row["rank"] == .number(String(index + 1)))
                #expect(row["cmc_id"] == .number(String(expectedRow.cmcId)))
                #expect(row["symbol"] == .string(expectedRow.symbol))
                #expect(row["name"] == .string(expectedRow.name))
                #expect(row["price_usd"] == .number(expectedRow.price))
                #expect(row["source_rank"] == .number(String(expectedRow.sourceRank)))
            }
            // Never an exponent, even for the fixture's tiny prices.
            let all = try await api.request("/?limit=5000&format=csv")
            #expect(all.bodyText.split(separator: "\r\n").count == 456)
            #expect(!all.bodyText.contains("e-") && !all.bodyText.contains("e+"))
        }
    }

    @Test("a datetime equal to an earlier snapshot's timestamp returns exactly what the API returned then")
    func pastSnapshotIsReturnedByteForByte() async throws {
        try await Self.withPipeline { bed, api, first in
            let thenJSON = try await api.request("/?limit=50")
            let thenCSV = try await api.request("/?limit=50&format=csv")
            try await Task.sleep(for: .milliseconds(20))
            try await bed.publishPair()
            // The price message alone may merge first (new prices, old ranking): wait for the pair.
            let second = try await bed.newestPairTimestamp()
            try await api.waitForServing(second)

            let pastJSON = try await api.request("/?limit=50&datetime=\(first.iso8601)")
            #expect(pastJSON.status == 200)
            #expect(pastJSON.body == thenJSON.body)
            let pastCSV = try await api.request("/?limit=50&format=csv&datetime=\(first.iso8601)")
            #expect(pastCSV.body == thenCSV.body)
            #expect(pastJSON.header("Cache-Control") == "public, max-age=3600")
            #expect(pastJSON.header("X-Snapshot-Age") == nil)
        }
    }

    @Test("history lookups at, before, between and after snapshots, with the tolerance")
    func historyLookups() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger()
            let api = try await bed.startAPI { $0 = $0.setting(["history_tolerance_seconds"], .number("600")) }
            let minute: Int64 = 60_000
            let base = Timestamp(iso8601: "2024-05-14T06:00:00Z")!.milliseconds
            var previous: Timestamp?
            for offset in [0, 10 * minute] {
                try await MergerTests.publishPair(bed, priceAt: base + offset, rankAt: base + offset, price: "1\(offset / minute).5")
                previous = try await bed.waitForSnapshot(after: previous, merger: merger)
            }
            try await api.waitForServing(Timestamp(milliseconds: base + 10 * minute))
            func served(_ instant: String) async throws -> (Int, JSONValue) {
                let response = try await api.request("/?datetime=\(instant)")
                return (response.status, try JSONParser.parse(response.body))
            }
            // At a snapshot, between two, and after the last within the tolerance.
            #expect(try await served("2024-05-14T06:00:00Z").1["timestamp"] == .string("2024-05-14T06:00:00.000Z"))
            #expect(try await served("2024-05-14T06:09:59.999Z").1["timestamp"] == .string("2024-05-14T06:00:00.000Z"))
            #expect(try await served("2024-05-14T08:10:00%2B02:00").1["timestamp"] == .string("2024-05-14T06:10:00.000Z"))
            #expect(try await served("1715667600").1["timestamp"] == .string("2024-05-14T06:10:00.000Z"))
            #expect(try await served("2024-05-14T06:20:00Z").1["timestamp"] == .string("2024-05-14T06:10:00.000Z"))
            #expect(try await served("2024-05-14T06:00:00Z").1["data"]?.arrayCount == 1)

            // Before the first snapshot, and past the tolerance after the last: 404 with bounds.
            for instant in ["2024-05-14T05:59:59.999Z", "2024-05-14T06:20:00.001Z", "2024-05-14"] {
                let (status, body) = try await served(instant)
                #expect(status == 404)
                #expect(body["error"]?["code"] == .string("no_snapshot_at_datetime"))
                #expect(body["error"]?["parameter"] == .string("datetime"))
                #expect(body["error"]?["earliest"] == .string("2024-05-14T06:00:00.000Z"))
                #expect(body["error"]?["latest"] == .string("2024-05-14T06:10:00.000Z"))
            }
        }
    }

    @Test("every bad request is a 4xx with the JSON error naming the parameter")
    func badRequests() async throws {
        try await Self.withPipeline { _, api, _ in
            let cases: [(String, Int, String, String?)] = [
                ("/?limit=0", 400, "invalid_limit", "limit"),
                ("/?limit=5001", 400, "invalid_limit", "limit"),
                ("/?limit=-3", 400, "invalid_limit", "limit"),
                ("/?limit=2.5", 400, "invalid_limit", "limit"),
                ("/?limit=", 400, "invalid_limit", "limit"),
                ("/?limit=99999999999999999999999", 400, "invalid_limit", "limit"),
                ("/?limit=1&limit=2", 400, "invalid_limit", "limit"),
                ("/?format=xml", 400, "invalid_format", "format"),
                ("/?datetime=not-a-date", 400, "invalid_datetime", "datetime"),
                ("/?datetime=2999-01-01T00:00:00Z", 400, "invalid_datetime", "datetime"),
                ("/?datetime=%F0%9F%92%A9", 400, "invalid_datetime", "datetime"),
                ("/?limit=" + String(repeating: "9", count: 5000), 400, "invalid_limit", "limit"),
                ("/nowhere", 404, "not_found", nil),
            ]
            for (path, status, code, parameter) in cases {
                let response = try await api.request(path)
                #expect(response.status == status, "\(path)")
                #expect(response.header("Content-Type") == "application/json; charset=utf-8", "\(path)")
                let error = try JSONParser.parse(response.body)["error"]
                #expect(error?["status"] == .number(String(status)), "\(path)")
                #expect(error?["code"] == .string(code), "\(path)")
                #expect(error?["parameter"] == parameter.map { .string($0) }, "\(path)")
                if case .string(let message)? = error?["message"] { #expect(!message.isEmpty) } else { Issue.record("no message for \(path)") }
            }
            for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
                let response = try await api.request("/", method: method)
                #expect(response.status == 405, "\(method)")
                #expect(response.header("Allow") == "GET, HEAD")
                #expect(try JSONParser.parse(response.body)["error"]?["code"] == .string("method_not_allowed"))
            }
        }
    }

    @Test("caching headers, 304 on If-None-Match, HEAD, Accept negotiation")
    func headersAndNegotiation() async throws {
        try await Self.withPipeline { _, api, timestamp in
            let response = try await api.request("/?limit=10")
            let etag = try #require(response.header("ETag"))
            #expect(response.header("Last-Modified") == timestamp.httpDate)
            #expect(response.header("Cache-Control")?.hasPrefix("public, max-age=") == true)
            #expect(response.header("X-Snapshot-Age") != nil)
            #expect(response.header("X-Snapshot-Stale") == nil)

            let notModified = try await api.request("/?limit=10", headers: [("If-None-Match", etag)])
            #expect(notModified.status == 304)
            #expect(notModified.body.isEmpty)
            #expect(notModified.header("ETag") == etag)
            let otherLimit = try await api.request("/?limit=11", headers: [("If-None-Match", etag)])
            #expect(otherLimit.status == 200)

            let head = try await api.request("/?limit=10", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.header("Content-Length") == String(response.body.count))

            let csv = try await api.request("/?limit=3", headers: [("Accept", "text/csv")])
            #expect(csv.bodyText.hasPrefix("Rank,Symbol,Price USD\r\n"))
            #expect(csv.header("ETag") != etag)
            let json = try await api.request("/?limit=3", headers: [("Accept", "text/csv;q=0.5, application/json")])
            #expect(json.header("Content-Type") == "application/json; charset=utf-8")
        }
    }

    @Test("stale data is still served, flagged; /ready says why it is not ready")
    func staleData() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger()
            let api = try await bed.startAPI { $0 = $0.setting(["stale_after_seconds"], .number("1")) }
            try await MergerTests.publishPair(bed, priceAt: Timestamp.now.milliseconds - 5000, rankAt: Timestamp.now.milliseconds - 5000)
            let timestamp = try await bed.waitForSnapshot(merger: merger)
            try await api.waitForServing(timestamp)
            let response = try await api.request("/?limit=1")
            #expect(response.status == 200)
            #expect(response.header("X-Snapshot-Stale") == "true")
            #expect(Int(response.header("X-Snapshot-Age") ?? "") ?? 0 >= 5)
            let ready = try await api.request("/ready")
            #expect(ready.status == 503)
            let readiness = try JSONParser.parse(ready.body)
            #expect(readiness["status"] == .string("not_ready"))
            guard case .array(let reasons)? = readiness["reasons"] else { throw HarnessError("no reasons") }
            #expect(reasons.first == .string("snapshot_stale"))
            #expect(reasons.allSatisfy { reason in
                guard case .string(let text) = reason else { return false }
                return text == "snapshot_stale" || text.hasPrefix("stalled:")
            })
        }
    }

    @Test("before the first snapshot: 503 with Retry-After; /health is up, /ready is not")
    func noSnapshotYet() async throws {
        try await TestBed.with { bed in
            let api = try await bed.startAPI()
            let response = try await api.request("/")
            #expect(response.status == 503)
            #expect(response.header("Retry-After") != nil)
            #expect(try JSONParser.parse(response.body)["error"]?["code"] == .string("unavailable"))
            #expect(try await api.request("/health").status == 200)
            let ready = try await api.request("/ready")
            #expect(ready.status == 503)
            #expect(try JSONParser.parse(ready.body)["reasons"] == .array([.string("no_snapshot")]))
            let spec = try await api.request("/openapi.yaml")
            #expect(spec.status == 200)
            #expect(spec.body == Array(try Data(contentsOf: BuildProducts.packageRoot.appendingPathComponent("oas.yaml"))))
            #expect(try await api.process.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case .array(let elements) = self { return elements.count }
        return nil
    }
}

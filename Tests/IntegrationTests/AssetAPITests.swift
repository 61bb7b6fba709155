import Foundation
import Testing

@testable import TopCoins

/// The asset routes over real sockets, with the built merger and API on a real Redis: the
/// series the API serves say exactly what its top lists at each instant said.
@Suite("Asset API", .serialized)
struct AssetAPITests: ReadsJSONAnswers {
    @Test("each asset's points are exactly its rows in /?datetime= of each snapshot, and each bucket the OHLC of those rows")
    func seriesEqualTheTopListsAtEachInstant() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger()
            let api = try await bed.startAPI()
            let market = MovingMarket()
            let now = Timestamp.now.milliseconds
            var times: [Timestamp] = []
            for step in 0..<30 {
                let time = Timestamp(milliseconds: now - 150 * 60_000 + Int64(step) * 5 * 60_000 + Int64(step % 4) * 7)
                try await bed.publish(market, step: step, at: time)
                try await Faults.waitUntil("snapshot \(step)") { try await bed.latestSnapshot() == time }
                times.append(time)
            }
            try await api.waitForServing(times.last!)
            // The oracle: every row of every top list, read back through `/?datetime=`.
            var rows: [Int64: [(Int64, String)]] = [:]
            for time in times {
                let page = try Self.json(try await api.request("/?limit=5000&datetime=\(time.iso8601)"))
                #expect(Self.text(page["timestamp"]) == time.iso8601)
                for row in Self.array(page["data"]) {
                    rows[Int64(Self.text(row["cmc_id"])!)!, default: []].append((time.milliseconds, Self.text(row["price_usd"])!))
                }
            }
            let range = "from=\(times.first!.iso8601)&to=\(times.last!.iso8601)"
            for id in rows.keys.sorted() {
                let expected = rows[id]!
                let raw = try Self.json(try await api.request("/assets/\(id)/prices?\(range)"))
                let served = Self.array(raw["data"]).map { (Timestamp(iso8601: Self.text($0["timestamp"])!)!.milliseconds, Self.text($0["price"])!) }
                #expect(SeriesStoreTests.same(served, expected), "asset \(id) raw")
                #expect(Self.array(raw["data"]).allSatisfy { Self.text($0["resolution"]) == "raw" })
                for (interval, width) in [("15m", Int64(900_000)), ("1h", Int64(3_600_000))] {
                    // Whole buckets: from the bucket of the first point to the last one.
                    let start = Timestamp(milliseconds: times.first!.milliseconds / width * width)
                    let answer = try Self.json(try await api.request("/assets/\(id)/prices?interval=\(interval)&from=\(start.iso8601)&to=\(times.last!.iso8601)"))
                    let buckets = Self.array(answer["data"]).map { bucket in
                        (
                            Timestamp(iso8601: Self.text(bucket["timestamp"])!)!.milliseconds, Self.text(bucket["open"])!, Self.text(bucket["high"])!,
                            Self.text(bucket["low"])!, Self.text(bucket["close"])!, Int(Self.text(bucket["count"])!)!
                        )
                    }
                    #expect(SeriesStoreTests.sameBuckets(buckets, SeriesStoreTests.ohlc(expected, width: width)), "asset \(id) \(interval)")
                }
            }
            // The same answers in CSV: a header and one line per point.
            let csv = String(decoding: try await api.request("/assets/1/prices?\(range)&format=csv").body, as: UTF8.self)
            #expect(csv.split(separator: "\r\n").first == "timestamp,price,resolution")
            #expect(csv.split(separator: "\r\n").count == rows[1]!.count + 1)
            // The rename: the newest symbol, one series across it.
            let renamed = try Self.json(try await api.request("/assets/3"))
            #expect(Self.text(renamed["symbol"]) == "NEW")
            #expect(Self.array(try Self.json(try await api.request("/assets/NEW/prices?\(range)"))["data"]).count == times.count)
            #expect(try await api.request("/assets/OLD").status == 404)
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("caching headers, 304, HEAD, the error shape and the point limit on the asset routes")
    func cachingAndErrors() async throws {
        try await TestBed.with { bed in
            _ = try bed.startMerger()
            let api = try await bed.startAPI { $0 = $0.setting(["max_points"], .number("5")) }
            let market = MovingMarket()
            let now = Timestamp.now.milliseconds
            for step in 0..<8 {
                let time = Timestamp(milliseconds: now - 60 * 60_000 + Int64(step) * 60_000)
                try await bed.publish(market, step: step, at: time)
                try await Faults.waitUntil("snapshot \(step)") { try await bed.latestSnapshot() == time }
            }
            try await Faults.waitUntil("catalogue served") { try await api.request("/assets/1").status == 200 }
            let from = Timestamp(milliseconds: now - 60 * 60_000).iso8601
            let path = "/assets/1/prices?from=\(from)&to=\(Timestamp(milliseconds: now - 57 * 60_000).iso8601)"
            let first = try await api.request(path)
            #expect(first.status == 200)
            let etag = try #require(first.header("ETag"))
            #expect(first.header("Cache-Control")?.hasPrefix("public, max-age=") == true && first.header("Last-Modified") != nil)
            #expect(try await api.request(path, headers: [("If-None-Match", etag)]).status == 304)
            let head = try await api.request(path, method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty && head.header("ETag") == etag)
            // Eight points are more than max_points 5: a 400 naming the parameter, raw or bucketed.
            let tooMany = try await api.request("/assets/1/prices?from=\(from)")
            #expect(tooMany.status == 400)
            let tooManyError = try Self.json(tooMany)["error"]
            #expect(Self.text(tooManyError?["code"]) == "range_too_large" && Self.text(tooManyError?["parameter"]) == "from")
            #expect(try await api.request("/assets/1/prices?from=\(from)&interval=1m").status == 400)
            for (request, status, code) in [
                ("/assets/999999/prices", 404, "unknown_asset"), ("/assets/1/prices?interval=2h", 400, "invalid_interval"),
                ("/assets/1/prices?from=yesterday", 400, "invalid_from"), ("/assets/1/prices?from=2026-01-02&to=2026-01-01", 400, "invalid_from"),
                ("/assets?limit=0", 400, "invalid_limit"), ("/assets/1/prices?format=xml", 400, "invalid_format"),
            ] {
                let response = try await api.request(request)
                #expect(response.status == status, "\(request)")
                #expect(Self.text(try Self.json(response)["error"]?["code"]) == code, "\(request)")
            }
            #expect(try await api.request("/assets/1/prices", method: "POST").status == 405)
        }
    }

    @Test("the catalogue on the demo data: every listed coin, the three HOTs, non-ASCII symbols, and a renamed asset")
    func catalogueOnTheDemoData() async throws {
        try await TestBed.with { bed in
            let root = BuildProducts.packageRoot.path
            let seeded = try await bed.run("demo-history", arguments: ["\(root)/Config/demo", "60", "1"], environment: ["DEMO_UPSTREAM": "127.0.0.1:1"])
            try #require(seeded.status == .exited(0), "\(seeded.stderr)")
            let api = try await bed.startAPI()
            try await Faults.waitUntil("catalogue served") { try await api.request("/assets/1").status == 200 }
            // Every coin of the shipped listing, read independently of the fetcher's mapping.
            let listing = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(root)/Config/demo/upstream/coinmarketcap/listings-latest.json"))))
            let listed = Set(Self.array(listing["data"]).compactMap { Self.text($0["id"]) })
            let catalogue = try Self.json(try await api.request("/assets?limit=5000"))
            #expect(Set(Self.array(catalogue["data"]).compactMap { Self.text($0["cmc_id"]) }) == listed)
            #expect(Self.text(catalogue["total"]) == String(listed.count))
            let hots = try Self.json(try await api.request("/assets?symbol=HOT"))
            #expect(Self.array(hots["data"]).count == 3)
            let ambiguous = try await api.request("/assets/HOT")
            let candidates = Self.array(try Self.json(ambiguous)["error"]?["candidates"])
            #expect(ambiguous.status == 409 && candidates.count == 3)
            #expect(try await api.request("/assets?symbol=hot").body == Array(#"{"count":0,"total":0,"data":[]}"#.utf8))
            for symbol in ["Ω", "币安币", "ÆTERNA"] {
                let encoded = symbol.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let one = try Self.json(try await api.request("/assets/\(encoded)"))
                #expect(Self.text(one["symbol"]) == symbol)
            }
            #expect(Self.array(try Self.json(try await api.request("/assets?search=%CE%A9"))["data"]).count >= 1)
            // Polygon was "Matic Network" in the first half of the seeded day.
            let polygon = try Self.json(try await api.request("/assets/3890"))
            #expect(Self.text(polygon["name"]) == "Polygon")
            let early = try #require(try await bed.historyTimestamps().first)
            let oldList = try Self.json(try await api.request("/?limit=5000&datetime=\(Timestamp(milliseconds: early).iso8601)"))
            #expect(Self.array(oldList["data"]).first { Self.text($0["cmc_id"]) == "3890" }.flatMap { Self.text($0["name"]) } == "Matic Network")
            #expect(Self.array(try Self.json(try await api.request("/assets/3890/prices?from=\(Timestamp(milliseconds: early).iso8601)"))["data"]).count == 60)
        }
    }
}

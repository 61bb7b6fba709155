import NIOCore

/// One asset's points in one span, folded to the asked width and rendered once, when the span
/// is read: JSON objects (each followed by a comma) and CSV lines laid end to end, with where
/// each point ends. A series answer is then a few slices of cached bytes, whatever its length.
struct RenderedSpan: Sendable {
    let buckets: [PriceBucket]
    let json: [UInt8]
    let jsonEnds: [Int]
    let csv: [UInt8]
    let csvEnds: [Int]

    /// `raw`: the shape of an answer without `interval` (`timestamp, price, resolution`, the
    /// price of a bucket being its close); otherwise the OHLC shape.
    init(_ buckets: [PriceBucket], raw: Bool) {
        self.buckets = buckets
        var json = JSONWriter(reservingCapacity: buckets.count * (raw ? 90 : 220))
        var csv: [UInt8] = []
        csv.reserveCapacity(buckets.count * (raw ? 64 : 160))
        var jsonEnds: [Int] = []
        var csvEnds: [Int] = []
        jsonEnds.reserveCapacity(buckets.count)
        csvEnds.reserveCapacity(buckets.count)
        for bucket in buckets {
            let time = bucket.start.iso8601
            let resolution = SeriesQuery.Interval.label(width: bucket.width)
            if raw {
                json.raw("{\"timestamp\":\"\(time)\",\"price\":\(bucket.price.text),\"resolution\":\"\(resolution)\"},")
                csv.append(contentsOf: "\(time),\(bucket.price.text),\(resolution)\r\n".utf8)
            } else {
                json.raw("{\"timestamp\":\"\(time)\",\"open\":\(bucket.open.text),\"high\":\(bucket.high.text),\"low\":\(bucket.low.text),")
                // A backfilled candle summarises none of TopCoins' points: its count is null.
                let count = bucket.source == nil ? String(bucket.count) : nil
                json.raw("\"close\":\(bucket.close.text),\"count\":\(count ?? "null"),\"source\":")
                json.string(bucket.source ?? AssetRendering.ownSource)
                json.raw(",\"resolution\":\"\(resolution)\"},")
                csv.append(contentsOf: "\(time),\(bucket.open.text),\(bucket.high.text),\(bucket.low.text),\(bucket.close.text),\(count ?? ""),".utf8)
                RenderedSnapshot.appendCSVField(bucket.source ?? AssetRendering.ownSource, to: &csv)
                csv.append(contentsOf: ",\(resolution)\r\n".utf8)
            }
            jsonEnds.append(json.bytes.count)
            csvEnds.append(csv.count)
        }
        self.json = json.bytes
        self.jsonEnds = jsonEnds
        self.csv = csv
        self.csvEnds = csvEnds
    }

    /// Rows rendered by their owner (an indicator table's), sliced as a span's points are:
    /// `json` holds one object and a comma per bucket, `csv` one line each, ending at the ends.
    init(buckets: [PriceBucket], json: [UInt8], jsonEnds: [Int], csv: [UInt8], csvEnds: [Int]) {
        self.buckets = buckets
        self.json = json
        self.jsonEnds = jsonEnds
        self.csv = csv
        self.csvEnds = csvEnds
    }

    /// The points whose start lies in `from...to` (the buckets are ascending).
    func indexes(from: Timestamp, to: Timestamp) -> Range<Int> {
        func firstIndex(notBelow time: Timestamp) -> Int {
            var (low, high) = (0, buckets.count)
            while low < high {
                let middle = (low + high) / 2
                if buckets[middle].start < time { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let lower = firstIndex(notBelow: from)
        let upper = to == .latestRepresentable ? buckets.count : firstIndex(notBelow: to.adding(milliseconds: 1))
        return lower..<max(lower, upper)
    }
}

/// The slices of rendered spans that make one series answer, in time order.
struct SeriesSlices: Sendable {
    var parts: [(span: RenderedSpan, indexes: Range<Int>)] = []

    var count: Int { parts.reduce(0) { $0 + $1.indexes.count } }
    var first: PriceBucket? { parts.first { !$0.indexes.isEmpty }.map { $0.span.buckets[$0.indexes.lowerBound] } }
    var last: PriceBucket? { parts.last { !$0.indexes.isEmpty }.map { $0.span.buckets[$0.indexes.upperBound - 1] } }
    /// The points themselves, in time order.
    var buckets: [PriceBucket] { parts.flatMap { $0.span.buckets[$0.indexes] } }

    /// The bytes of the points, JSON objects joined by commas or CSV lines.
    func write(json: Bool, to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        for (span, indexes) in parts where !indexes.isEmpty {
            let (bytes, ends) = json ? (span.json, span.jsonEnds) : (span.csv, span.csvEnds)
            let from = indexes.lowerBound == 0 ? 0 : ends[indexes.lowerBound - 1]
            bytes.withUnsafeBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[from..<ends[indexes.upperBound - 1]])) }
        }
        // Each JSON object carries a comma after it; the last one's goes.
        if json, buffer.writerIndex > start { buffer.moveWriterIndex(to: buffer.writerIndex - 1) }
    }

    /// A JSON answer: `head` (which opens the `data` array), the points, and the closing `]}`.
    func jsonAnswer(head: JSONWriter) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.bytes.count + byteCount + 2)
        buffer.writeBytes(head.bytes)
        write(json: true, to: &buffer)
        buffer.writeString("]}")
        return buffer
    }

    var byteCount: Int {
        parts.reduce(0) { total, part in
            guard !part.indexes.isEmpty else { return total }
            let from = part.indexes.lowerBound == 0 ? 0 : part.span.jsonEnds[part.indexes.lowerBound - 1]
            return total + part.span.jsonEnds[part.indexes.upperBound - 1] - from
        }
    }
}

/// The JSON and CSV shapes of the asset routes (see oas.yaml).
enum AssetRendering {
    /// The `source` of points TopCoins recorded itself (backfilled candles name their upstream).
    static let ownSource = "topcoins"

    static let listCSVHeader = "cmc_id,symbol,name,first_seen,last_seen,rank\r\n"
    static let rawCSVHeader = "timestamp,price,resolution\r\n"
    static let bucketCSVHeader = "timestamp,open,high,low,close,count,source,resolution\r\n"

    static func object(_ asset: AssetLibrary.Asset) -> JSONObject {
        JSONObject([
            ("cmc_id", .number(String(asset.entry.cmcId))), ("symbol", .string(asset.entry.symbol)), ("name", .string(asset.entry.name)),
            ("first_seen", .string(asset.entry.firstSeen.iso8601)), ("last_seen", .string(asset.entry.lastSeen.iso8601)),
            ("rank", asset.rank.map { .number(String($0)) } ?? .null),
        ])
    }

    static func listJSON(_ assets: [AssetLibrary.Asset], total: Int) -> ByteBuffer {
        let body = JSONObject([("count", .number(String(assets.count))), ("total", .number(String(total))), ("data", .array(assets.map { .object(object($0)) }))])
        return ByteBuffer(bytes: JSONWriter.encode(.object(body)))
    }

    static func listCSV(_ assets: [AssetLibrary.Asset]) -> ByteBuffer {
        var bytes = Array(listCSVHeader.utf8)
        for asset in assets {
            bytes.append(contentsOf: "\(asset.entry.cmcId),".utf8)
            RenderedSnapshot.appendCSVField(asset.entry.symbol, to: &bytes)
            bytes.append(UInt8(ascii: ","))
            RenderedSnapshot.appendCSVField(asset.entry.name, to: &bytes)
            bytes.append(contentsOf: ",\(asset.entry.firstSeen.iso8601),\(asset.entry.lastSeen.iso8601),\(asset.rank.map(String.init) ?? "")\r\n".utf8)
        }
        return ByteBuffer(bytes: bytes)
    }

    static func oneJSON(_ asset: AssetLibrary.Asset) -> ByteBuffer {
        ByteBuffer(bytes: JSONWriter.encode(.object(object(asset))))
    }

    static func oneCSV(_ asset: AssetLibrary.Asset) -> ByteBuffer { listCSV([asset]) }

    /// What every series answer opens with: `{"cmc_id":...,"from":...,"to":...` (no comma after).
    static func seriesHead(_ asset: AssetLibrary.Asset, query: SeriesQuery) -> JSONWriter {
        var head = JSONWriter(reservingCapacity: 256)
        head.raw("{\"cmc_id\":\(asset.entry.cmcId),\"symbol\":")
        head.string(asset.entry.symbol)
        head.raw(",\"name\":")
        head.string(asset.entry.name)
        head.raw(",\"currency\":\"USD\",\"interval\":\"\(SeriesQuery.Interval.label(width: query.width))\",")
        head.raw("\"from\":\"\(query.from.iso8601)\",\"to\":\"\(query.to.iso8601)\"")
        return head
    }

    static func pricesJSON(_ asset: AssetLibrary.Asset, query: SeriesQuery, points: SeriesSlices) -> ByteBuffer {
        var head = seriesHead(asset, query: query)
        head.raw(",\"count\":\(points.count),\"data\":[")
        return points.jsonAnswer(head: head)
    }

    static func pricesCSV(query: SeriesQuery, points: SeriesSlices) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString(query.interval == nil ? rawCSVHeader : bucketCSVHeader)
        points.write(json: false, to: &buffer)
        return buffer
    }
}

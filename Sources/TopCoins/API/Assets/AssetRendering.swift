import NIOCore

/// One point of a series with its JSON object and CSV line rendered once, when its span is
/// read: a series answer is then a concatenation of cached bytes.
struct RenderedPoint: Sendable {
    let bucket: PriceBucket
    let json: [UInt8]
    let csv: [UInt8]

    /// `raw`: the shape of an answer without `interval` (`timestamp, price, resolution`, the
    /// price of a bucket being its close); otherwise the OHLC shape.
    init(_ bucket: PriceBucket, raw: Bool) {
        self.bucket = bucket
        let time = bucket.start.iso8601
        let resolution = SeriesQuery.Interval.label(width: bucket.width)
        var json = JSONWriter(reservingCapacity: raw ? 80 : 200)
        var csv: [UInt8] = []
        if raw {
            json.raw("{\"timestamp\":\"\(time)\",\"price\":\(bucket.price.text),\"resolution\":\"\(resolution)\"}")
            csv.append(contentsOf: "\(time),\(bucket.price.text),\(resolution)\r\n".utf8)
        } else {
            let prices = "\(bucket.open.text),\(bucket.high.text),\(bucket.low.text),\(bucket.close.text)"
            json.raw("{\"timestamp\":\"\(time)\",\"open\":\(bucket.open.text),\"high\":\(bucket.high.text),\"low\":\(bucket.low.text),")
            json.raw("\"close\":\(bucket.close.text),\"count\":\(bucket.count),\"source\":\"\(AssetRendering.ownSource)\",\"resolution\":\"\(resolution)\"}")
            csv.append(contentsOf: "\(time),\(prices),\(bucket.count),\(AssetRendering.ownSource),\(resolution)\r\n".utf8)
        }
        self.json = json.bytes
        self.csv = csv
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

    static func pricesJSON(_ asset: AssetLibrary.Asset, query: SeriesQuery, points: [RenderedPoint]) -> ByteBuffer {
        var head = JSONWriter(reservingCapacity: 256)
        head.raw("{\"cmc_id\":\(asset.entry.cmcId),\"symbol\":")
        head.string(asset.entry.symbol)
        head.raw(",\"name\":")
        head.string(asset.entry.name)
        head.raw(",\"currency\":\"USD\",\"interval\":\"\(SeriesQuery.Interval.label(width: query.width))\",")
        head.raw("\"from\":\"\(query.from.iso8601)\",\"to\":\"\(query.to.iso8601)\",\"count\":\(points.count),\"data\":[")
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.bytes.count + points.reduce(2) { $0 + $1.json.count + 1 })
        buffer.writeBytes(head.bytes)
        for (index, point) in points.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeBytes(point.json)
        }
        buffer.writeString("]}")
        return buffer
    }

    static func pricesCSV(query: SeriesQuery, points: [RenderedPoint]) -> ByteBuffer {
        let header = query.interval == nil ? rawCSVHeader : bucketCSVHeader
        var buffer = ByteBuffer()
        buffer.reserveCapacity(header.utf8.count + points.reduce(0) { $0 + $1.csv.count })
        buffer.writeString(header)
        for point in points { buffer.writeBytes(point.csv) }
        return buffer
    }
}

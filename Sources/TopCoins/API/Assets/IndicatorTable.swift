import NIOCore

/// An asset's closes at one interval with indicator columns, computed over all the history
/// kept at that interval and rendered once, as a `RenderedSpan` of rows: an answer for any
/// range is a slice of it. So a value never depends on the range asked (EMA and RSI are
/// warmed up on every point before it, not on a window of them), and a request the cache
/// holds costs a binary search and a copy.
struct IndicatorTable: Sendable {
    let rows: RenderedSpan
    /// The start of the newest point coarser than the interval (retention kept only hour or
    /// day buckets there): the table starts after it, and a range reaching back to it is one
    /// the interval cannot serve.
    let coarserUntil: Timestamp?
    /// What the table was computed from (`AssetLibrary.seriesStamp`).
    let stamp: String

    /// `buckets`: the asset's points at `width` over all time, ascending.
    init(_ buckets: [PriceBucket], width: Int64, indicators: [Indicator], stamp: String) {
        self.stamp = stamp
        let coarser = buckets.lastIndex { $0.width != width }
        coarserUntil = coarser.map { buckets[$0].start }
        let series = Array(buckets[(coarser.map { $0 + 1 } ?? 0)...])
        let closes = series.map(\.close.doubleValue)
        let columns = indicators.map { $0.values(closes) }
        var json: [UInt8] = []
        var csv: [UInt8] = []
        json.reserveCapacity(series.count * (60 + 28 * indicators.count))
        csv.reserveCapacity(series.count * (40 + 20 * indicators.count))
        var jsonEnds: [Int] = []
        var csvEnds: [Int] = []
        jsonEnds.reserveCapacity(series.count)
        csvEnds.reserveCapacity(series.count)
        for (index, bucket) in series.enumerated() {
            let time = bucket.start.iso8601
            json.append(contentsOf: "{\"timestamp\":\"\(time)\",\"close\":\(bucket.close.text)".utf8)
            csv.append(contentsOf: "\(time),\(bucket.close.text)".utf8)
            for (indicator, values) in zip(indicators, columns) {
                let number = IndicatorTable.number(values[index])
                json.append(contentsOf: ",\"\(indicator.column)\":\(number ?? "null")".utf8)
                csv.append(contentsOf: ",\(number ?? "")".utf8)
            }
            json.append(contentsOf: "},".utf8)
            csv.append(contentsOf: "\r\n".utf8)
            jsonEnds.append(json.count)
            csvEnds.append(csv.count)
        }
        rows = RenderedSpan(buckets: series, json: json, jsonEnds: jsonEnds, csv: csv, csvEnds: csvEnds)
    }

    /// An indicator value as text that reads back as the same double (Swift's shortest
    /// round-trip form, `1.5e-07` included, which JSON allows); nil where it is undefined or
    /// not finite (a close of 0 before a return, an overflow), which JSON cannot write.
    static func number(_ value: Double?) -> String? {
        guard let value, value.isFinite else { return nil }
        return value.description
    }

    /// The memory the table holds, for the cache's budget.
    var byteCount: Int {
        rows.json.count + rows.csv.count + (rows.jsonEnds.count + rows.csvEnds.count) * MemoryLayout<Int>.stride
            + rows.buckets.count * MemoryLayout<PriceBucket>.stride
    }

    static func json(_ asset: AssetLibrary.Asset, query: IndicatorQuery, rows: SeriesSlices) -> ByteBuffer {
        var head = AssetRendering.seriesHead(asset, query: query.series)
        head.raw(",\"indicators\":[")
        for (index, indicator) in query.indicators.enumerated() { head.raw(index == 0 ? "\"\(indicator.column)\"" : ",\"\(indicator.column)\"") }
        head.raw("],\"count\":\(rows.count),\"data\":[")
        return rows.jsonAnswer(head: head)
    }

    static func csv(query: IndicatorQuery, rows: SeriesSlices) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString((["timestamp", "close"] + query.indicators.map(\.column)).joined(separator: ",") + "\r\n")
        rows.write(json: false, to: &buffer)
        return buffer
    }
}

import NIOCore

/// A volatility ranking over one window at one snapshot, its rows rendered once (JSON objects
/// each followed by a comma, CSV lines), so an answer of any `limit` is a slice of bytes.
struct VolatilityRanking: Sendable {
    struct Entry: Sendable {
        let rank: Int
        let cmcId: Int64
        let symbol: String?
        let name: String?
        let volatility: Double
        let points: Int
    }

    let windowMilliseconds: Int64
    let at: Timestamp
    let generation: UInt64
    let entries: [Entry]
    let positions: [Int64: Int]
    let json: [UInt8]
    let jsonEnds: [Int]
    let csv: [UInt8]
    let csvEnds: [Int]

    static let csvHeader = "rank,cmc_id,symbol,name,volatility,points\r\n"

    init(windowMilliseconds: Int64, at: Timestamp, generation: UInt64, entries: [Entry]) {
        self.windowMilliseconds = windowMilliseconds
        self.at = at
        self.generation = generation
        self.entries = entries
        positions = Dictionary(entries.enumerated().map { ($1.cmcId, $0) }) { first, _ in first }
        var json = JSONWriter(reservingCapacity: entries.count * 110)
        var csv: [UInt8] = []
        csv.reserveCapacity(entries.count * 60)
        var jsonEnds: [Int] = []
        var csvEnds: [Int] = []
        for entry in entries {
            json.raw("{\"rank\":\(entry.rank),\"cmc_id\":\(entry.cmcId),\"symbol\":")
            RankingRendering.optionalString(entry.symbol, to: &json)
            json.raw(",\"name\":")
            RankingRendering.optionalString(entry.name, to: &json)
            json.raw(",\"volatility\":\(entry.volatility),\"points\":\(entry.points)},")
            jsonEnds.append(json.bytes.count)
            csv.append(contentsOf: "\(entry.rank),\(entry.cmcId),".utf8)
            RenderedSnapshot.appendCSVField(entry.symbol ?? "", to: &csv)
            csv.append(UInt8(ascii: ","))
            RenderedSnapshot.appendCSVField(entry.name ?? "", to: &csv)
            csv.append(contentsOf: ",\(entry.volatility),\(entry.points)\r\n".utf8)
            csvEnds.append(csv.count)
        }
        self.json = json.bytes
        self.jsonEnds = jsonEnds
        self.csv = csv
        self.csvEnds = csvEnds
    }

    /// `{window, at, count, data}` with the first `limit` rows.
    func jsonAnswer(window: String, limit: Int) -> ByteBuffer {
        let count = min(limit, entries.count)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(96 + (count == 0 ? 0 : jsonEnds[count - 1]))
        var head = JSONWriter(reservingCapacity: 96)
        head.raw("{\"window\":")
        head.string(window)
        head.raw(",\"at\":\"\(at.iso8601)\",\"count\":\(count),\"data\":[")
        buffer.writeBytes(head.bytes)
        // Each object carries a comma after it; the last one's goes.
        if count > 0 { json.withUnsafeBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<(jsonEnds[count - 1] - 1)])) } }
        buffer.writeString("]}")
        return buffer
    }

    func csvAnswer(limit: Int) -> ByteBuffer {
        let count = min(limit, entries.count)
        var buffer = ByteBuffer()
        buffer.writeString(VolatilityRanking.csvHeader)
        if count > 0 { csv.withUnsafeBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<csvEnds[count - 1]])) } }
        return buffer
    }
}

/// The n-period returns of every asset that has them at one instant, highest first.
struct ReturnRanking: Sendable {
    /// The intervals returns are ranked at: what the series keeps in hour and day buckets.
    enum Interval: String, Sendable, CaseIterable {
        case hour = "1h", day = "1d"

        var milliseconds: Int64 { self == .hour ? Rankings.hourMilliseconds : DailyCandle.dayMilliseconds }
    }

    struct Key: Hashable {
        let interval: Interval
        let periods: Int
        let at: Int64
    }

    struct Entry: Sendable {
        let rank: Int
        let cmcId: Int64
        let symbol: String?
        let name: String?
        let value: Double
        let close: DecimalNumber
        let closeBefore: DecimalNumber
    }

    let interval: Interval
    let periods: Int
    let at: Timestamp
    let generation: UInt64
    /// Highest return first; ranks shared by equal returns.
    let entries: [Entry]

    static let csvHeader = "side,rank,cmc_id,symbol,name,return,close,close_before\r\n"

    /// The `top` highest and the `bottom` lowest (lowest first; ranks stay the overall ones).
    func sides(top: Int, bottom: Int) -> (top: ArraySlice<Entry>, bottom: [Entry]) {
        (entries.prefix(top), Array(entries.suffix(bottom).reversed()))
    }

    func jsonAnswer(top: Int, bottom: Int) -> ByteBuffer {
        let (best, worst) = sides(top: top, bottom: bottom)
        var json = JSONWriter(reservingCapacity: 256 + (best.count + worst.count) * 160)
        json.raw("{\"periods\":\(periods),\"interval\":\"\(interval.rawValue)\",\"at\":\"\(at.iso8601)\",\"of\":\(entries.count),\"top\":[")
        func write(_ side: some Collection<Entry>) {
            for (index, entry) in side.enumerated() {
                if index > 0 { json.raw(",") }
                json.raw("{\"rank\":\(entry.rank),\"cmc_id\":\(entry.cmcId),\"symbol\":")
                RankingRendering.optionalString(entry.symbol, to: &json)
                json.raw(",\"name\":")
                RankingRendering.optionalString(entry.name, to: &json)
                json.raw(",\"return\":\(entry.value),\"close\":\(entry.close.text),\"close_before\":\(entry.closeBefore.text)}")
            }
        }
        write(best)
        json.raw("],\"bottom\":[")
        write(worst)
        json.raw("]}")
        return ByteBuffer(bytes: json.bytes)
    }

    func csvAnswer(top: Int, bottom: Int) -> ByteBuffer {
        let (best, worst) = sides(top: top, bottom: bottom)
        var csv = Array(ReturnRanking.csvHeader.utf8)
        for (side, entries) in [("top", Array(best)), ("bottom", worst)] {
            for entry in entries {
                csv.append(contentsOf: "\(side),\(entry.rank),\(entry.cmcId),".utf8)
                RenderedSnapshot.appendCSVField(entry.symbol ?? "", to: &csv)
                csv.append(UInt8(ascii: ","))
                RenderedSnapshot.appendCSVField(entry.name ?? "", to: &csv)
                csv.append(contentsOf: ",\(entry.value),\(entry.close.text),\(entry.closeBefore.text)\r\n".utf8)
            }
        }
        return ByteBuffer(bytes: csv)
    }
}

enum RankingRendering {
    /// A catalogue name or symbol, null for an asset the catalogue does not (yet) hold.
    static func optionalString(_ text: String?, to json: inout JSONWriter) {
        if let text { json.string(text) } else { json.raw("null") }
    }

    static let assetCSVHeader = "cmc_id,window,at,volatility,rank,of\r\n"

    /// `/assets/{id}/volatility`: the asset's line of the ranking, nulls when it is not ranked.
    static func assetJSON(cmcId: Int64, window: String, ranking: VolatilityRanking) -> ByteBuffer {
        let entry = ranking.positions[cmcId].map { ranking.entries[$0] }
        var json = JSONWriter(reservingCapacity: 160)
        json.raw("{\"cmc_id\":\(cmcId),\"window\":")
        json.string(window)
        json.raw(",\"at\":\"\(ranking.at.iso8601)\",\"volatility\":\(entry.map { "\($0.volatility)" } ?? "null"),")
        json.raw("\"rank\":\(entry.map { String($0.rank) } ?? "null"),\"of\":\(ranking.entries.count)}")
        return ByteBuffer(bytes: json.bytes)
    }

    static func assetCSV(cmcId: Int64, window: String, ranking: VolatilityRanking) -> ByteBuffer {
        let entry = ranking.positions[cmcId].map { ranking.entries[$0] }
        var csv = Array(assetCSVHeader.utf8)
        csv.append(contentsOf: "\(cmcId),".utf8)
        RenderedSnapshot.appendCSVField(window, to: &csv)
        csv.append(contentsOf: ",\(ranking.at.iso8601),\(entry.map { "\($0.volatility)" } ?? ""),\(entry.map { String($0.rank) } ?? ""),\(ranking.entries.count)\r\n".utf8)
        return ByteBuffer(bytes: csv)
    }
}

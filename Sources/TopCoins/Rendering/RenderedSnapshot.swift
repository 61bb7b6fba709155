import NIOCore

/// A snapshot rendered once, as the API serves it, so a request for the top N is a copy of
/// ready bytes: JSON rows and CSV lines are laid end to end with the offset after each row.
public final class RenderedSnapshot: Sendable {
    public let snapshot: MergedSnapshot
    let jsonHead: [UInt8]
    let jsonMiddle: [UInt8]
    let jsonRows: [UInt8]
    let jsonRowEnds: [Int]
    let csvRows: [UInt8]
    let csvRowEnds: [Int]

    public static let csvHeader = "Rank,Symbol,Price USD\r\n"

    public var timestamp: Timestamp { snapshot.timestamp }
    public var total: Int { snapshot.rows.count }

    public init(_ snapshot: MergedSnapshot) {
        self.snapshot = snapshot
        var head = JSONWriter()
        head.raw("{\"timestamp\":")
        head.string(snapshot.timestamp.iso8601)
        head.raw(",\"count\":")
        jsonHead = head.bytes

        var middle = JSONWriter()
        middle.raw(",\"total\":\(snapshot.rows.count),\"sources\":{")
        for (index, (role, source)) in [("prices", snapshot.prices), ("ranks", snapshot.ranks)].enumerated() {
            if index > 0 { middle.raw(",") }
            middle.string(role)
            middle.raw(":{\"source\":")
            middle.string(source.name)
            middle.raw(",\"fetched_at\":")
            middle.string(source.fetchedAt.iso8601)
            middle.raw("}")
        }
        middle.raw("},\"left_out\":{")
        for (index, reason) in snapshot.leftOut.keys.sorted().enumerated() {
            if index > 0 { middle.raw(",") }
            middle.string(reason)
            middle.raw(":\(snapshot.leftOut[reason]!)")
        }
        middle.raw("},\"data\":[")
        jsonMiddle = middle.bytes

        var rows = JSONWriter(reservingCapacity: snapshot.rows.count * 110)
        var rowEnds: [Int] = []
        rowEnds.reserveCapacity(snapshot.rows.count)
        var csv: [UInt8] = []
        csv.reserveCapacity(snapshot.rows.count * 32)
        var csvEnds: [Int] = []
        csvEnds.reserveCapacity(snapshot.rows.count)
        for row in snapshot.rows {
            if !rowEnds.isEmpty { rows.raw(",") }
            rows.raw("{\"rank\":\(row.rank),\"symbol\":")
            rows.string(row.symbol)
            rows.raw(",\"name\":")
            rows.string(row.name)
            rows.raw(",\"cmc_id\":\(row.cmcId),\"price_usd\":")
            rows.raw(row.price.text)
            rows.raw(",\"source_rank\":\(row.sourceRank)}")
            rowEnds.append(rows.bytes.count)

            csv.append(contentsOf: String(row.rank).utf8)
            csv.append(UInt8(ascii: ","))
            RenderedSnapshot.appendCSVField(row.symbol, to: &csv)
            csv.append(UInt8(ascii: ","))
            csv.append(contentsOf: row.price.text.utf8)
            csv.append(contentsOf: [0x0D, 0x0A])
            csvEnds.append(csv.count)
        }
        jsonRows = rows.bytes
        jsonRowEnds = rowEnds
        csvRows = csv
        csvRowEnds = csvEnds
    }

    /// The JSON document with the first `limit` rows.
    public func json(limit: Int) -> ByteBuffer {
        let count = min(limit, total)
        let rowBytes = count == 0 ? 0 : jsonRowEnds[count - 1]
        var buffer = ByteBuffer()
        buffer.reserveCapacity(jsonHead.count + 8 + jsonMiddle.count + rowBytes + 2)
        buffer.writeBytes(jsonHead)
        buffer.writeString(String(count))
        buffer.writeBytes(jsonMiddle)
        jsonRows.withUnsafeBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<rowBytes])) }
        buffer.writeString("]}")
        return buffer
    }

    /// The CSV document (header and the first `limit` rows).
    public func csv(limit: Int) -> ByteBuffer {
        let count = min(limit, total)
        let rowBytes = count == 0 ? 0 : csvRowEnds[count - 1]
        var buffer = ByteBuffer()
        buffer.reserveCapacity(RenderedSnapshot.csvHeader.utf8.count + rowBytes)
        buffer.writeString(RenderedSnapshot.csvHeader)
        csvRows.withUnsafeBytes { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<rowBytes])) }
        return buffer
    }

    /// RFC 4180: a field holding a comma, a quote or a line break is quoted, quotes doubled.
    static func appendCSVField(_ text: String, to bytes: inout [UInt8]) {
        let needsQuotes = text.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            bytes.append(contentsOf: text.utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

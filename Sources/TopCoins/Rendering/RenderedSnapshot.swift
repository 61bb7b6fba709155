import NIOCore
import Synchronization

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
    /// Rows in the snapshot; `snapshot.rows` may hold only the first of them (see `renderedRows`).
    public let total: Int
    /// Finished bodies by format and row count: most clients ask for the same few limits, and
    /// a `ByteBuffer` is shared, not copied, when it is sent again.
    private let bodies = Mutex<[BodyKey: ByteBuffer]>([:])

    struct BodyKey: Hashable {
        let csv: Bool
        let count: Int
    }

    static let cachedBodies = 16

    public static let csvHeader = "Rank,Symbol,Price USD\r\n"

    public var timestamp: Timestamp { snapshot.timestamp }
    /// How many rows can be served from this rendering.
    public var renderedRows: Int { snapshot.rows.count }

    /// Renders `snapshot`, which holds all rows or, for a past snapshot decoded only as far as
    /// a request needs, the first rows of `total`.
    public init(_ snapshot: MergedSnapshot, total: Int? = nil) {
        self.snapshot = snapshot
        self.total = total ?? snapshot.rows.count
        var head = JSONWriter()
        head.raw("{\"timestamp\":")
        head.string(snapshot.timestamp.iso8601)
        head.raw(",\"count\":")
        jsonHead = head.bytes

        var middle = JSONWriter()
        middle.raw(",\"total\":\(self.total),\"sources\":{")
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

    /// The JSON document with the first `limit` rows (at most `renderedRows`).
    public func json(limit: Int) -> ByteBuffer {
        cachedBody(BodyKey(csv: false, count: min(limit, renderedRows))) { renderJSON(count: $0) }
    }

    /// The CSV document (header and the first `limit` rows, at most `renderedRows`).
    public func csv(limit: Int) -> ByteBuffer {
        cachedBody(BodyKey(csv: true, count: min(limit, renderedRows))) { renderCSV(count: $0) }
    }

    private func cachedBody(_ key: BodyKey, render: (Int) -> ByteBuffer) -> ByteBuffer {
        if let body = bodies.withLock({ $0[key] }) { return body }
        let body = render(key.count)
        bodies.withLock { cache in
            if cache.count >= RenderedSnapshot.cachedBodies { cache.removeAll(keepingCapacity: true) }
            cache[key] = body
        }
        return body
    }

    func renderJSON(count: Int) -> ByteBuffer {
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

    func renderCSV(count: Int) -> ByteBuffer {
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

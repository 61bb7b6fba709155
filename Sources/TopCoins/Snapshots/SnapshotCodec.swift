/// The compact binary form of a merged snapshot in history (about 14 bytes per row for
/// CoinMarketCap's 16-17 digit prices):
///
/// ```
/// "TCS1"  timestamp  prices{source, fetched_at, entry}  ranks{source, fetched_at, entry}
/// left_out: count, (reason, n)...   rows: count, then per row
///   asset index (varint into AssetRegistry)
///   source_rank delta from the previous row (varint; ranking order means it only grows)
///   price: scale byte + zigzag mantissa, or 0xFF + text when it does not fit 64 bits
/// ```
/// The rank is the row's position. Prices come back digit for digit.
public enum SnapshotCodec {
    static let magic: [UInt8] = Array("TCS1".utf8)

    public static func encode(_ snapshot: MergedSnapshot, assetIndexes: [Int]) -> [UInt8] {
        precondition(assetIndexes.count == snapshot.rows.count)
        var writer = ByteWriter(reservingCapacity: 64 + snapshot.rows.count * 16)
        writer.bytes += magic
        writer.signed(snapshot.timestamp.milliseconds)
        for source in [snapshot.prices, snapshot.ranks] {
            writer.string(source.name)
            writer.signed(source.fetchedAt.milliseconds)
            writer.string(source.entryID)
        }
        let leftOut = snapshot.leftOut.sorted { $0.key < $1.key }
        writer.varint(leftOut.count)
        for (reason, count) in leftOut {
            writer.string(reason)
            writer.varint(count)
        }
        writer.varint(snapshot.rows.count)
        var previousSourceRank = 0
        for (row, assetIndex) in zip(snapshot.rows, assetIndexes) {
            writer.varint(assetIndex)
            writer.signed(Int64(row.sourceRank - previousSourceRank))
            previousSourceRank = row.sourceRank
            writer.price(row.price)
        }
        return writer.bytes
    }

    public enum DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        case corrupt(String)
        /// The snapshot names an asset the registry copy does not hold yet: refresh it.
        case unknownAsset(index: Int)

        public var description: String {
            switch self {
            case .corrupt(let detail): detail
            case .unknownAsset(let index): "asset \(index) is not in the registry"
            }
        }
    }

    public static func decode(_ bytes: [UInt8], registry: AssetRegistry) throws(DecodeError) -> MergedSnapshot {
        try decode(bytes, registry: registry, rowLimit: Int.max).snapshot
    }

    /// The snapshot with only its first `rowLimit` rows decoded (an API answer needs no more),
    /// and the number of rows it holds in all.
    public static func decode(_ bytes: [UInt8], registry: AssetRegistry, rowLimit: Int) throws(DecodeError) -> (snapshot: MergedSnapshot, totalRows: Int) {
        guard bytes.starts(with: magic) else { throw .corrupt("not a snapshot") }
        var reader = ByteReader(bytes)
        reader.position = magic.count
        do {
            func plausibleTime() throws -> Timestamp {
                let milliseconds = try reader.signed()
                guard let timestamp = Timestamp(plausible: milliseconds) else { throw DecodeError.corrupt("implausible timestamp \(milliseconds)") }
                return timestamp
            }
            let timestamp = try plausibleTime()
            var sources: [MergedSnapshot.Source] = []
            for _ in 0..<2 {
                sources.append(.init(name: try reader.string(), fetchedAt: try plausibleTime(), entryID: try reader.string()))
            }
            var leftOut: [String: Int] = [:]
            for _ in 0..<(try reader.int()) {
                let reason = try reader.string()
                leftOut[reason] = try reader.int()
            }
            let count = try reader.int()
            guard count <= bytes.count else { throw DecodeError.corrupt("row count \(count) exceeds the data") }
            var rows: [MergedSnapshot.Row] = []
            rows.reserveCapacity(count)
            var sourceRank = 0
            let assets = registry.assets
            for index in 0..<min(count, rowLimit) {
                let assetIndex = try reader.int()
                guard assetIndex < assets.count else { throw DecodeError.unknownAsset(index: assetIndex) }
                let (nextRank, overflow) = sourceRank.addingReportingOverflow(Int(try reader.signed()))
                guard !overflow, nextRank > 0 else { throw DecodeError.corrupt("invalid source_rank in row \(index + 1)") }
                sourceRank = nextRank
                let price: DecimalNumber
                do { price = try reader.price() } catch { throw DecodeError.corrupt("invalid price in row \(index + 1)") }
                let asset = assets[assetIndex]
                rows.append(.init(rank: index + 1, cmcId: asset.cmcId, symbol: asset.symbol, name: asset.name, price: price, sourceRank: sourceRank))
            }
            return (MergedSnapshot(timestamp: timestamp, prices: sources[0], ranks: sources[1], rows: rows, leftOut: leftOut), count)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .corrupt("\(error)")
        }
    }
}

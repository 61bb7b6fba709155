/// The symbols and names history refers to, each distinct (CMC id, symbol, name) stored once.
///
/// Snapshots store a small index into this append-only list instead of the text, which keeps
/// history compact while a rebrand still shows the old symbol in old snapshots. In Redis it
/// is the list `topcoins:assets`; the merger appends, the API reads new entries as it meets
/// indexes it does not know yet.
public struct AssetRegistry: Sendable {
    public struct Asset: Sendable, Hashable {
        public let cmcId: Int64
        public let symbol: String
        public let name: String

        public init(cmcId: Int64, symbol: String, name: String) {
            self.cmcId = cmcId
            self.symbol = symbol
            self.name = name
        }

        var encoded: [UInt8] {
            var writer = ByteWriter()
            writer.signed(cmcId)
            writer.string(symbol)
            writer.string(name)
            return writer.bytes
        }

        init(encoded bytes: [UInt8]) throws(ByteReader.CorruptData) {
            var reader = ByteReader(bytes)
            self.init(cmcId: try reader.signed(), symbol: try reader.string(), name: try reader.string())
        }
    }

    public private(set) var assets: [Asset] = []
    private var indexes: [Asset: Int] = [:]

    public init() {}

    public var count: Int { assets.count }

    /// Adds entries read from Redis, in list order.
    public mutating func append(encoded entries: [[UInt8]]) throws(SnapshotCodec.DecodeError) {
        for bytes in entries {
            let asset: Asset
            do {
                asset = try Asset(encoded: bytes)
            } catch {
                throw .corrupt("asset registry entry \(assets.count): \(error)")
            }
            indexes[asset] = assets.count
            assets.append(asset)
        }
    }

    /// The index of each asset, registering the new ones; returns the indexes and the encoded
    /// new entries to append in Redis.
    public mutating func indexes(for wanted: [Asset]) -> (indexes: [Int], added: [[UInt8]]) {
        var result: [Int] = []
        result.reserveCapacity(wanted.count)
        var added: [[UInt8]] = []
        for asset in wanted {
            if let index = indexes[asset] {
                result.append(index)
            } else {
                indexes[asset] = assets.count
                result.append(assets.count)
                assets.append(asset)
                added.append(asset.encoded)
            }
        }
        return (result, added)
    }

    /// Forgets entries past `count`: a write that registered them did not happen.
    public mutating func truncate(to count: Int) {
        guard count < assets.count else { return }
        for asset in assets[count...] { indexes[asset] = nil }
        assets.removeSubrange(count...)
    }
}

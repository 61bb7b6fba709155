/// Every asset TopCoins has met: each asset of a price listing and each asset history holds,
/// with the times it was first and last seen. Keyed by CMC id, since symbols are not unique;
/// a rename updates the symbol and name (the newest sighting wins) and keeps the asset's id,
/// so its history stays its own.
///
/// Recording is a merge (earliest first sighting, latest last sighting), so recording the
/// same listing twice, or listings out of order, gives the same catalogue.
public struct Catalogue: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let cmcId: Int64
        public fileprivate(set) var symbol: String
        public fileprivate(set) var name: String
        public fileprivate(set) var firstSeen: Timestamp
        public fileprivate(set) var lastSeen: Timestamp
    }

    public private(set) var entries: [Int64: Entry] = [:]

    public init() {}

    public var count: Int { entries.count }

    public mutating func record(_ asset: AssetRegistry.Asset, at time: Timestamp) {
        guard var entry = entries[asset.cmcId] else {
            entries[asset.cmcId] = Entry(cmcId: asset.cmcId, symbol: asset.symbol, name: asset.name, firstSeen: time, lastSeen: time)
            return
        }
        if time >= entry.lastSeen {
            entry.lastSeen = time
            entry.symbol = asset.symbol
            entry.name = asset.name
        }
        entry.firstSeen = min(entry.firstSeen, time)
        entries[asset.cmcId] = entry
    }

    static let magic: [UInt8] = Array("TCC1".utf8)

    /// Entries ascending by CMC id: the same catalogue always encodes to the same bytes.
    public var encoded: [UInt8] {
        var writer = ByteWriter(reservingCapacity: 8 + entries.count * 40)
        writer.bytes += Catalogue.magic
        writer.varint(entries.count)
        for entry in entries.values.sorted(by: { $0.cmcId < $1.cmcId }) {
            writer.signed(entry.cmcId)
            writer.string(entry.symbol)
            writer.string(entry.name)
            writer.signed(entry.firstSeen.milliseconds)
            writer.signed(entry.lastSeen.milliseconds)
        }
        return writer.bytes
    }

    /// Decodes what `encoded` wrote; entries with implausible times are refused as corrupt.
    public init(encoded bytes: [UInt8]) throws(SeriesCodec.CorruptSeries) {
        guard bytes.starts(with: Catalogue.magic) else { throw SeriesCodec.CorruptSeries(detail: "not a catalogue") }
        var reader = ByteReader(bytes)
        reader.position = Catalogue.magic.count
        do {
            let count = try reader.int()
            guard count <= bytes.count else { throw SeriesCodec.CorruptSeries(detail: "catalogue of \(count) entries in \(bytes.count) bytes") }
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let id = try reader.signed()
                let symbol = try reader.string()
                let name = try reader.string()
                guard let first = Timestamp(plausible: try reader.signed()), let last = Timestamp(plausible: try reader.signed()) else {
                    throw SeriesCodec.CorruptSeries(detail: "implausible time in catalogue entry \(id)")
                }
                entries[id] = Entry(cmcId: id, symbol: symbol, name: name, firstSeen: first, lastSeen: last)
            }
        } catch let error as SeriesCodec.CorruptSeries {
            throw error
        } catch {
            throw SeriesCodec.CorruptSeries(detail: "\(error)")
        }
    }
}

import TopCoins

// The snapshot codec, `SnapshotCodec.decode` after `AssetRegistry.append(encoded:)`, on a
// registry and body framed as in `SnapshotFraming`: every input gives a snapshot or a
// `DecodeError`; a decoded snapshot encodes back to bytes that decode to it again, and a
// decode limited to its first rows gives those rows and the same total.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let (entries, body) = SnapshotFraming.split(fuzzInput(start, count))
    var registry = AssetRegistry()
    do {
        try registry.append(encoded: entries)
    } catch {
        return 0
    }
    let snapshot: MergedSnapshot
    do {
        snapshot = try SnapshotCodec.decode(body, registry: registry)
    } catch {
        return 0
    }

    let limit = 2
    switch Result(catching: { () throws(SnapshotCodec.DecodeError) in try SnapshotCodec.decode(body, registry: registry, rowLimit: limit) }) {
    case .success(let limited):
        check(limited.totalRows == snapshot.rows.count, "a limited decode counts \(limited.totalRows) rows, the full one \(snapshot.rows.count)")
        check(limited.snapshot.rows == Array(snapshot.rows.prefix(limit)), "a limited decode gives other rows")
    case .failure(let error):
        check(false, "a limited decode fails where the full one succeeds: \(error)")
    }

    let assets = snapshot.rows.map { AssetRegistry.Asset(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) }
    let (indexes, added) = registry.indexes(for: assets)
    check(added.isEmpty, "a decoded row names an asset the registry does not hold")
    let encoded = SnapshotCodec.encode(snapshot, assetIndexes: indexes)
    do {
        check(try SnapshotCodec.decode(encoded, registry: registry) == snapshot, "the re-encoded snapshot decodes to another one")
    } catch {
        check(false, "the re-encoded snapshot does not decode: \(error)")
    }
    return 0
}

import TopCoins

// The stream-message decoder, `FetchedSnapshot(entry:)`, on stream entries framed as in
// `StreamEntryFraming`: an entry it reads must come back the same through `streamFields`,
// and one it refuses must be refused with the entry's id and a reason.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamEntry(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let entry = StreamEntryFraming.entry(from: fuzzInput(start, count))
    let snapshot: FetchedSnapshot
    do {
        snapshot = try FetchedSnapshot(entry: entry)
    } catch {
        check(error.entryID == entry.id && !error.reason.isEmpty, "a refusal without the entry id or a reason: \(error)")
        return 0
    }
    let written = StreamEntry(id: entry.id, fields: snapshot.streamFields.map { (name: $0.0, value: $0.1.bytes) })
    do {
        let reread = try FetchedSnapshot(entry: written)
        check(reread == snapshot, "the rewritten entry reads back as another snapshot")
    } catch {
        check(false, "the rewritten entry is refused: \(error)")
    }
    return 0
}

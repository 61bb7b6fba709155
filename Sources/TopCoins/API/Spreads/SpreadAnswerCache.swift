import Synchronization

/// Rendered `/spreads/summary` rows by the normalised query (books, whether every book was
/// asked (its rows name their book), width, first and last bucket, format), each valid while `SpreadStore.version()` stands: a hit costs the one GET
/// of the version. At most `byteLimit` bytes in all, the least recently used going first.
final class SpreadAnswerCache: Sendable {
    struct Key: Hashable {
        let books: [String]
        let all: Bool
        let width: SpreadSummary.Width
        let first: Int64
        let last: Int64
        let format: ListQuery.Format
    }

    /// The rows of an answer: JSON objects joined by commas, or CSV lines without the header.
    struct Rows: Sendable {
        let version: Int64
        let bytes: [UInt8]
        let count: Int
        /// The newest bucket's start, for `Last-Modified`.
        let newest: Timestamp?
    }

    struct State {
        var entries: [Key: (rows: Rows, lastUse: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    /// 0 keeps nothing: every request computes its answer.
    let byteLimit: Int
    private let state = Mutex(State())

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    func rows(_ key: Key, version: Int64) -> Rows? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.rows.version == version else { return nil }
            state.clock += 1
            state.entries[key]!.lastUse = state.clock
            return entry.rows
        }
    }

    func remember(_ rows: Rows, as key: Key) {
        let size = rows.bytes.count
        guard size <= byteLimit else { return }
        state.withLock { state in
            state.clock += 1
            if let old = state.entries.updateValue((rows, state.clock), forKey: key) { state.bytes -= old.rows.bytes.count }
            state.bytes += size
            guard state.bytes > byteLimit else { return }
            // Over budget: keep the most recently used, down to half the budget.
            var kept: [Key: (rows: Rows, lastUse: UInt64)] = [:]
            var bytes = 0
            for (key, entry) in state.entries.sorted(by: { $0.value.lastUse > $1.value.lastUse }) where bytes + entry.rows.bytes.count <= byteLimit / 2 {
                kept[key] = entry
                bytes += entry.rows.bytes.count
            }
            state.entries = kept
            state.bytes = bytes
        }
    }
}

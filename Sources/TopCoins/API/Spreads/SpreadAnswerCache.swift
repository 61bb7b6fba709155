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

    private let state: Mutex<LeastRecentlyUsed<Key, Rows>>

    /// 0 keeps nothing: every request computes its answer.
    init(byteLimit: Int) {
        state = Mutex(LeastRecentlyUsed(budget: byteLimit))
    }

    func rows(_ key: Key, version: Int64) -> Rows? {
        state.withLock { $0.value(key) }.flatMap { $0.version == version ? $0 : nil }
    }

    func remember(_ rows: Rows, as key: Key) {
        state.withLock { $0.insert(rows, cost: rows.bytes.count, as: key) }
    }
}

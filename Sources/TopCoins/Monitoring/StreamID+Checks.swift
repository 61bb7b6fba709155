extension StreamID {
    /// Whether `id` is a Redis stream id (`<ms>-<seq>`), as read back from stored state.
    static func isValid(_ id: some StringProtocol) -> Bool {
        let pieces = id.split(separator: "-", omittingEmptySubsequences: false)
        return pieces.count == 2 && pieces.allSatisfy { !$0.isEmpty && $0.count <= 20 && $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
    }

    /// The milliseconds part: when Redis' own clock added the entry.
    static func milliseconds(_ id: String) -> Int64 {
        Int64(clamping: parts(id).0)
    }
}

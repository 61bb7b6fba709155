extension RedisClient {
    /// What `INFO memory` says of Redis' memory limit.
    public struct MemoryInfo: Sendable, Equatable {
        public let usedBytes: Int
        /// 0 when no limit is set.
        public let maxBytes: Int
        public let policy: String

        /// Redis refuses writes (`-OOM`) once used memory passes a limit it may not evict
        /// below: under `noeviction` it evicts nothing.
        public var refusesWrites: Bool { maxBytes > 0 && usedBytes > maxBytes && policy == "noeviction" }

        /// Reads the `key:value` lines of an `INFO memory` reply; nil when a figure is missing.
        public init?(info text: String) {
            var fields: [Substring: Substring] = [:]
            for line in text.split(whereSeparator: \.isNewline) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon]] = line[line.index(after: colon)...]
            }
            guard let used = fields["used_memory"].flatMap({ Int($0) }), let max = fields["maxmemory"].flatMap({ Int($0) }) else { return nil }
            self.usedBytes = used
            self.maxBytes = max
            self.policy = fields["maxmemory_policy"].map(String.init) ?? ""
        }
    }

    /// `INFO memory`.
    public func memoryInfo() async throws(RedisError) -> MemoryInfo {
        let reply = try await send(["INFO", "memory"])
        guard let text = reply.string, let info = MemoryInfo(info: text) else { throw .unexpectedReply("INFO memory without used_memory and maxmemory") }
        return info
    }
}

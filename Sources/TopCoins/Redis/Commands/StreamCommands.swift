extension RedisClient {
    /// `XADD key MAXLEN ~ maxLength * field value ...`: appends an entry and returns its id.
    @discardableResult
    public func xadd(_ key: String, maxLength: Int, fields: [(String, RedisArgument)]) async throws(RedisError) -> String {
        try await send(RedisClient.xaddArguments(key, maxLength: maxLength, fields: fields)).string ?? ""
    }

    public static func xaddArguments(_ key: String, maxLength: Int, fields: [(String, RedisArgument)]) -> [RedisArgument] {
        var arguments: [RedisArgument] = ["XADD", RedisArgument(key), "MAXLEN", "~", RedisArgument(maxLength), "*"]
        for (name, value) in fields {
            arguments.append(RedisArgument(name))
            arguments.append(value)
        }
        return arguments
    }

    /// `XGROUP CREATE key group id MKSTREAM`; an existing group (`BUSYGROUP`) is fine.
    public func xgroupCreate(_ key: String, group: String, startingAt id: String = "0") async throws(RedisError) {
        do {
            try await send(["XGROUP", "CREATE", RedisArgument(key), RedisArgument(group), RedisArgument(id), "MKSTREAM"])
        } catch let error where error.serverCode == "BUSYGROUP" {
            return
        }
    }

    /// `XREADGROUP GROUP group consumer COUNT n BLOCK ms STREAMS key... id...`. With id `>`
    /// it waits for new entries; with `0` it returns this consumer's pending ones.
    public func xreadgroup(
        group: String, consumer: String, count: Int, blockMilliseconds: Int?, streams: [(key: String, id: String)]
    ) async throws(RedisError) -> [(key: String, entries: [StreamEntry])] {
        var arguments: [RedisArgument] = ["XREADGROUP", "GROUP", RedisArgument(group), RedisArgument(consumer), "COUNT", RedisArgument(count)]
        if let blockMilliseconds { arguments += ["BLOCK", RedisArgument(blockMilliseconds)] }
        arguments.append("STREAMS")
        arguments += streams.map { RedisArgument($0.key) }
        arguments += streams.map { RedisArgument($0.id) }
        return try RedisClient.parseStreams(try await send(arguments))
    }

    /// `XREAD COUNT n BLOCK ms STREAMS key id`: entries after `id`, waiting up to `ms`.
    public func xread(key: String, after id: String, count: Int, blockMilliseconds: Int) async throws(RedisError) -> [StreamEntry] {
        let reply = try await send(["XREAD", "COUNT", RedisArgument(count), "BLOCK", RedisArgument(blockMilliseconds), "STREAMS", RedisArgument(key), RedisArgument(id)])
        return try RedisClient.parseStreams(reply).first?.entries ?? []
    }

    static func parseStreams(_ reply: RedisValue) throws(RedisError) -> [(key: String, entries: [StreamEntry])] {
        guard reply != .null else { return [] }
        guard let streams = reply.array else { throw .unexpectedReply("streams \(reply)") }
        var result: [(key: String, entries: [StreamEntry])] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let key = pair[0].string else { throw .unexpectedReply("stream \(stream)") }
            result.append((key, try StreamEntry.parseList(pair[1])))
        }
        return result
    }

    /// `XACK key group id...`: returns how many entries were acknowledged.
    @discardableResult
    public func xack(_ key: String, group: String, ids: [String]) async throws(RedisError) -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await send(["XACK", RedisArgument(key), RedisArgument(group)] + ids.map { RedisArgument($0) }).int ?? 0
    }

    /// `XAUTOCLAIM key group consumer min-idle-ms start COUNT n`: takes over entries another
    /// consumer left pending; returns the cursor for the next call and the claimed entries.
    public func xautoclaim(
        _ key: String, group: String, consumer: String, minIdleMilliseconds: Int, start: String = "0-0", count: Int = 100
    ) async throws(RedisError) -> (next: String, entries: [StreamEntry]) {
        let reply = try await send([
            "XAUTOCLAIM", RedisArgument(key), RedisArgument(group), RedisArgument(consumer),
            RedisArgument(minIdleMilliseconds), RedisArgument(start), "COUNT", RedisArgument(count),
        ])
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else { throw .unexpectedReply("XAUTOCLAIM \(reply)") }
        return (next, try StreamEntry.parseList(parts[1]))
    }

    /// `XRANGE key start end [COUNT n]`, oldest first.
    public func xrange(_ key: String, from start: String = "-", to end: String = "+", count: Int? = nil) async throws(RedisError) -> [StreamEntry] {
        var arguments: [RedisArgument] = ["XRANGE", RedisArgument(key), RedisArgument(start), RedisArgument(end)]
        if let count { arguments += ["COUNT", RedisArgument(count)] }
        return try StreamEntry.parseList(try await send(arguments))
    }

    /// `XREVRANGE key end start [COUNT n]`, newest first.
    public func xrevrange(_ key: String, from end: String = "+", to start: String = "-", count: Int? = nil) async throws(RedisError) -> [StreamEntry] {
        var arguments: [RedisArgument] = ["XREVRANGE", RedisArgument(key), RedisArgument(end), RedisArgument(start)]
        if let count { arguments += ["COUNT", RedisArgument(count)] }
        return try StreamEntry.parseList(try await send(arguments))
    }
}
